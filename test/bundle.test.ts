import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, truncateSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Module paths, not src/index.js: index loads the native addon, which these tests do not need.
import { loadBundle } from '../src/model/bundle.js';
import { defaultBundle } from '../src/model/default_bundle.js';
import { ModelBundleError } from '../src/errors.js';
import { writeSmallBundle, smallConfig, matcherTensors } from './helpers/small_bundle.js';
import { readOnnxSignature } from '../src/model/onnx/inspect.js';
import { readFileSync } from 'node:fs';

let root: string;
let n = 0;
const fresh = (): string => join(root, `b${n++}`);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lwfm-bundle-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function expectBundleError(dir: string, file: string, problem: RegExp): Promise<void> {
  const err = await loadBundle(dir).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ModelBundleError);
  const e = err as ModelBundleError;
  expect(e.code).toBe('ERR_LWFM_MODEL_BUNDLE');
  expect(e.file).toBe(join(dir, file));
  expect(e.message).toContain(join(dir, file));
  expect(e.message).toMatch(problem);
}

describe('loadBundle', () => {
  it('loads a valid bundle without a matcher', async () => {
    const dir = writeSmallBundle(fresh());
    const b = await loadBundle(dir);
    expect(b.dir).toBe(dir);
    expect(b.backbonePath).toBe(join(dir, 'backbone.onnx'));
    expect(b.config.taps).toEqual([1]);
    expect(b.matcher).toBeUndefined();
  });

  it('loads matcher weights with their shapes, in tap order', async () => {
    const dir = writeSmallBundle(fresh(), { matcher: matcherTensors([64]) });
    const b = await loadBundle(dir);
    expect(b.matcher).toHaveLength(1);
    expect(b.matcher![0]!.w1.length).toBe(32 * 64);
    expect(b.matcher![0]!.w1[0]).toBeCloseTo(0.01);
    expect(b.matcher![0]!.w2[0]).toBeCloseTo(-0.01);
  });

  it('writes the documented ONNX signature', () => {
    const dir = writeSmallBundle(fresh(), { onnx: { taps: [0, 2], featureSize: 5 } });
    const sig = readOnnxSignature(readFileSync(join(dir, 'backbone.onnx')));
    expect(sig.opset).toBe(17);
    expect(sig.inputs).toEqual([{ name: 'images', elemType: 1, dims: ['N', 3, 84, 84] }]);
    expect(sig.outputs).toEqual([{ name: 'features', elemType: 1, dims: ['N', 128, 5, 5] }]);
  });

  it('rejects a non-string directory with a TypeError', async () => {
    await expect(loadBundle(42 as unknown as string)).rejects.toThrow(TypeError);
  });

  it('names a missing model.json', async () => {
    const dir = writeSmallBundle(fresh());
    unlinkSync(join(dir, 'model.json'));
    await expectBundleError(dir, 'model.json', /file is missing/);
  });

  it('names a missing backbone.onnx', async () => {
    const dir = writeSmallBundle(fresh());
    unlinkSync(join(dir, 'backbone.onnx'));
    await expectBundleError(dir, 'backbone.onnx', /file is missing/);
  });

  it('names bad JSON', async () => {
    const dir = writeSmallBundle(fresh());
    writeFileSync(join(dir, 'model.json'), '{ "schema": ');
    await expectBundleError(dir, 'model.json', /not valid JSON/);
  });

  it('rejects an unknown schema version', async () => {
    const dir = writeSmallBundle(fresh(), { config: { ...smallConfig(), schemaVersion: 2 } });
    await expectBundleError(dir, 'model.json', /schemaVersion but received 2/);
  });

  it('rejects a wrong schema name, bad taps, channels that do not match the taps, bad numbers', async () => {
    await expectBundleError(writeSmallBundle(fresh(), { config: { ...smallConfig(), schema: 'other' } }), 'model.json', /schema/);
    await expectBundleError(writeSmallBundle(fresh(), { config: { ...smallConfig(), taps: [8, 7] } }), 'model.json', /strictly increasing/);
    await expectBundleError(writeSmallBundle(fresh(), { config: { ...smallConfig(), taps: [9] } }), 'model.json', /taps/);
    await expectBundleError(
      writeSmallBundle(fresh(), { config: { ...smallConfig(), channels: [128] } }),
      'model.json',
      /expected \[64\].*for channels but received \[128\]/,
    );
    await expectBundleError(writeSmallBundle(fresh(), { config: { ...smallConfig(), temperature: 0 } }), 'model.json', /temperature/);
    await expectBundleError(writeSmallBundle(fresh(), { config: { ...smallConfig(), std: [1, 0, 1] } }), 'model.json', /std/);
    await expectBundleError(writeSmallBundle(fresh(), { config: { ...smallConfig(), topK: 10 } }), 'model.json', /topK/);
    await expectBundleError(writeSmallBundle(fresh(), { config: { ...smallConfig(), resize: 80 } }), 'model.json', /resize/);
    const { provenance: _p, ...noProv } = smallConfig();
    await expectBundleError(writeSmallBundle(fresh(), { config: noProv }), 'model.json', /provenance/);
  });

  it('rejects an ONNX output that does not match model.json', async () => {
    // graph pools tap 1 to 3x3, model.json says 4x4
    await expectBundleError(
      writeSmallBundle(fresh(), { config: smallConfig({ featureSize: 4 }) }),
      'backbone.onnx',
      /\[N, 64, 3, 3\].*\[N, 64, 4, 4\]/,
    );
    // graph has taps [0, 1] (128 channels), model.json only tap 1
    await expectBundleError(writeSmallBundle(fresh(), { onnx: { taps: [0, 1], featureSize: 3 } }), 'backbone.onnx', /features/);
    // input size differs from crop
    await expectBundleError(writeSmallBundle(fresh(), { config: smallConfig({ crop: 80, resize: 88 }) }), 'backbone.onnx', /images/);
  });

  it('rejects a damaged ONNX file', async () => {
    const dir = writeSmallBundle(fresh());
    truncateSync(join(dir, 'backbone.onnx'), statSync(join(dir, 'backbone.onnx')).size - 1000);
    await expectBundleError(dir, 'backbone.onnx', /not a readable ONNX model/);
    writeFileSync(join(dir, 'backbone.onnx'), 'hello, not protobuf');
    await expectBundleError(dir, 'backbone.onnx', /ONNX/);
  });

  it('rejects wrong matcher shapes, missing and extra matcher tensors, bad safetensors', async () => {
    const wrong = matcherTensors([64]);
    wrong.set('matcher.0.w1', { shape: [64, 32], data: new Float32Array(64 * 32) });
    await expectBundleError(
      writeSmallBundle(fresh(), { matcher: wrong }),
      'matcher.safetensors',
      /matcher\.0\.w1 has shape \[64, 32\], expected \[32, 64\]/,
    );
    const missing = matcherTensors([64]);
    missing.delete('matcher.0.w2');
    await expectBundleError(writeSmallBundle(fresh(), { matcher: missing }), 'matcher.safetensors', /lacks tensor matcher\.0\.w2/);
    await expectBundleError(
      writeSmallBundle(fresh(), { matcher: matcherTensors([64, 64]) }),
      'matcher.safetensors',
      /do not use: matcher\.1/,
    );
    const nan = matcherTensors([64]);
    nan.get('matcher.0.w1')!.data[5] = NaN;
    await expectBundleError(writeSmallBundle(fresh(), { matcher: nan }), 'matcher.safetensors', /non-finite value at index 5/);
    const dir = writeSmallBundle(fresh());
    writeFileSync(join(dir, 'matcher.safetensors'), Buffer.from([1, 2, 3]));
    await expectBundleError(dir, 'matcher.safetensors', /not a readable safetensors/);
  });
});

