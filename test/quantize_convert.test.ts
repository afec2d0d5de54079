/**
 * `lwfm-spm convert --precision int8 --calibrate DIR`: the converted bundle is replaced by
 * its int8 version (ResNet-50 here, so the quantizer is exercised beyond ResNet-18's blocks:
 * Bottlenecks, 1x1 convolutions, wider taps), and its embeddings stay close to the fp32
 * conversion of the same checkpoint. The bound here is 0.98: random weights with random
 * BatchNorm through 16 Bottlenecks accumulate more rounding error than ResNet-18 (measured
 * 0.986 on the samples); the issue's 0.99 target is asserted for the default ResNet-18 on
 * Fashion-MNIST in quantize_accuracy.test.ts. Needs /usr/bin/python3 with torch (skipped with the reason printed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle } from '../src/model/bundle.js';
import { Backbone } from '../src/backbone/backbone.js';
import { splitPrecisionArgs } from '../src/model/quantize/convert_int8.js';
import { scanImageFolder } from '../src/classifier/image_folder.js';
import { runPython, torchAvailable } from './helpers/python.js';
import { repoRoot, runCli } from './support/cli.js';

const torch = torchAvailable();
const MAKE = join(repoRoot, 'tools', 'fixtures', 'make_random_checkpoint.py');
const SAMPLES = join(repoRoot, 'samples');
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lwfm-convert-int8-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('splitPrecisionArgs', () => {
  it('takes --precision/--calibrate out of the converter arguments', () => {
    expect(splitPrecisionArgs(['c.pth', 'out', '--taps', '7', '8', '--precision', 'int8', '--calibrate=imgs'])).toEqual({
      precision: 'int8',
      calibrate: 'imgs',
      rest: ['c.pth', 'out', '--taps', '7', '8'],
    });
    expect(splitPrecisionArgs(['c.pth', 'out']).precision).toBe('fp32');
    expect(() => splitPrecisionArgs(['--precision', 'int4'])).toThrow(/fp32 or int8/);
    expect(() => splitPrecisionArgs(['--calibrate', 'x'])).toThrow(/--precision int8/);
    expect(() => splitPrecisionArgs(['--precision'])).toThrow(/value after --precision/);
  });
});

describe.skipIf(!torch.ok)(`convert --precision int8 (PyTorch ${torch.ok ? 'found' : `missing: ${torch.reason}`})`, () => {
  it('writes an int8 ResNet-50 bundle whose embeddings stay within cosine 0.98 of the fp32 one', async () => {
    const dir = join(root, 'r50');
    runPython([
      MAKE,
      dir,
      '--arch',
      'resnet50',
      '--layout',
      'torchvision',
      '--taps',
      '15',
      '16',
      '--images',
      '1',
      '--seed',
      '3',
      '--calibrate-bn',
    ]);
    const ckpt = join(dir, 'checkpoint.pth');
    const fp32 = await runCli(['convert', ckpt, join(dir, 'fp32'), '--taps', '15', '16']);
    expect(fp32.code, fp32.stderr).toBe(0);
    const int8 = await runCli(['convert', ckpt, join(dir, 'int8'), '--taps', '15', '16', '--precision', 'int8', '--calibrate', SAMPLES]);
    expect(int8.code, int8.stderr).toBe(0);
    const a = await loadBundle(join(dir, 'fp32'));
    const b = await loadBundle(join(dir, 'int8'));
    expect(a.config.precision ?? 'fp32').toBe('fp32');
    expect(b.config.precision).toBe('int8');
    expect(b.config.arch).toBe('resnet50');
    expect(b.config.quantization!.calibrationSource).toBe(SAMPLES);
    const files = scanImageFolder(SAMPLES).classes.flatMap((c) => c.files.slice(0, 4));
    const embed = async (bundle: typeof a): Promise<Float32Array> => {
      await using backbone = await Backbone.create(bundle, { device: 'cpu', threads: 2 });
      return (await backbone.embed(files)).data;
    };
    const [x, y] = [await embed(a), await embed(b)];
    const len = x.length / files.length;
    let sum = 0;
    for (let i = 0; i < files.length; i++) {
      let d = 0;
      let nx = 0;
      let ny = 0;
      for (let k = i * len; k < (i + 1) * len; k++) {
        d += x[k]! * y[k]!;
        nx += x[k]! * x[k]!;
        ny += y[k]! * y[k]!;
      }
      sum += d / Math.sqrt(nx * ny);
    }
    console.log(
      `[convert int8 resnet50] mean embedding cosine vs fp32 over ${files.length} sample images: ${(sum / files.length).toFixed(5)}`,
    );
    expect(sum / files.length).toBeGreaterThanOrEqual(0.98);
  }, 300_000);

  it('lwfm-spm pretrained --precision int8 writes an int8 bundle from local weights', async () => {
    const dir = join(root, 'r18');
    runPython([
      MAKE,
      dir,
      '--arch',
      'resnet18',
      '--layout',
      'torchvision',
      '--images',
      '1',
      '--seed',
      '4',
      '--safetensors',
      '--calibrate-bn',
    ]);
    const out = join(dir, 'bundle');
    const r = await runCli([
      'pretrained',
      'resnet18',
      out,
      '--from',
      join(dir, 'weights.safetensors'),
      '--precision',
      'int8',
      '--calibrate',
      SAMPLES,
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ImageNet-pretrained, int8/);
    const bundle = await loadBundle(out);
    expect(bundle.config.precision).toBe('int8');
    expect(bundle.config.provenance.trained).toBe(true);
    const bad = await runCli([
      'pretrained',
      'resnet18',
      join(dir, 'x'),
      '--from',
      join(dir, 'weights.safetensors'),
      '--calibrate',
      SAMPLES,
    ]);
    expect(bad.code).toBe(2);
  }, 300_000);
});
