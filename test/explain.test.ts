/**
 * classifier.explain and renderExplanation end to end: the default model and a small bundle
 * with matcher MLPs, the real backbone and the native head. The decomposition must be the
 * score itself: each explained logit equals classify()'s for the same image, and
 * (g + M) / T equals the logit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { FewShotClassifier, ImageDecodeError, renderExplanation, type Explanation } from '../src/index.js';
import { scanImageFolder } from '../src/classifier/image_folder.js';
import { matcherTensors, smallConfig, writeSmallBundle } from './helpers/small_bundle.js';
import { XorShift32 } from './helpers/episode_rng.js';
import { repoRoot } from './support/cli.js';

let dir: string;
let support: string[];
let labels: string[];
let queries: string[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwfm-explain-'));
  const data = join(dir, 'data');
  execFileSync(process.execPath, [join(repoRoot, 'tools', 'make_samples.mjs'), data], { stdio: 'pipe' });
  const folder = scanImageFolder(data).classes.slice(0, 5);
  support = folder.flatMap((c) => c.files.slice(0, 2));
  labels = folder.flatMap((c) => [c.name, c.name]);
  queries = folder.flatMap((c) => c.files.slice(2, 3));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A bundle of the default weights cut after tap 1, with seeded random matcher MLPs, matcherWeight 1. */
function bundleWithMatcher(): string {
  const matcher = matcherTensors([64]);
  const rng = new XorShift32(77);
  for (const t of matcher.values()) for (let i = 0; i < t.data.length; i++) t.data[i] = (2 * rng.uniform() - 1) * 0.25;
  return writeSmallBundle(join(dir, 'matcher-bundle'), { config: smallConfig({ matcherWeight: 1, topK: 2 }), matcher });
}

function expectDecomposition(ex: Explanation, logits: number[]): void {
  for (const c of ex.classes) {
    expect(Math.abs(c.logit - logits[c.index]!)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs((c.global + c.matching) / ex.temperature - c.logit)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(c.logit)));
    // M is the mean over the class's shots of m(q, s).
    const mean = c.supports.reduce((a, s) => a + s.match, 0) / c.supports.length;
    expect(c.matching).toBeCloseTo(mean, 6);
  }
}

for (const variant of ['default model', 'bundle with matcher MLPs'] as const) {
  describe(`classifier.explain on the ${variant}`, () => {
    let classifier: FewShotClassifier;
    beforeAll(async () => {
      classifier = await FewShotClassifier.load(variant === 'default model' ? undefined : bundleWithMatcher(), {
        device: 'cpu',
        threads: 2,
        workers: 1,
      });
      await classifier.setSupport(support, labels);
    });
    afterAll(async () => classifier?.dispose());

    it('explained logits equal classify() and (g + M) / T', async () => {
      for (const q of queries.slice(0, 3)) {
        const [r] = await classifier.classify([q]);
        const ex = await classifier.explain(q, { topClasses: 5 });
        expect(ex.classes).toHaveLength(5);
        expect(ex.prediction.label).toBe(r!.label);
        expect(ex.prediction.probability).toBeCloseTo(r!.probabilities![r!.index!]!, 6);
        expect(ex.classes.map((c) => c.logit)).toEqual([...ex.classes.map((c) => c.logit)].sort((a, b) => b - a));
        expect(ex.query.source).toBe(q);
        expectDecomposition(ex, r!.logits!);
        for (const c of ex.classes) {
          expect(c.supports).toHaveLength(2);
          for (const s of c.supports) {
            expect(labels[s.support]).toBe(c.label);
            expect(s.source).toBe(support[s.support]);
            expect(s.taps).toHaveLength(ex.channels.length);
            for (const t of s.taps) {
              expect(t.supportAttention).toHaveLength(ex.featureSize ** 2);
              expect([...t.assignment!].sort((a, b) => a - b)).toEqual([...Array(ex.featureSize ** 2).keys()]); // a permutation
            }
          }
        }
      }
    });
  });
}

describe('renderExplanation', () => {
  let classifier: FewShotClassifier;
  beforeAll(async () => {
    classifier = await FewShotClassifier.load(undefined, { device: 'cpu', threads: 2, workers: 1 });
    await classifier.setSupport(support, labels);
  });
  afterAll(async () => classifier?.dispose());

  it('is a PNG of the documented width whose pixels depend on the query', async () => {
    const a = await renderExplanation(await classifier.explain(queries[0]!), { width: 800 });
    const b = await renderExplanation(await classifier.explain(queries[3]!), { width: 800 });
    const [ma, mb] = await Promise.all([sharp(a).metadata(), sharp(b).metadata()]);
    expect(ma.format).toBe('png');
    expect(ma.width).toBe(800);
    expect(mb.height).toBe(ma.height);
    const [ra, rb] = await Promise.all([sharp(a).raw().toBuffer(), sharp(b).raw().toBuffer()]);
    let differing = 0;
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) differing++;
    expect(differing).toBeGreaterThan(ra.length / 100);
  });

  it('draws a grey tile where only the embedding is known, and rejects non-explanations', async () => {
    const ex = await classifier.explain(readFileSync(queries[1]!), { topClasses: 1 });
    ex.classes[0]!.supports[0]!.source = undefined;
    const png = await renderExplanation(ex);
    expect((await sharp(png).metadata()).width).toBe(960);
    await expect(renderExplanation({} as Explanation)).rejects.toBeInstanceOf(TypeError);
    await expect(renderExplanation(ex, { width: 100 })).rejects.toBeInstanceOf(RangeError);
  });
});

describe('classifier.explain errors', () => {
  let classifier: FewShotClassifier;
  beforeAll(async () => {
    classifier = await FewShotClassifier.load(undefined, { device: 'cpu', threads: 1, workers: 1 });
  });
  afterAll(async () => classifier?.dispose());

  it('no support set, unknown class, unreadable image, bad options', async () => {
    await expect(classifier.explain(queries[0]!)).rejects.toMatchObject({ code: 'ERR_LWFM_NO_SUPPORT' });
    await classifier.setSupport(support, labels);
    await expect(classifier.explain(queries[0]!, { classes: ['no-such-class'] })).rejects.toThrow(/no-such-class/);
    await expect(classifier.explain(queries[0]!, { classes: ['no-such-class'] })).rejects.toBeInstanceOf(RangeError);
    const bad = join(dir, 'corrupt.png');
    writeFileSync(bad, Buffer.from('not an image at all'));
    await expect(classifier.explain(bad)).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(classifier.explain(join(dir, 'missing.png'))).rejects.toBeInstanceOf(ImageDecodeError);
    await expect(classifier.explain(queries[0]!, { topClasses: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(classifier.explain([queries[0]!, queries[1]!] as unknown as string)).rejects.toBeInstanceOf(TypeError);
  });

  it('explains a chosen class (the true one of a wrong prediction) next to the predicted one', async () => {
    const ex = await classifier.explain(queries[0]!, { classes: [labels[8]!, labels[0]!] });
    expect(ex.classes.map((c) => c.label).sort()).toEqual([labels[0], labels[8]].sort());
  });
});
