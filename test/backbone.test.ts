import { describe, expect, it, beforeAll, afterAll, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backbone } from '../src/backbone/backbone.js';
import { gpuLooksPresent, CUDA_INSTALL_HINT } from '../src/backbone/device.js';
import { _resetCudaFallbackWarning } from '../src/device.js';
import { defaultBundle } from '../src/model/default_bundle.js';
import type { ModelBundle } from '../src/model/bundle.js';
import { DeviceUnavailableError, DisposedError, ImageDecodeError, ModelBundleError } from '../src/errors.js';
import { fillUniform, streamKey } from '../src/model/rng.js';
import { DEFAULT_SEED } from '../src/model/default_weights.js';
import { diff, readF32 } from './helpers/tensors.js';
import { measureStalls } from './helpers/loop_stall.js';

const IMAGES = join(import.meta.dirname, 'fixtures', 'images');
const img = (n: string): string => join(IMAGES, n);
const GOOD = ['scene.jpg', 'upscale_rgba.png', 'square.webp', 'animated.gif', 'exif_rotated.jpg', 'gray.png'].map(img);

let cacheDir: string;
let bundle: ModelBundle;
let backbone: Backbone;

beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'lwfm-backbone-'));
  bundle = await defaultBundle({ cacheDir });
  backbone = await Backbone.create(bundle, { device: 'cpu', threads: 2 });
});
afterAll(async () => {
  await backbone?.dispose();
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('default model', () => {
  it('equals a PyTorch forward of the same seeded weights (tools/fixtures/make_default_model_fixture.py)', async () => {
    const meta = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'default_model', 'meta.json'), 'utf8'));
    const [n, , s] = meta.inputDims as number[];
    const x = fillUniform(
      new Float32Array(n! * 3 * s! * s!),
      streamKey(DEFAULT_SEED, meta.inputStream),
      meta.inputRange[0],
      meta.inputRange[1],
    );
    expect(Array.from(x.subarray(0, 4))).toEqual(meta.inputFirst);
    const batch = await backbone.embed({ data: x, dims: [n!, 3, s!, s!] });
    expect(batch.dims).toEqual([n, 1024, 9]);
    const d = diff(batch.data, readF32(join(import.meta.dirname, 'fixtures', 'default_model', 'features.bin')));
    console.log(
      `[default model vs PyTorch] max abs ${d.maxAbs.toExponential(2)}, max abs/(1+|ref|) ${d.maxRel.toExponential(2)}, rms of features ${meta.rms.toFixed(3)}`,
    );
    expect(d.maxRel).toBeLessThan(1e-4);
    // "well scaled": features neither vanish nor explode after eight residual blocks
    expect(meta.rms).toBeGreaterThan(0.1);
    expect(meta.rms).toBeLessThan(100);
  });
});

