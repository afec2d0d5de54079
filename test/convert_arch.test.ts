/**
 * The converter beyond ResNet-18 and its error reporting: `--arch resnet34/50` round trips
 * against a PyTorch forward of the same random weights (tools/fixtures/make_random_checkpoint.py,
 * torchvision's models with weights=None and random BatchNorm statistics), and each mistake
 * a user makes gets one line naming the file, exit status 1, no traceback, nothing written.
 * Needs /usr/bin/python3 with torch + torchvision; without them these tests are skipped with the reason printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle } from '../src/model/bundle.js';
import { Backbone } from '../src/backbone/backbone.js';
import { CONVERTER_SCRIPT } from '../src/model/convert.js';
import { PYTHON, runPython, torchAvailable } from './helpers/python.js';
import { diff, readF32, scaleRelative } from './helpers/tensors.js';

const torch = torchAvailable();
const MAKE = join(import.meta.dirname, '..', 'tools', 'fixtures', 'make_random_checkpoint.py');
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lwfm-convert-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the converter script; stdout, stderr and the exit status. */
function convert(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(PYTHON, [CONVERTER_SCRIPT, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe.skipIf(!torch.ok)(`converter --arch (PyTorch ${torch.ok ? 'found' : `missing: ${torch.reason}`})`, () => {
  const cases = [
    { arch: 'resnet34', taps: [3, 15, 16], layout: 'torchvision', pooling: 'average' },
    { arch: 'resnet50', taps: [7, 16], layout: 'authors', pooling: 'bilinear' },
  ] as const;
  for (const c of cases) {
    it(`${c.arch} (${c.layout} layout, taps [${c.taps.join(', ')}]): ONNX Runtime embeddings equal PyTorch (1e-4 of the scale)`, async () => {
      const dir = join(root, c.arch);
      const args = ['--taps', ...c.taps.map(String), '--feature-size', '3', '--pooling', c.pooling];
      runPython([MAKE, dir, ...args, '--arch', c.arch, '--layout', c.layout, '--images', '2', '--seed', '5', '--calibrate-bn']);
      // --arch is read from the keys; giving it explicitly must agree
      const r = convert([join(dir, 'checkpoint.pth'), join(dir, 'model'), ...args, '--arch', c.arch]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toContain(`${c.layout} layout, ${c.arch}`);
      const bundle = await loadBundle(join(dir, 'model'));
      expect(bundle.config.arch).toBe(c.arch);
      expect(bundle.matcher?.length).toBe(c.layout === 'authors' ? c.taps.length : undefined);
      await using backbone = await Backbone.create(bundle, { device: 'cpu', threads: 2 });
      const batch = await backbone.embed({ data: readF32(join(dir, 'input.bin')), dims: [2, 3, 84, 84] });
      const expected = readF32(join(dir, 'expected.bin'));
      const d = diff(batch.data, expected);
      const rel = scaleRelative(batch.data, expected);
      console.log(
        `[convert ${c.arch}] max abs ${d.maxAbs.toExponential(2)}, relative to max |ref| ${rel.toExponential(2)}, max abs/(1+|ref|) ${d.maxRel.toExponential(2)}`,
      );
      expect(rel).toBeLessThan(1e-4);
    });
  }

  it('says in one line what is wrong, exits 1, and writes nothing', () => {
    const dir = join(root, 'errors');
    runPython([MAKE, dir, '--layout', 'torchvision', '--images', '1']);
    const ckpt = join(dir, 'checkpoint.pth');
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'epoch 3: loss 0.42\n');
    runPython([
      '-c',
      `import torch; torch.save({'optimizer': torch.zeros(2)}, '${join(dir, 'odd.pth')}'); torch.save({}, '${join(dir, 'empty.pth')}')`,
    ]);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const existing = join(dir, 'existing');
    mkdirSync(existing);
    writeFileSync(join(existing, 'keep'), 'x');
    const out = join(dir, 'out');
    const expectations: [string[], RegExp][] = [
      [[text, out], /notes\.txt is not a PyTorch checkpoint: expected a file written by torch\.save, found text starting with 'epoch 3/],
      [[join(dir, 'odd.pth'), out], /odd\.pth: expected an LWFM-SPM checkpoint .* found keys optimizer$/m],
      [[join(dir, 'empty.pth'), out], /empty\.pth has no tensors: expected a state dict, found an empty dictionary/],
      [[ckpt, file], /output path .*a-file exists and is not a directory/],
      [[ckpt, existing], /output directory .*existing already exists; pass --force/],
      [[ckpt, out, '--arch', 'resnet50'], /--arch resnet50 given, but checkpoint .* holds resnet18 weights/],
      [[ckpt, out, '--taps', '15', '16'], /--taps \[15, 16\]: resnet18 has taps 0\.\.8/],
    ];
    for (const [args, message] of expectations) {
      const r = convert(args);
      expect(r.code, r.err).toBe(1);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).not.toMatch(/Traceback/);
    }
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(existing)).toEqual(['keep']);
    expect(readdirSync(dir).filter((f) => /staging|tmp/.test(f))).toEqual([]);
  });

  it('--force replaces, --norm torchvision is torchvision, the old --norm imagenet is explained, no MLP is said', async () => {
    const dir = join(root, 'norms');
    runPython([MAKE, dir, '--layout', 'torchvision', '--images', '1']);
    const ckpt = join(dir, 'checkpoint.pth');
    const out = join(dir, 'model');
    const first = convert([ckpt, out, '--norm', 'imagenet', '--matcher-weight', '0.5']);
    expect(first.code).toBe(0);
    expect(first.err).toMatch(/--norm imagenet is the authors' constants \(CIFAR-10's statistics\), now called --norm authors/);
    expect(first.out).toMatch(/no matcher MLPs, so matcherWeight 0\.5 is applied without an MLP/);
    expect((await loadBundle(out)).config.mean).toEqual([125.3 / 255, 123.0 / 255, 113.9 / 255]);
    const second = convert([ckpt, out, '--norm', 'torchvision', '--force']);
    expect(second.code, second.err).toBe(0);
    const { config } = await loadBundle(out);
    expect(config.mean).toEqual([0.485, 0.456, 0.406]);
    expect(config.std).toEqual([0.229, 0.224, 0.225]);
    // a torchvision state dict defaults to torchvision's normalisation and the last two blocks
    const third = convert([ckpt, join(dir, 'defaults')]);
    expect(third.out).toMatch(/norm torchvision/);
    expect((await loadBundle(join(dir, 'defaults'))).config.taps).toEqual([7, 8]);
  });
});
