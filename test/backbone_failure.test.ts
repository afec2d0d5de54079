/**
 * A backbone worker that fails as a whole is a BackboneError on the images of its job, never an
 * ImageDecodeError; evaluate does not skip those images as unreadable; the pool replaces a
 * dead worker. Two real failures: a bundle whose ONNX graph loads but cannot run (every session
 * run fails inside ONNX Runtime), and worker threads that exit or throw (a pool of real threads
 * running test/support/exiting_worker.ts, the pool's own code unchanged).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Backbone } from '../src/backbone/backbone.js';
import { WorkerPool } from '../src/backbone/pool.js';
import type { WorkerInit } from '../src/backbone/protocol.js';
import { BackboneError, FewShotClassifier, ImageDecodeError, defaultBundle, loadBundle } from '../src/index.js';
import { BACKBONE_ONNX, MODEL_JSON } from '../src/model/bundle.js';
import { encodeModel } from '../src/model/onnx/builder.js';
import { decodeModel } from '../src/model/onnx/inspect.js';
import { scanImageFolder } from '../src/classifier/image_folder.js';
import { packageRoot } from '../src/package_info.js';

let dir: string;
let brokenDir: string;
let files: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lwfm-backbone-failure-'));
  const source = await defaultBundle();
  brokenDir = join(dir, 'broken');
  mkdirSync(brokenDir);
  copyFileSync(join(source.dir, MODEL_JSON), join(brokenDir, MODEL_JSON));
  // The same graph, with one more node: 'features' reshaped to one channel too many. The
  // declared output shape is unchanged, so the bundle loads and the session is created, but
  // every run fails in ONNX Runtime (N x C x P floats cannot become N x (C+1) x P).
  const { graph } = decodeModel(readFileSync(source.backbonePath));
  const c = source.config.channels.reduce((a, b) => a + b, 0);
  const f = source.config.featureSize;
  const nodes = graph.nodes.map((n) => ({ ...n, outputs: n.outputs.map((o) => (o === 'features' ? 'features_before' : o)) }));
  const broken = {
    ...graph,
    nodes: [...nodes, { op: 'Reshape', inputs: ['features_before', 'broken_shape'], outputs: ['features'] }],
    initializers: [...graph.initializers, { name: 'broken_shape', dims: [4], int64: [0, c + 1, f, f] }],
  };
  writeFileSync(join(brokenDir, BACKBONE_ONNX), encodeModel(broken, { producer: 'lwfm-spm-test', version: '0' }));
  files = scanImageFolder(join(packageRoot, 'samples'))
    .classes.slice(0, 2)
    .flatMap((k) => k.files.slice(0, 3));
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('a backbone whose session runs fail', () => {
  it('reports a BackboneError naming each image of the failed job, not an ImageDecodeError', async () => {
    await using backbone = await Backbone.create(await loadBundle(brokenDir), { device: 'cpu', workers: 1, threads: 1 });
    const batch = await backbone.embed([...files, join(dir, 'missing.jpg')]);
    batch.errors.slice(0, files.length).forEach((e, i) => {
      expect(e).toBeInstanceOf(BackboneError);
      expect(e).not.toBeInstanceOf(ImageDecodeError);
      expect((e as BackboneError).code).toBe('ERR_LWFM_BACKBONE');
      expect((e as BackboneError).source).toBe(files[i]);
      expect(e!.message).toMatch(/Backbone worker failed while embedding .*: the job failed in the worker: .*Reshape/i);
    });
    // The unreadable file is still an image problem: it never reached the session.
    expect(batch.errors[files.length]).toBeInstanceOf(ImageDecodeError);
    expect(Number.isNaN(batch.data[0])).toBe(true);
  }, 60_000);

  it('makes classify report BackboneError slots and evaluate fail with it instead of skipping the images', async () => {
    await using classifier = await FewShotClassifier.load(brokenDir, { device: 'cpu', workers: 1, threads: 1 });
    // Support images must all embed: the first failure is thrown as is.
    await expect(classifier.classifyEpisode(files.slice(0, 2), ['a', 'b'], files.slice(2, 3))).rejects.toBeInstanceOf(BackboneError);
    // A stored support set (as embeddings: no backbone run), then queries through the broken backbone.
    const [c, p] = [classifier.info().model.channels.reduce((a, b) => a + b, 0), classifier.info().model.featureSize ** 2];
    const features = Float32Array.from({ length: 2 * c * p }, (_, i) => Math.sin(i));
    await classifier.importSupport({ features, dims: [2, c, p], labels: ['a', 'b'] });
    const results = await classifier.classify(files.slice(0, 2));
    expect(results.map((r) => r.error?.constructor.name)).toEqual(['BackboneError', 'BackboneError']);
    expect(results.map((r) => r.error?.source)).toEqual(files.slice(0, 2));
    const warnings: string[] = [];
    const run = classifier.evaluate(join(packageRoot, 'samples'), {
      way: 2,
      shot: 1,
      query: 1,
      episodes: 2,
      onWarning: (m) => warnings.push(m),
    });
    await expect(run).rejects.toBeInstanceOf(BackboneError);
    expect(warnings).toEqual([]); // nothing was skipped as unreadable
  }, 60_000);
});

describe('worker threads that die', () => {
  const url = new URL('./support/exiting_worker.ts', import.meta.url);
  const init = {} as WorkerInit; // the test worker reads no settings

  async function until(check: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('fails every job the dead worker held, replaces it, and runs later jobs', async () => {
    const pool = await WorkerPool.start(1, init, url);
    try {
      expect((await pool.run({ type: 'images', images: ['ok'] }, [])).ok).toEqual([0]);
      const held = pool.run({ type: 'images', images: ['slow'] }, []);
      const crash = pool.run({ type: 'images', images: ['exit'] }, []);
      await expect(crash).rejects.toThrow(/worker stopped while running the job: it exited with code 7/);
      await expect(held).rejects.toThrow(/worker stopped/);
      // A job sent while the only worker is being replaced waits for the replacement.
      const next = await pool.run({ type: 'images', images: ['a', 'b'] }, []);
      expect(next.ok).toEqual([0, 1]);
      expect(pool.replaced).toBe(1);
      expect(pool.size).toBe(1);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it('treats an uncaught error in a worker the same way, and keeps the other workers serving', async () => {
    const pool = await WorkerPool.start(2, init, url);
    try {
      await expect(pool.run({ type: 'images', images: ['throw'] }, [])).rejects.toThrow(/simulated uncaught error/);
      expect(pool.size).toBe(1); // the other worker still serves while the replacement starts
      expect((await pool.run({ type: 'images', images: ['ok'] }, [])).ok).toEqual([0]);
      await until(() => pool.replaced === 1 && pool.size === 2, 'the replacement worker');
    } finally {
      await pool.close();
    }
  }, 60_000);
});