describe('Backbone.embed', () => {
  it('embeds paths and bytes identically, one row per image, in input order', async () => {
    const bytes = GOOD.map((p) => readFileSync(p));
    const a = await backbone.embed(GOOD);
    const b = await backbone.embed(bytes);
    expect(a.dims).toEqual([GOOD.length, 1024, 9]);
    expect(a.errors).toEqual(GOOD.map(() => null));
    expect(b.data).toEqual(a.data);
    expect(a.data.every(Number.isFinite)).toBe(true);
    const single = await backbone.embed([GOOD[3]!]);
    expect(diff(single.data, a.data.subarray(3 * 9216, 4 * 9216)).maxRel).toBeLessThan(1e-5);
    expect(a.timings.total).toBeGreaterThan(0);
    expect(a.timings.backbone).toBeGreaterThan(0);
  });

  it('reports bad images as ImageDecodeError naming them and still embeds the others', async () => {
    const inputs = [GOOD[0]!, img('corrupt.jpg'), img('missing.jpg'), new Uint8Array([1, 2, 3]), img('not_an_image.png'), GOOD[1]!];
    const r = await backbone.embed(inputs);
    const ref = await backbone.embed([GOOD[0]!, GOOD[1]!]);
    expect(r.errors[0]).toBeNull();
    expect(r.errors[5]).toBeNull();
    for (const [i, name] of [
      [1, img('corrupt.jpg')],
      [2, img('missing.jpg')],
      [3, '<buffer #3>'],
      [4, img('not_an_image.png')],
    ] as const) {
      expect(r.errors[i]).toBeInstanceOf(ImageDecodeError);
      expect((r.errors[i] as ImageDecodeError).source).toBe(name);
      expect(r.errors[i]!.message).toContain(name);
      expect(r.data.subarray(i * 9216, (i + 1) * 9216).every(Number.isNaN)).toBe(true);
    }
    expect(r.errors[2]!.message).toMatch(/missing/);
    expect(diff(r.data.subarray(0, 9216), ref.data.subarray(0, 9216)).maxRel).toBeLessThan(1e-5);
    expect(diff(r.data.subarray(5 * 9216), ref.data.subarray(9216)).maxRel).toBeLessThan(1e-5);
    const allBad = await backbone.embed([img('missing.jpg')]);
    expect(allBad.errors[0]).toBeInstanceOf(ImageDecodeError);
    expect(Number.isNaN(allBad.data[0])).toBe(true);
  });

  it('places rows and NaN rows correctly when a batch spans several jobs with bad images at job edges', async () => {
    // Jobs hold 16 images: bad images at the first and last row of jobs, and a whole bad job.
    const bad = new Set([0, 15, 16, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 49]);
    const inputs = Array.from({ length: 50 }, (_, i) => (bad.has(i) ? img('corrupt.jpg') : GOOD[i % GOOD.length]!));
    const r = await backbone.embed(inputs);
    const ref = await backbone.embed(GOOD);
    expect(r.dims).toEqual([50, 1024, 9]);
    inputs.forEach((_, i) => {
      const row = r.data.subarray(i * 9216, (i + 1) * 9216);
      if (bad.has(i)) {
        expect(r.errors[i]).toBeInstanceOf(ImageDecodeError);
        expect(row.every(Number.isNaN)).toBe(true);
      } else {
        expect(r.errors[i]).toBeNull();
        const g = i % GOOD.length;
        expect(diff(row, ref.data.subarray(g * 9216, (g + 1) * 9216)).maxRel).toBeLessThan(1e-5);
      }
    });
  });

  it('splits a large tensor into jobs of 80 rows with the same rows as smaller calls, leaving the input untouched', async () => {
    const n = 170; // jobs of 80, 80 and 10 rows, copied in separate loop turns
    const per = 3 * 84 * 84;
    const x = fillUniform(new Float32Array(n * per), streamKey(1, 3), -1, 1);
    const copy = x.slice();
    const all = await backbone.embed({ data: x, dims: [n, 3, 84, 84] });
    expect(all.errors.every((e) => e === null)).toBe(true);
    expect(all.data.length).toBe(n * 9216);
    expect(Buffer.compare(Buffer.from(x.buffer), Buffer.from(copy.buffer))).toBe(0); // toEqual is slow on 3.6M floats
    for (const [a, b] of [
      [76, 84],
      [158, 162],
      [166, 170],
    ] as const) {
      const part = await backbone.embed({ data: x.subarray(a * per, b * per), dims: [b - a, 3, 84, 84] });
      expect(diff(all.data.subarray(a * 9216, b * 9216), part.data).maxRel).toBeLessThan(1e-5);
    }
  });

  it('handles empty batches and validates inputs', async () => {
    expect((await backbone.embed([])).dims).toEqual([0, 1024, 9]);
    expect((await backbone.embed({ data: new Float32Array(0), dims: [0, 3, 84, 84] })).dims).toEqual([0, 1024, 9]);
    await expect(backbone.embed([42 as unknown as string])).rejects.toThrow(
      /Expected image path string or Uint8Array.*inputs\[0\].*42 of type number/,
    );
    await expect(backbone.embed([''])).rejects.toThrow(TypeError);
    await expect(backbone.embed({ data: new Float32Array(10), dims: [1, 3, 84, 84] })).rejects.toThrow(RangeError);
    await expect(backbone.embed({ data: new Float32Array(3 * 64 * 64), dims: [1, 3, 64, 64] })).rejects.toThrow(/\[N, 3, 84, 84\]/);
    await expect(backbone.embed({ data: [1, 2] as unknown as Float32Array, dims: [1, 3, 84, 84] })).rejects.toThrow(TypeError);
    await expect(backbone.embed(null as unknown as string[])).rejects.toThrow(TypeError);
  });

  it('splits large batches across workers with the same results', async () => {
    const inputs = Array.from({ length: 40 }, (_, i) => GOOD[i % GOOD.length]!);
    await using two = await Backbone.create(bundle, { device: 'cpu', workers: 2, threads: 1 });
    const a = await two.embed(inputs);
    const b = await backbone.embed(inputs);
    expect(a.errors.every((e) => e === null)).toBe(true);
    expect(diff(a.data, b.data).maxRel).toBeLessThan(1e-5);
    const x = fillUniform(new Float32Array(37 * 3 * 84 * 84), streamKey(1, 2), -1, 1);
    const c = await two.embed({ data: x, dims: [37, 3, 84, 84] });
    const d = await backbone.embed({ data: x, dims: [37, 3, 84, 84] });
    expect(diff(c.data, d.data).maxRel).toBeLessThan(1e-5);
    expect(x[0]).toBe(fillUniform(new Float32Array(1), streamKey(1, 2), -1, 1)[0]); // caller's tensor untouched
  });

  it('never blocks the event loop for 20 ms while embedding (120 images; the benchmark measures 500)', async () => {
    // 120 instead of 500 images keeps the test short on 2 shared cores. A late timer has two
    // causes: the main thread was busy (our code blocked the loop: what this test bounds) or it
    // waited for a CPU on an overloaded machine (reported, not asserted); see helpers/loop_stall.ts.
    const inputs = Array.from({ length: 120 }, (_, i) => GOOD[i % GOOD.length]!);
    await using bb = await Backbone.create(bundle, { device: 'cpu', threads: 1 });
    await bb.embed(inputs.slice(0, 4)); // warm up the session
    // A blocking bug shows in every attempt; a callback preempted on an overloaded machine rarely
    // three times in a row, so the best of three attempts is bounded.
    let best = Infinity;
    for (let attempt = 1; attempt <= 3 && best >= 20; attempt++) {
      let total = 0;
      const r = await measureStalls(async () => {
        const batch = await bb.embed(inputs);
        expect(batch.errors.every((e) => e === null)).toBe(true);
        total = batch.timings.total;
      });
      console.log(
        `[event loop] attempt ${attempt}: embedding 120 images in ${total.toFixed(0)} ms: longest gap between loop turns ${r.maxGapMs.toFixed(1)} ms, ` +
          `loop active (running callbacks) within one gap at most ${r.maxBusyMs.toFixed(1)} ms (main-thread CPU ${r.maxCpuMs.toFixed(1)} ms)`,
      );
      best = Math.min(best, r.maxBusyMs);
    }
    expect(best).toBeLessThan(20);
  });
});

