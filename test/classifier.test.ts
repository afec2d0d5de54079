import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifierFromEngine, loadWith } from '../src/classifier/classifier.js';
import type { Prediction } from '../src/classifier/types.js';
import { DatasetError } from '../src/classifier/dataset_error.js';
import { DisposedError, ImageDecodeError, LwfmError } from '../src/errors.js';
import { fakeEngine, fakeNativeInfo, type FakePrepared, FAKE_C } from './support/fakes.js';

function make(noise = 0.6) {
  const engine = fakeEngine(noise);
  return { engine, classifier: classifierFromEngine(engine, fakeNativeInfo) };
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lwfm-classifier-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function makeFolder(name: string, sizes: Record<string, number>, extra: string[] = []): string {
  const dir = join(root, name);
  for (const [cls, n] of Object.entries(sizes)) {
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < n; i++) writeFileSync(join(dir, cls, `${cls}-${i}.png`), '');
  }
  for (const rel of extra) writeFileSync(join(dir, rel), '');
  return dir;
}

describe('FewShotClassifier with injected fakes', () => {
  it('returns one result per query in input order, with label, index, softmax probabilities and logits', async () => {
    const { classifier } = make(0);
    const summary = await classifier.setSupport(['cat-1', 'dog-1', 'cat-2', 'eel-1'], ['cat', 'dog', 'cat', 'eel']);
    expect(summary).toMatchObject({ way: 3, size: 4, labels: ['cat', 'dog', 'eel'], shotsPerClass: [2, 1, 1] });
    const results = await classifier.classify(['eel-9', 'cat-9', 'dog-9', 'cat-8']);
    expect(results.map((r) => r.label)).toEqual(['eel', 'cat', 'dog', 'cat']);
    expect(results.map((r) => r.index)).toEqual([2, 0, 1, 0]);
    expect(results.labels).toEqual(['cat', 'dog', 'eel']);
    for (const r of results as Prediction[]) {
      expect(r.logits).toHaveLength(3);
      const max = Math.max(...r.logits);
      const z = r.logits.reduce((s, l) => s + Math.exp(l - max), 0);
      r.probabilities.forEach((p, k) => expect(p).toBeCloseTo(Math.exp(r.logits[k]! - max) / z, 12));
    }
    expect(Object.keys(results.timings).sort()).toEqual(['backbone', 'decode', 'embed', 'head', 'other', 'total']);
    expect(results.timings.total).toBeGreaterThanOrEqual(0);
  });

  it('accepts numeric labels and Buffers', async () => {
    const { classifier } = make(0);
    await classifier.setSupport([Buffer.from('a-1'), Buffer.from('b-1')], [10, 20]);
    const results = await classifier.classify([Buffer.from('b-7'), Buffer.from('a-3')]);
    expect(results.map((r) => r.label)).toEqual([20, 10]);
  });

  it('isolates an unreadable query: its slot holds the error, the others still get predictions', async () => {
    const { classifier, engine } = make(0);
    await classifier.setSupport(['a-1', 'b-1'], ['a', 'b']);
    const results = await classifier.classify(['b-2', 'bad-image.jpg', 'a-2']);
    expect(results).toHaveLength(3);
    expect(results[0]!.label).toBe('b');
    expect(results[2]!.label).toBe('a');
    const failed = results[1]!;
    expect(failed.error).toBeInstanceOf(ImageDecodeError);
    expect(failed.error!.source).toBe('bad-image.jpg');
    expect(failed.label).toBeUndefined();
    expect(engine.head.scoredRows.at(-1)).toBe(2); // NaN rows never reach the head
    const allBad = await classifier.classify(['bad-1', 'bad-2']);
    expect(allBad.every((r) => r.error instanceof ImageDecodeError)).toBe(true);
  });

  it('refuses an unreadable support image and keeps the previous support set', async () => {
    const { classifier } = make(0);
    await classifier.setSupport(['a-1', 'b-1'], ['a', 'b']);
    await expect(classifier.setSupport(['a-1', 'bad-x'], ['a', 'c'])).rejects.toThrow(ImageDecodeError);
    expect(classifier.labels).toEqual(['a', 'b']);
    expect((await classifier.classify(['b-3']))[0]!.label).toBe('b');
  });

  it('addSupport grows the classes and keeps the existing shots', async () => {
    const { classifier } = make(0);
    await classifier.setSupport(['a-1'], ['a']);
    const s = await classifier.addSupport(['b-1', 'a-2'], ['b', 'a']);
    expect(s).toMatchObject({ way: 2, size: 3, labels: ['a', 'b'], shotsPerClass: [2, 1] });
    expect((await classifier.classify(['b-5', 'a-5'])).map((r) => r.label)).toEqual(['b', 'a']);
    // addSupport without a support set behaves as setSupport
    const fresh = make(0).classifier;
    expect((await fresh.addSupport(['x-1'], ['x'])).labels).toEqual(['x']);
  });

  it("concurrent addSupport calls keep each other's images", async () => {
    const { classifier } = make(0);
    await classifier.setSupport(['a-1'], ['a']);
    await Promise.all([
      classifier.addSupport(['b-1'], ['b']),
      classifier.addSupport(['c-1'], ['c']),
      classifier.addSupport(['d-1'], ['d']),
    ]);
    expect(classifier.labels).toEqual(['a', 'b', 'c', 'd']);
  });

  it('classifyEpisode equals classify on the same support, and leaves the stored support alone', async () => {
    const { classifier, engine } = make(0.6);
    const support = ['a-1', 'b-1', 'c-1', 'a-2'];
    const labels = ['a', 'b', 'c', 'a'];
    const queries = ['a-7', 'b-7', 'c-7', 'bad-q', 'a-8', 'c-9'];
    await classifier.setSupport(['z-1'], ['z']);
    const episode = await classifier.classifyEpisode(support, labels, queries);
    expect(classifier.labels).toEqual(['z']);
    expect(engine.backbone.calls.at(-1)).toEqual([...support, ...queries]); // one backbone batch
    expect(engine.head.prepared.at(-1)!.disposed).toBe(true); // one-off support released
    await classifier.setSupport(support, labels);
    const stored = await classifier.classify(queries);
    expect(episode.map((r) => r.error?.source ?? r.logits)).toEqual(stored.map((r) => r.error?.source ?? r.logits));
    expect(episode.labels).toEqual(stored.labels);
  });

  it('accepts tensor inputs', async () => {
    const { classifier } = make(0);
    const tensor = (values: number[]) => {
      const data = new Float32Array(values.length * 3 * 4);
      values.forEach((v, i) => data.fill(v, i * 12, (i + 1) * 12));
      return { data, dims: [values.length, 3, 2, 2] as [number, 3, number, number] };
    };
    const r = await classifier.classifyEpisode(tensor([1, 2]), ['one', 'two'], tensor([2, 1, 2]));
    expect(r.map((x) => x.label)).toEqual(['two', 'one', 'two']);
    const e = await classifier.embed(tensor([1]));
    expect(e.dims).toEqual([1, FAKE_C, 1]);
  });

  it('validates arguments with messages that say what was expected', async () => {
    const { classifier } = make();
    await expect(classifier.classify(['a-1'])).rejects.toMatchObject({ code: 'ERR_LWFM_NO_SUPPORT' });
    await expect(classifier.classify(['a-1'])).rejects.toBeInstanceOf(LwfmError);
    await expect(classifier.setSupport(['a-1', 'b-1'], ['a'])).rejects.toThrow(
      'Expected array of 2 labels (one per support image) for labels',
    );
    await expect(classifier.setSupport([], [])).rejects.toThrow(RangeError);
    await expect(classifier.setSupport(['a-1'], [Number.NaN])).rejects.toThrow(RangeError);
    await expect(classifier.setSupport([42 as unknown as string], ['a'])).rejects.toThrow(
      'Expected file path string or Uint8Array/Buffer of encoded image bytes for inputs[0] but received 42 of type number',
    );
    await expect(classifier.embed({ data: new Float32Array(5), dims: [1, 3, 2, 2] })).rejects.toThrow(/length 12/);
    await expect(classifier.evaluate(root, { way: -1 })).rejects.toThrow(
      'Expected positive integer for options.way but received -1 of type number',
    );
    await expect(classifier.evaluate(root, { seed: -3 })).rejects.toThrow(TypeError);
    await expect(loadWith(async () => make().engine, fakeNativeInfo, undefined, { device: 'tpu' as 'cpu' })).rejects.toThrow(
      "Expected one of 'auto', 'cpu', 'cuda' for options.device",
    );
    await expect(loadWith(async () => make().engine, fakeNativeInfo, '', {})).rejects.toThrow(TypeError);
  });

  it('embed reports per-image errors and stage timings', async () => {
    const { classifier } = make();
    const e = await classifier.embed(['a-1', 'bad-2']);
    expect(e.dims).toEqual([2, FAKE_C, 1]);
    expect(e.errors[0]).toBeNull();
    expect(e.errors[1]).toBeInstanceOf(ImageDecodeError);
    expect(Number.isNaN(e.data[FAKE_C])).toBe(true);
    expect(e.timings).toMatchObject({ decode: 1, backbone: 2, head: 0 });
    expect((await classifier.embed([])).dims).toEqual([0, FAKE_C, 1]);
  });

  it('info reports version, native build, devices and threads', async () => {
    const { classifier } = make();
    const info = classifier.info();
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.native.cuda).toBe(false);
    expect(info.devices).toEqual({ backbone: 'cpu', head: 'cpu' });
    expect(info.threads).toBe(2);
    expect(info.model.trained).toBe(false);
  });

  it('a support set in use by classify is released only after that classify finishes', async () => {
    const { classifier, engine } = make(0);
    await classifier.setSupport(['a-1', 'b-1'], ['a', 'b']);
    const first = engine.head.prepared.at(-1)!;
    let open!: () => void;
    engine.head.gate = new Promise((r) => (open = r));
    const pending = classifier.classify(['a-2']);
    await new Promise((r) => setTimeout(r, 10));
    engine.head.gate = undefined;
    await classifier.setSupport(['c-1', 'd-1'], ['c', 'd']);
    expect(first.disposed).toBe(false);
    open();
    expect((await pending)[0]!.label).toBe('a');
    expect(first.disposed).toBe(true);
  });

  it('throws DisposedError after dispose, releases everything, and disposes once', async () => {
    const { classifier, engine } = make();
    await classifier.setSupport(['a-1'], ['a']);
    const prepared = engine.head.prepared.at(-1) as FakePrepared;
    await classifier[Symbol.asyncDispose]();
    await classifier.dispose();
    expect(prepared.disposed).toBe(true);
    expect(engine.head.disposed).toBe(true);
    expect(engine.backbone.disposed).toBe(true);
    await expect(classifier.classify(['a-1'])).rejects.toBeInstanceOf(DisposedError);
    await expect(classifier.embed(['a-1'])).rejects.toBeInstanceOf(DisposedError);
    await expect(classifier.setSupport(['a-1'], ['a'])).rejects.toBeInstanceOf(DisposedError);
    await expect(classifier.classifyEpisode(['a-1'], ['a'], ['a-2'])).rejects.toBeInstanceOf(DisposedError);
    await expect(classifier.evaluate(root)).rejects.toBeInstanceOf(DisposedError);
    expect(() => classifier.info()).toThrow(DisposedError);
  });

  it('dispose during an in-flight classify makes it reject with DisposedError', async () => {
    const { classifier } = make();
    await classifier.setSupport(['a-1'], ['a']);
    const pending = classifier.classify(['a-2']);
    await classifier.dispose();
    await expect(pending).rejects.toThrow('FewShotClassifier was used after dispose()');
  });
});

