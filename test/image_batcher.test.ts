/**
 * The worker's continuous batching (src/backbone/image_batcher.ts) with a fake decoder and a
 * fake session: every image's features reach its job's row whatever order decodes finish
 * in and however images were grouped into runs; failures stay with their image or run. And
 * the property it relies on, with the real session: rows of any batch equal the same rows of
 * a larger batch, bit for bit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { ImageBatcher } from '../src/backbone/image_batcher.js';
import type { JobOutcome } from '../src/backbone/protocol.js';
import { defaultBundle } from '../src/model/default_bundle.js';
import { fillUniform, streamKey } from '../src/model/rng.js';
import { rng } from './helpers/seeded_rng.js';

const IMAGE = 3; // floats per fake image
const FEATURE = 2; // floats per fake feature row

/** Fake image inputs are numbers; negative ones fail to decode. Features: [10 v, 10 v + 1]. */
function harness(opts: { seed: number; maxRun?: number; minRun?: number; failRunWith?: number }) {
  const r = rng(opts.seed);
  const done: JobOutcome[] = [];
  const failed: { id: number; message: string }[] = [];
  const runs: number[] = [];
  let running = false;
  let overlapped = false;
  const batcher = new ImageBatcher<number>({
    imageFloats: IMAGE,
    featureLength: FEATURE,
    maxRun: opts.maxRun,
    minRun: opts.minRun,
    decode: (v, out, offset) =>
      new Promise((resolve, reject) =>
        setTimeout(() => {
          if (v < 0) reject(new Error(`cannot decode ${v}\nline two`));
          else {
            out.fill(v, offset, offset + IMAGE);
            resolve();
          }
        }, Math.floor(r() * 4)),
      ),
    run: async (input, count) => {
      if (running) overlapped = true;
      running = true;
      runs.push(count);
      expect(input.length).toBe(count * IMAGE);
      await new Promise((resolve) => setTimeout(resolve, Math.floor(r() * 3)));
      running = false;
      const values = Array.from({ length: count }, (_, k) => input[k * IMAGE]!);
      if (opts.failRunWith !== undefined && values.includes(opts.failRunWith)) throw new Error('session failed');
      return { features: Float32Array.from(values.flatMap((v) => [10 * v, 10 * v + 1])), ms: count };
    },
    done: (res) => done.push(res),
    failed: (id, message) => failed.push({ id, message }),
    describe: (reason) => (reason as Error).message.split('\n')[0]!,
  });
  const settled = async (jobs: number): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (done.length + failed.length < jobs || !batcher.idle) {
      if (Date.now() > deadline) throw new Error(`${done.length} done + ${failed.length} failed of ${jobs} jobs after 5 s (idle: ${batcher.idle})`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  return { batcher, done, failed, runs, settled, overlapped: () => overlapped };
}

describe('ImageBatcher', () => {
  it('puts every image in its own row whatever the decode order and grouping', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const h = harness({ seed, maxRun: 7, minRun: 3 });
      const jobs = [[1, 2, 3, 4, 5], [6, 7], [8, 9, 10, 11, 12, 13, 14, 15, 16], [17]];
      jobs.forEach((images, id) => h.batcher.add(id, images));
      await h.settled(jobs.length);
      expect(h.failed).toEqual([]);
      expect(h.overlapped()).toBe(false);
      expect(Math.max(...h.runs)).toBeLessThanOrEqual(7);
      expect(h.runs.reduce((a, b) => a + b, 0)).toBe(17);
      for (const [id, images] of jobs.entries()) {
        const res = h.done.find((d) => d.id === id)!;
        expect(res.ok).toEqual(images.map((_, i) => i));
        expect(Array.from(res.features)).toEqual(images.flatMap((v) => [10 * v, 10 * v + 1]));
        expect(res.errors).toEqual([]);
        expect(res.backboneMs).toBeCloseTo(images.length, 9); // each image's share of its run
      }
    }
  });

  it('groups images of several jobs into one run when they are ready together', async () => {
    const h = harness({ seed: 9, maxRun: 80, minRun: 80 }); // runs only once nothing is left to decode
    h.batcher.add(0, [1, 2, 3]);
    h.batcher.add(1, [4, 5]);
    await h.settled(2);
    expect(h.runs).toEqual([5]);
  });

  it('keeps a decode failure with its image and runs the others', async () => {
    const h = harness({ seed: 3, maxRun: 4, minRun: 1 });
    h.batcher.add(0, [1, -2, 3, -4]);
    h.batcher.add(1, [-5]);
    h.batcher.add(2, []);
    await h.settled(3);
    const job0 = h.done.find((d) => d.id === 0)!;
    expect(job0.ok).toEqual([0, 2]);
    expect(Array.from(job0.features)).toEqual([10, 11, 30, 31]);
    expect(job0.errors).toEqual([
      { index: 1, message: 'cannot decode -2' },
      { index: 3, message: 'cannot decode -4' },
    ]);
    const job1 = h.done.find((d) => d.id === 1)!;
    expect(job1.ok).toEqual([]);
    expect(job1.features.length).toBe(0);
    expect(h.done.find((d) => d.id === 2)!.ok).toEqual([]);
  });

  it('fails the jobs of a failed run once each, and finishes the others', async () => {
    const h = harness({ seed: 4, maxRun: 2, minRun: 2, failRunWith: 3 });
    h.batcher.add(0, [1, 2]);
    await h.settled(1);
    h.batcher.add(1, [3, 4, 5]);
    h.batcher.add(2, [6, 7]);
    await h.settled(3);
    expect(h.failed.map((f) => f.id)).toContain(1);
    expect(h.failed.filter((f) => f.id === 1)).toHaveLength(1);
    expect(h.failed[0]!.message).toBe('session failed');
    expect(Array.from(h.done.find((d) => d.id === 0)!.features)).toEqual([10, 11, 20, 21]);
    const job2 = h.done.find((d) => d.id === 2);
    if (job2) expect(Array.from(job2.features)).toEqual([60, 61, 70, 71]);
    else expect(h.failed.map((f) => f.id)).toContain(2); // shared the failed run with job 1
  });
});

describe('the session computes each image on its own', () => {
  let cacheDir: string;
  let session: ort.InferenceSession;
  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'lwfm-batcher-'));
    const bundle = await defaultBundle({ cacheDir });
    session = await ort.InferenceSession.create(bundle.backbonePath, { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  });
  afterAll(async () => {
    await session?.release();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('gives every row of a batch bit-identical features in smaller batches and from a view', async () => {
    const per = 3 * 84 * 84;
    const n = 24;
    const x = fillUniform(new Float32Array(n * per), streamKey(1, 11), -2, 2);
    const run = async (data: Float32Array, count: number) =>
      (await session.run({ images: new ort.Tensor('float32', data, [count, 3, 84, 84]) })).features!.data as Float32Array;
    const all = await run(x, n);
    const len = all.length / n;
    for (const [a, b] of [[0, 1], [5, 13], [13, 24]] as const) {
      const copy = await run(x.slice(a * per, b * per), b - a);
      const view = await run(x.subarray(a * per, b * per), b - a); // byteOffset != 0
      expect(Buffer.compare(Buffer.from(copy.buffer, copy.byteOffset, copy.byteLength), Buffer.from(all.buffer, all.byteOffset + a * len * 4, (b - a) * len * 4))).toBe(0);
      expect(Buffer.compare(Buffer.from(view.buffer, view.byteOffset, view.byteLength), Buffer.from(copy.buffer, copy.byteOffset, copy.byteLength))).toBe(0);
    }
  });
});