describe('Backbone.create and dispose', () => {
  it("throws DeviceUnavailableError with the install hint for device 'cuda' without CUDA", async () => {
    const err = await Backbone.create(bundle, { device: 'cuda' }).catch((e: unknown) => e);
    if (!(err instanceof Error)) {
      await (err as Backbone).dispose();
      console.warn('[skip] CUDA is usable on this machine: the unavailable-device path cannot be checked here');
      return;
    }
    expect(err).toBeInstanceOf(DeviceUnavailableError);
    expect(err.message).toContain(CUDA_INSTALL_HINT);
    expect((err as DeviceUnavailableError).code).toBe('ERR_LWFM_DEVICE_UNAVAILABLE');
  });

  it("'auto' picks the CPU, quietly when no GPU is present", async () => {
    _resetCudaFallbackWarning(); // the fallback warning is once per process and part
    const warn = vi.spyOn(process, 'emitWarning');
    try {
      await using bb = await Backbone.create(bundle);
      expect(bb.device).toBe('cpu');
      expect(bb.config).toEqual(bundle.config);
      if (!gpuLooksPresent()) expect(warn).not.toHaveBeenCalled();
      else
        expect(warn).toHaveBeenCalledWith(
          expect.stringContaining(CUDA_INSTALL_HINT),
          expect.objectContaining({ code: 'LWFM_CUDA_FALLBACK' }),
        );
    } finally {
      warn.mockRestore();
    }
  });

  it('validates its arguments', async () => {
    await expect(Backbone.create(bundle, { device: 'tpu' as 'cpu' })).rejects.toThrow(/one of 'auto', 'cpu', 'cuda' for opts.device/);
    await expect(Backbone.create(bundle, { workers: 0 })).rejects.toThrow(RangeError);
    await expect(Backbone.create(bundle, { threads: 1.5 })).rejects.toThrow(TypeError);
    await expect(Backbone.create({} as ModelBundle)).rejects.toThrow(/ModelBundle/);
    const err = await Backbone.create({ ...bundle, backbonePath: join(cacheDir, 'nope.onnx') }, { device: 'cpu' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelBundleError);
    expect((err as ModelBundleError).file).toBe(join(cacheDir, 'nope.onnx'));
    expect((err as Error).message).toMatch(/ONNX Runtime cannot load it/);
  });

  it('waits for running embeds on dispose, then rejects with DisposedError', async () => {
    const bb = await Backbone.create(bundle, { device: 'cpu', threads: 1 });
    const running = bb.embed(GOOD);
    await bb.dispose();
    const r = await running;
    expect(r.errors.every((e) => e === null)).toBe(true);
    await expect(bb.embed(GOOD)).rejects.toThrow(DisposedError);
    await bb.dispose();
  });
});