describe('FewShotClassifier.evaluate with injected fakes', () => {
  it('is deterministic for a seed, reports accuracy, ci95, timings and progress', async () => {
    const dir = makeFolder('eval', { a: 6, b: 6, c: 6, d: 6, e: 6, f: 6 });
    const run = async (seed: number) => {
      const { classifier, engine } = make(1.0);
      const progress: number[] = [];
      const r = await classifier.evaluate(dir, { way: 5, shot: 1, query: 4, episodes: 12, seed, onProgress: (p) => progress.push(p.done) });
      return { r, progress, calls: engine.backbone.calls };
    };
    const a = await run(3);
    const b = await run(3);
    const c = await run(4);
    expect(a.r.episodeAccuracies).toEqual(b.r.episodeAccuracies);
    expect(a.calls).toEqual(b.calls);
    expect(a.calls).not.toEqual(c.calls);
    expect(a.progress).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(a.calls[0]).toHaveLength(5 * (1 + 4));
    const accs = a.r.episodeAccuracies;
    const m = accs.reduce((s, x) => s + x, 0) / accs.length;
    const std = Math.sqrt(accs.reduce((s, x) => s + (x - m) ** 2, 0) / accs.length);
    expect(a.r.accuracy).toBeCloseTo(m, 12);
    expect(a.r.ci95).toBeCloseTo((1.96 * std) / Math.sqrt(12), 12);
    expect(a.r.accuracy).toBeGreaterThan(0.2); // above chance on the fake data
    expect(a.r).toMatchObject({ episodes: 12, way: 5, shot: 1, query: 4, seed: 3, skippedImages: [] });
    expect(a.r.timings.backbone).toBe(24);
    expect(a.r.perEpisode.decode).toBe(1);
    expect(a.r.timings.total).toBeGreaterThan(0);
  });

  it('skips unreadable images with a warning and redraws the episode', async () => {
    const dir = makeFolder('evalbad', { a: 4, b: 4, c: 3 }, ['a/bad-a.png', 'c/bad-c.png']);
    const { classifier, engine } = make();
    const warnings: string[] = [];
    const r = await classifier.evaluate(dir, { way: 3, shot: 1, query: 2, episodes: 10, seed: 1, onWarning: (m) => warnings.push(m) });
    expect(r.skippedImages.sort()).toEqual([join(dir, 'a/bad-a.png'), join(dir, 'c/bad-c.png')]);
    expect(warnings.length).toBe(2);
    expect(warnings[0]).toMatch(/Skipping unreadable image .*bad-/);
    expect(r.episodeAccuracies).toHaveLength(10);
    // every scored query set came from a clean episode
    expect(engine.head.scoredRows.every((q) => q === 6)).toBe(true);
  });

  it('fails with a DatasetError when skipping leaves a class too small', async () => {
    const dir = makeFolder('evaltoosmall', { a: 2, b: 3 }, ['a/bad-1.png']);
    const { classifier } = make();
    await expect(classifier.evaluate(dir, { way: 2, shot: 1, query: 2, episodes: 50, onWarning: () => {} })).rejects.toThrow(DatasetError);
  });

  it('names a class with fewer images than shot + query before running anything', async () => {
    const dir = makeFolder('evalsmall', { a: 5, b: 5, tiny: 2 });
    const { classifier, engine } = make();
    await expect(classifier.evaluate(dir, { way: 2, shot: 1, query: 3 })).rejects.toThrow(/tiny \(2\)/);
    await expect(classifier.evaluate(join(root, 'missing'))).rejects.toThrow(/does not exist/);
    expect(engine.backbone.calls).toHaveLength(0);
  });

  it('stops on an aborted signal', async () => {
    const dir = makeFolder('evalabort', { a: 3, b: 3 });
    const { classifier } = make();
    const ac = new AbortController();
    ac.abort();
    await expect(classifier.evaluate(dir, { way: 2, shot: 1, query: 1, signal: ac.signal })).rejects.toThrow(/abort/i);
  });
});
