/**
 * End to end on the embedded default model: generated images in an ImageFolder
 * (tools/make_samples.mjs into a temp dir), the real backbone and the native head.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { FewShotClassifier, type Prediction } from '../src/index.js';
import { Head } from '../src/head.js';
import { headOptionsOf } from '../src/model/bundle.js';
import { defaultBundle } from '../src/model/default_bundle.js';
import { scanImageFolder } from '../src/classifier/image_folder.js';
import { ImageDecodeError } from '../src/errors.js';
import { repoRoot } from './support/cli.js';

let dir: string;
let data: string;
let classifier: FewShotClassifier;
let support: string[];
let labels: string[];
let queries: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lwfm-e2e-'));
  data = join(dir, 'data');
  execFileSync(process.execPath, [join(repoRoot, 'tools', 'make_samples.mjs'), data], { stdio: 'pipe' });
  const folder = scanImageFolder(data).classes.slice(0, 5);
  support = folder.flatMap((c) => c.files.slice(0, 2));
  labels = folder.flatMap((c) => [c.name, c.name]);
  queries = folder.flatMap((c) => c.files.slice(2, 4));
  classifier = await FewShotClassifier.load(undefined, { device: 'cpu', threads: 2, workers: 1 });
});

afterAll(async () => {
  await classifier?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('FewShotClassifier on the default model', () => {
  it('classify == classifyEpisode == Head.score on embed outputs', async () => {
    const bundle = await defaultBundle();
    const { config } = bundle;
    const embedded = await classifier.embed([...support, ...queries]);
    expect(embedded.errors.every((e) => e === null)).toBe(true);
    const [n, c, p] = embedded.dims;
    expect(n).toBe(support.length + queries.length);
    expect(c).toBe(config.channels.reduce((a, b) => a + b, 0));
    expect(p).toBe(config.featureSize ** 2);

    const head = new Head({ ...headOptionsOf(bundle), device: 'cpu' });
    const names = [...new Set(labels)];
    const prepared = await head.prepareSupport(
      embedded.data.slice(0, support.length * c * p),
      labels.map((l) => names.indexOf(l)),
    );
    const direct = await head.score(prepared, embedded.data.slice(support.length * c * p));
    prepared.dispose();
    head.dispose();

    const episode = await classifier.classifyEpisode(support, labels, queries);
    await classifier.setSupport(support, labels);
    const stored = await classifier.classify(queries);
    expect(episode.labels).toEqual(names);
    expect(stored.labels).toEqual(names);
    queries.forEach((_, i) => {
      const e = episode[i] as Prediction;
      const s = stored[i] as Prediction;
      expect(e.error).toBeUndefined();
      const row = Array.from(direct.subarray(i * names.length, (i + 1) * names.length));
      // classifyEpisode embeds the same batch as embed() did: identical logits. classify()
      // embeds the queries alone, and ONNX Runtime may round a different batch differently.
      expect(e.logits).toEqual(row);
      s.logits.forEach((l, k) => expect(Math.abs(l - row[k]!)).toBeLessThan(1e-4));
      expect(e.label).toBe(s.label);
      const sum = e.probabilities.reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 12);
    });
    for (const t of [episode.timings, stored.timings]) {
      expect(t.total).toBeGreaterThan(0);
      expect(t.backbone).toBeGreaterThan(0);
      expect(t.head).toBeGreaterThan(0);
      // The wall-clock stages add up to the total; the workers' busy times are not parts of it.
      expect(t.embed).toBeGreaterThan(0);
      expect(t.other).toBeGreaterThanOrEqual(0);
      expect(Math.abs(t.embed + t.head + t.other - t.total)).toBeLessThan(1e-6 * t.total);
    }
  });

  it('maps numeric labels and isolates an unreadable query', async () => {
    const corrupt = join(dir, 'corrupt.jpg');
    writeFileSync(corrupt, 'this is not a JPEG');
    await classifier.setSupport(
      support,
      labels.map((l) => l.length),
    ); // label = name length: a number
    const results = await classifier.classify([queries[0]!, corrupt, queries[1]!]);
    expect(typeof results[0]!.label).toBe('number');
    expect(results[1]!.error).toBeInstanceOf(ImageDecodeError);
    expect(results[1]!.error!.source).toBe(corrupt);
    expect(typeof results[2]!.label).toBe('number');
  });

  it('evaluate is deterministic for a seed', async () => {
    const options = { way: 5, shot: 1, query: 3, episodes: 4, seed: 11 };
    const a = await classifier.evaluate(data, options);
    const b = await classifier.evaluate(data, options);
    expect(a.episodeAccuracies).toEqual(b.episodeAccuracies);
    expect(a.accuracy).toBe(b.accuracy);
    expect(a.ci95).toBe(b.ci95);
    expect(a.episodes).toBe(4);
    expect(a.timings.backbone).toBeGreaterThan(0);
    expect(a.timings.head).toBeGreaterThan(0);
    expect(a.overhead.embedMs).toBeGreaterThan(0);
  });

  it('skips an unreadable image during evaluate with a warning', async () => {
    // 3 classes of 5 images, episodes of 1 + 3 per class: the damaged image is drawn
    // in the first episode for this seed, and its class still has 4 readable images.
    const broken = join(dir, 'broken');
    for (const c of scanImageFolder(data).classes.slice(0, 3)) {
      mkdirSync(join(broken, c.name), { recursive: true });
      for (const f of c.files.slice(0, 5)) copyFileSync(f, join(broken, c.name, basename(f)));
    }
    const victim = scanImageFolder(broken).classes[1]!.files[2]!;
    writeFileSync(victim, 'garbage');
    const warnings: string[] = [];
    const r = await classifier.evaluate(broken, { way: 3, shot: 1, query: 3, episodes: 2, seed: 1, onWarning: (m) => warnings.push(m) });
    expect(r.skippedImages).toEqual([victim]);
    expect(warnings.join('\n')).toContain(victim);
    expect(r.episodeAccuracies).toHaveLength(2);
  });

  it('reports its build and devices', () => {
    const info = classifier.info();
    expect(info.devices).toEqual({ backbone: 'cpu', head: 'cpu' });
    expect(info.model.trained).toBe(false);
    expect(typeof info.native.cuda).toBe('boolean');
  });
});

describe('exportSupport / importSupport', () => {
  it('a support set moved as embeddings gives the same logits without a backbone run', async () => {
    await classifier.setSupport(support, labels);
    const snapshot = classifier.exportSupport();
    expect(snapshot.dims[0]).toBe(support.length);
    expect(snapshot.labels).toEqual(labels);
    const expected = await classifier.classify(queries);
    const other = await FewShotClassifier.load(undefined, { device: 'cpu', threads: 1, workers: 1 });
    try {
      const summary = await other.importSupport(snapshot);
      expect(summary.way).toBe(new Set(labels).size);
      expect(summary.timings.backbone).toBe(0);
      snapshot.features.fill(Number.NaN); // the classifier owns its copy
      const got = await other.classify(queries);
      got.forEach((r, i) => {
        expect(r.label).toBe(expected[i]!.label);
        r.logits!.forEach((v, k) => expect(v).toBeCloseTo(expected[i]!.logits![k]!, 5));
      });
    } finally {
      await other.dispose();
    }
  });

  it('rejects a snapshot of another shape with a RangeError naming dims', async () => {
    const snapshot = classifier.exportSupport();
    const [n, c, p] = snapshot.dims;
    await expect(classifier.importSupport({ ...snapshot, dims: [n, c + 1, p] })).rejects.toThrow(/snapshot\.dims/);
    await expect(classifier.importSupport({ ...snapshot, labels: snapshot.labels.slice(1) })).rejects.toBeInstanceOf(RangeError);
    await expect(classifier.importSupport({ ...snapshot, features: snapshot.features.subarray(1) })).rejects.toThrow(/snapshot\.features/);
  });
});
