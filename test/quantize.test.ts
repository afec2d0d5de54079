/**
 * int8 bundles: the pieces (weights, activation parameters, percentiles, the ONNX reader),
 * the proof that ONNX Runtime fuses the QDQ graph into int8 kernels (its optimized model
 * holds QLinearConv/QLinearAdd and no fp32 Conv), the model.json record and its checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { defaultBundle } from '../src/model/default_bundle.js';
import { loadBundle, type ModelBundle } from '../src/model/bundle.js';
import { decodeModel } from '../src/model/onnx/inspect.js';
import { activationParams, quantizeWeights } from '../src/model/quantize/qdq.js';
import { percentileRange } from '../src/model/quantize/calibrate.js';
import { quantizeBundle, SAMPLES_DIR } from '../src/model/quantize/quantize_bundle.js';
import { defaultInt8Bundle } from '../src/model/quantize/default_int8.js';
import { ModelBundleError } from '../src/errors.js';
import { FewShotClassifier } from '../src/classifier/classifier.js';
import { rng as seededRandom } from './helpers/seeded_rng.js';

let work: string;
let fp32: ModelBundle;
let int8: ModelBundle;
const warnings: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'lwfm-quantize-'));
  fp32 = await defaultBundle({ cacheDir: join(work, 'cache') });
  int8 = await quantizeBundle(fp32.dir, join(work, 'int8'), { onWarning: (m) => warnings.push(m), threads: 2 });
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Operator counts of an ONNX model's graph. */
function opCounts(bytes: Uint8Array): Map<string, number> {
  const ops = new Map<string, number>();
  for (const n of decodeModel(bytes).graph.nodes) ops.set(n.op, (ops.get(n.op) ?? 0) + 1);
  return ops;
}

describe('int8 building blocks', () => {
  it('quantizes weights symmetrically per output channel, each channel max at +-127', () => {
    const rnd = seededRandom(3);
    const out = 4;
    const w = Float32Array.from({ length: out * 50 }, (_, i) => (rnd() - 0.5) * (1 + Math.floor(i / 50) * 10));
    const { q, scales } = quantizeWeights(w, out);
    for (let o = 0; o < out; o++) {
      const row = w.subarray(o * 50, (o + 1) * 50);
      const max = Math.max(...Array.from(row, Math.abs));
      expect(scales[o]).toBeCloseTo(max / 127, 6);
      expect(Math.max(...Array.from(q.subarray(o * 50, (o + 1) * 50), Math.abs))).toBe(127);
      row.forEach((v, k) => expect(Math.abs(q[o * 50 + k]! * scales[o]! - v)).toBeLessThanOrEqual(scales[o]! / 2 + 1e-7));
    }
  });

  it('puts 0 exactly on the grid, at the bottom for ReLU ranges', () => {
    expect(activationParams({ lo: 0, hi: 2.55 }, 'uint8')).toEqual({ scale: Math.fround(0.01), zeroPoint: 0 });
    const p = activationParams({ lo: -1, hi: 3 }, 'uint8');
    expect(p.zeroPoint).toBe(Math.round(1 / p.scale));
    expect(activationParams({ lo: 0.5, hi: 2 }, 'int8').zeroPoint).toBe(-128); // widened to include 0
  });

  it('finds the percentile range of a histogram within one bin of the exact quantiles', () => {
    const rnd = seededRandom(7);
    const values = Array.from({ length: 200_000 }, () => Math.tan((rnd() - 0.5) * 3.1)); // heavy tails
    const min = values.reduce((a, b) => Math.min(a, b));
    const max = values.reduce((a, b) => Math.max(a, b));
    const counts = new Float64Array(2048);
    for (const v of values) counts[Math.min(2047, Math.floor(((v - min) / (max - min)) * 2048))]! += 1;
    const sorted = [...values].sort((a, b) => a - b);
    const r = percentileRange(counts, min, max, 99.9);
    const bin = (max - min) / 2048;
    expect(Math.abs(r.hi - sorted[Math.floor(0.999 * sorted.length)]!)).toBeLessThan(bin);
    expect(Math.abs(r.lo - sorted[Math.floor(0.001 * sorted.length)]!)).toBeLessThan(bin);
  });
});