describe('defaultBundle', () => {
  it('builds the untrained default model once, caches it, and rebuilds a damaged cache', async () => {
    const cacheDir = fresh();
    const [a, b] = await Promise.all([defaultBundle({ cacheDir }), defaultBundle({ cacheDir })]);
    expect(a.dir).toBe(join(cacheDir, 'default-1'));
    expect(b.dir).toBe(a.dir);
    expect(a.config.provenance.trained).toBe(false);
    expect(a.config.provenance.source).toMatch(/UNTRAINED/);
    expect(a.config.taps).toEqual([7, 8]);
    expect(a.config.channels).toEqual([512, 512]);
    expect(a.matcher).toBeUndefined();
    const mtime = statSync(a.backbonePath).mtimeMs;
    const again = await defaultBundle({ cacheDir });
    expect(statSync(again.backbonePath).mtimeMs).toBe(mtime);
    truncateSync(a.backbonePath, 100);
    const rebuilt = await defaultBundle({ cacheDir });
    expect(statSync(rebuilt.backbonePath).size).toBeGreaterThan(40e6);
  });

  it('honours LWFM_SPM_CACHE and checks its options', async () => {
    await expect(defaultBundle({ cacheDir: 3 as unknown as string })).rejects.toThrow(TypeError);
    await expect(defaultBundle('x' as unknown as { cacheDir?: string })).rejects.toThrow(TypeError);
    const env = fresh();
    process.env.LWFM_SPM_CACHE = env;
    try {
      const b = await defaultBundle();
      expect(b.dir).toBe(join(env, 'default-1'));
    } finally {
      delete process.env.LWFM_SPM_CACHE;
    }
  });
});