describe('quantizeBundle', () => {
  it('writes a QDQ graph that ONNX Runtime runs with int8 kernels, not dequantize + fp32 Conv', async () => {
    const optimized = join(work, 'optimized.onnx');
    const session = await ort.InferenceSession.create(int8.backbonePath, {
      intraOpNumThreads: 1,
      graphOptimizationLevel: 'all', // what the backbone workers use
      optimizedModelFilePath: optimized,
      logSeverityLevel: 3,
    });
    await session.release();
    const source = opCounts(readFileSync(int8.backbonePath));
    const ops = opCounts(readFileSync(optimized));
    console.log('optimized int8 graph operators:', Object.fromEntries(ops));
    expect(source.get('Conv')).toBe(20); // ResNet-18 up to tap 8: stem + 16 + 3 downsample convs
    expect(ops.get('QLinearConv')).toBe(20);
    expect(ops.get('QLinearAdd')).toBe(8);
    expect(ops.get('Conv') ?? 0).toBe(0);
    expect(ops.get('FusedConv') ?? 0).toBe(0);
  });

  it('records precision and calibration in model.json, and info() reports them', async () => {
    expect(warnings.join('\n')).toMatch(/bundled sample images.*calibrate better/);
    const files: string[] = [];
    for (const c of readdirSync(SAMPLES_DIR).sort()) {
      for (const f of readdirSync(join(SAMPLES_DIR, c))) if (/\.(png|jpe?g)$/i.test(f)) files.push(join(SAMPLES_DIR, c, f));
    }
    files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const h = createHash('sha256');
    for (const f of files) h.update(createHash('sha256').update(readFileSync(f)).digest());
    const q = int8.config.quantization!;
    expect(int8.config.precision).toBe('int8');
    expect(q).toMatchObject({
      method: 'percentile',
      percentile: 99.99,
      calibrationImages: files.length,
      calibrationSha256: h.digest('hex'),
    });
    const raw = JSON.parse(readFileSync(join(int8.dir, 'model.json'), 'utf8')) as Record<string, unknown>;
    expect(raw.precision).toBe('int8');

    await using classifier = await FewShotClassifier.load(int8.dir, { device: 'cpu', threads: 1, precision: 'int8' });
    const info = classifier.info();
    expect(info.model.precision).toBe('int8');
    expect(info.model.quantization).toEqual(q);
    await expect(FewShotClassifier.load(int8.dir, { device: 'cpu', threads: 1, precision: 'fp32' })).rejects.toThrow(
      /Expected a fp32 bundle.*int8/,
    );
    await expect(FewShotClassifier.load(int8.dir, { precision: 'int4' as 'int8' })).rejects.toThrow(TypeError);
  });

  it('rejects too few calibration images, an int8 source, bad options and a damaged record', async () => {
    const few = join(work, 'few');
    mkdirSync(few);
    const sample = join(SAMPLES_DIR, 'circle', readdirSync(join(SAMPLES_DIR, 'circle'))[0]!);
    for (let i = 0; i < 5; i++) copyFileSync(sample, join(few, `${i}.jpg`));
    await expect(quantizeBundle(fp32.dir, join(work, 'x'), { calibrate: few })).rejects.toThrow(
      /at least 32 calibration images but received 5/,
    );
    await expect(quantizeBundle(int8.dir, join(work, 'x'))).rejects.toThrow(ModelBundleError);
    await expect(quantizeBundle(fp32.dir, fp32.dir, { calibrate: SAMPLES_DIR })).rejects.toThrow(RangeError);
    await expect(quantizeBundle(fp32.dir, join(work, 'x'), { percentile: 20 })).rejects.toThrow(RangeError);
    await expect(quantizeBundle(fp32.dir, join(work, 'x'), { calibrate: 7 as unknown as string })).rejects.toThrow(TypeError);
    await expect(quantizeBundle(fp32.dir, join(work, 'x'), { calibrate: join(work, 'nope') })).rejects.toThrow(/does not exist/);

    const damaged = join(work, 'damaged');
    mkdirSync(damaged);
    copyFileSync(int8.backbonePath, join(damaged, 'backbone.onnx'));
    const raw = JSON.parse(readFileSync(join(int8.dir, 'model.json'), 'utf8')) as { quantization: Record<string, unknown> };
    writeFileSync(join(damaged, 'model.json'), JSON.stringify({ ...raw, quantization: { ...raw.quantization, calibrationSha256: 'abc' } }));
    await expect(loadBundle(damaged)).rejects.toThrow(/quantization.calibrationSha256/);
    writeFileSync(join(damaged, 'model.json'), JSON.stringify({ ...raw, precision: 'int4' }));
    await expect(loadBundle(damaged)).rejects.toThrow(/'fp32' or 'int8' for precision/);
  });
});

describe('defaultInt8Bundle', () => {
  it('quantizes the default model once and caches it next to the fp32 one', async () => {
    const cacheDir = join(work, 'cache');
    const seen: string[] = [];
    const onWarning = (w: Error): void => void seen.push(w.message);
    process.on('warning', onWarning);
    try {
      const [a, b] = await Promise.all([defaultInt8Bundle({ cacheDir }), defaultInt8Bundle({ cacheDir })]);
      expect(a.dir).toBe(join(cacheDir, 'default-1-int8'));
      expect(b.dir).toBe(a.dir);
      expect(a.config.precision).toBe('int8');
      const again = await defaultInt8Bundle({ cacheDir });
      expect(again.config.quantization).toEqual(a.config.quantization);
    } finally {
      process.off('warning', onWarning);
    }
    expect(seen.filter((m) => /calibrate better/.test(m))).toHaveLength(1);
    await expect(defaultInt8Bundle({ cacheDir: 5 as unknown as string })).rejects.toThrow(TypeError);
  });
});

describe('lwfm-spm quantize', () => {
  it('writes an int8 bundle that info reports, and refuses a too small calibration set', async () => {
    const { runCli } = await import('./support/cli.js');
    const out = join(work, 'cli-int8');
    const r = await runCli(['quantize', out, '--model', fp32.dir, '--calibrate', SAMPLES_DIR, '--json', '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    const record = JSON.parse(r.stdout) as { precision: string; quantization: { calibrationImages: number } };
    expect(record.precision).toBe('int8');
    expect(r.stderr).not.toMatch(/warning/); // domain images given: no warning
    const info = await runCli(['info', '--model', out, '--device', 'cpu', '--threads', '1']);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/precision: int8 \(weights int8-symmetric-per-channel.*percentile 99\.99 on \d+ images/);
    const bad = await runCli(['quantize', join(work, 'cli-bad'), '--model', fp32.dir, '--calibrate', join(work, 'few')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/at least 32 calibration images/);
    const usage = await runCli(['quantize']);
    expect(usage.code).toBe(2);
  });
});
