/**
 * Converter round trip: tools/fixtures/make_random_checkpoint.py writes a random-initialised
 * checkpoint and PyTorch reference embeddings into a temp dir, tools/convert_checkpoint.py
 * converts it, and ONNX Runtime (through Backbone) must reproduce the embeddings.
 * Then the head: logits from Head on those embeddings equal the literal PyTorch head
 * (tools/reference/lwfm_head.py) on the PyTorch embeddings.
 * Needs /usr/bin/python3 with torch + torchvision (Debian python3-torch, python3-torchvision);
 * without them these tests are skipped with the reason printed.
 */
import { describe, expect, it, beforeAll, afterAll, vi } from 'vitest';
import { mkdtempSync, rmSync, existsSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { headOptionsOf, loadBundle } from '../src/model/bundle.js';
import { Backbone } from '../src/backbone/backbone.js';
import { runConverter, CONVERTER_SCRIPT } from '../src/model/convert.js';
import { PYTHON, runPython, torchAvailable } from './helpers/python.js';
import { diff, readF32 } from './helpers/tensors.js';
import { Head } from '../src/head.js';

const torch = torchAvailable();
const MAKE = join(import.meta.dirname, '..', 'tools', 'fixtures', 'make_random_checkpoint.py');
const ROUNDTRIP_LOGITS = join(import.meta.dirname, '..', 'tools', 'fixtures', 'roundtrip_logits.py');
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'lwfm-roundtrip-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Case {
  name: string;
  taps: number[];
  featureSize: number;
  pooling: 'average' | 'bilinear';
  layout: 'authors' | 'authors-module' | 'torchvision';
}

const CASES: Case[] = [
  { name: 'authors layout, taps [7, 8], F 3', taps: [7, 8], featureSize: 3, pooling: 'average', layout: 'authors' },
  {
    name: "authors layout with 'module.', taps [4, 6, 8], F 5",
    taps: [4, 6, 8],
    featureSize: 5,
    pooling: 'average',
    layout: 'authors-module',
  },
  { name: 'torchvision state dict, taps [2, 5], F 4 bilinear', taps: [2, 5], featureSize: 4, pooling: 'bilinear', layout: 'torchvision' },
  // the AveragePool (21 -> 3, 6 -> 3) and GlobalAveragePool (F = 1) branches of the graph
  {
    name: 'torchvision state dict, taps [0, 5], F 3 (AveragePool)',
    taps: [0, 5],
    featureSize: 3,
    pooling: 'average',
    layout: 'torchvision',
  },
  { name: 'authors layout, taps [3, 8], F 1 (GlobalAveragePool)', taps: [3, 8], featureSize: 1, pooling: 'average', layout: 'authors' },
];

describe.skipIf(!torch.ok)(`converter round trip (PyTorch ${torch.ok ? 'found' : `missing: ${torch.reason}`})`, () => {
  for (const [k, c] of CASES.entries()) {
    it(`${c.name}: ONNX Runtime embeddings and Head logits equal PyTorch (1e-4)`, async () => {
      const dir = join(root, `case${k}`);
      const args = ['--taps', ...c.taps.map(String), '--feature-size', String(c.featureSize), '--pooling', c.pooling];
      runPython([MAKE, dir, ...args, '--layout', c.layout, '--seed', String(k), '--images', '3']);
      const model = join(dir, 'model');
      const out = runPython([CONVERTER_SCRIPT, join(dir, 'checkpoint.pth'), model, ...args, '--matcher-weight', '1', '--norm', 'cifar']);
      expect(out).toMatch(c.layout === 'torchvision' ? /torchvision layout/ : /authors layout/);

      const bundle = await loadBundle(model);
      expect(bundle.config.taps).toEqual(c.taps);
      expect(bundle.config.provenance.trained).toBe(true);
      expect(bundle.config.provenance.source).toBe('checkpoint.pth');
      expect(bundle.config.matcherWeight).toBe(1);
      expect(bundle.config.mean).toEqual([0.5071, 0.4866, 0.4409]);
      if (c.layout === 'torchvision') {
        expect(bundle.matcher).toBeUndefined();
      } else {
        expect(bundle.matcher).toHaveLength(c.taps.length);
        bundle.matcher!.forEach((m, t) => {
          expect(m.w1).toEqual(readF32(join(dir, `matcher_${t}_w1.bin`)));
          expect(m.w2).toEqual(readF32(join(dir, `matcher_${t}_w2.bin`)));
        });
      }

      await using backbone = await Backbone.create(bundle, { device: 'cpu', threads: 2 });
      const x = readF32(join(dir, 'input.bin'));
      const batch = await backbone.embed({ data: x, dims: [3, 3, 84, 84] });
      const expected = readF32(join(dir, 'expected.bin'));
      const d = diff(batch.data, expected);
      console.log(`[round trip] ${c.name}: max abs ${d.maxAbs.toExponential(2)}, max abs/(1+|ref|) ${d.maxRel.toExponential(2)}`);
      expect(batch.dims).toEqual([3, bundle.config.channels.reduce((a, b) => a + b, 0), c.featureSize ** 2]);
      expect(d.maxRel).toBeLessThan(1e-4);
      // Embeddings of this model, for the logits check below.
      writeFileSync(join(dir, 'embeddings.bin'), batch.data);

      // Logits: our Head on the ONNX Runtime embeddings vs the literal PyTorch head on the
      // PyTorch embeddings (images 0-1 support, one class each; image 2 the query). F = 1 has no
      // defined attention (unbiased variance of one pixel), so that case stops at embeddings.
      if (c.featureSize >= 2) {
        const cfg = bundle.config;
        const pyArgs = [
          ROUNDTRIP_LOGITS,
          dir,
          '--channels',
          ...cfg.channels.map(String),
          '--feature-size',
          String(cfg.featureSize),
          '--matcher-weight',
          String(cfg.matcherWeight),
          ...(bundle.matcher ? ['--matcher'] : []),
        ];
        const expectedLogits = JSON.parse(runPython(pyArgs)) as number[][];
        await using head = new Head({ ...headOptionsOf(bundle), device: 'cpu' });
        const per = batch.dims[1] * batch.dims[2];
        const support = await head.prepareSupport(batch.data.subarray(0, 2 * per), [0, 1]);
        const logits = await head.score(support, batch.data.subarray(2 * per, 3 * per));
        const want = Float32Array.from(expectedLogits.flat());
        const dl = diff(logits, want);
        console.log(
          `[round trip] ${c.name}: logits ${Array.from(logits, (v) => v.toFixed(4)).join(', ')}; max abs diff ${dl.maxAbs.toExponential(2)}`,
        );
        expect(dl.maxAbs).toBeLessThan(1e-4);
        expect(logits[0]! > logits[1]!).toBe(want[0]! > want[1]!);
      }
    });
  }

  it('reports what is wrong with a checkpoint it cannot convert', async () => {
    const dir = join(root, 'bad');
    runPython([MAKE, dir, '--taps', '7', '8']);
    const model = join(dir, 'model');
    const errors: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      errors.push(String(chunk));
      return true;
    });
    try {
      // the checkpoint has matchers for 2 taps
      expect(await runConverter([join(dir, 'checkpoint.pth'), model, '--taps', '6', '7', '8'])).toBe(1);
      expect(await runConverter([join(dir, 'nope.pth'), model])).toBe(1);
      expect(await runConverter([join(dir, 'checkpoint.pth'), model, '--taps', '8', '7'])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    const text = errors.join('');
    expect(text).toMatch(/matchers \[0, 1\] but --taps \[6, 7, 8\]/);
    expect(text).toMatch(/nope\.pth does not exist/);
    expect(text).toMatch(/strictly increasing/);
    expect(existsSync(join(model, 'model.json'))).toBe(false);
  });
});

describe('runConverter without Python or PyTorch', () => {
  const capture = async (python: string, args: string[]): Promise<{ code: number; text: string }> => {
    const errors: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      errors.push(String(chunk));
      return true;
    });
    const before = process.env.LWFM_SPM_PYTHON;
    process.env.LWFM_SPM_PYTHON = python;
    try {
      return { code: await runConverter(args), text: errors.join('') };
    } finally {
      spy.mockRestore();
      if (before === undefined) delete process.env.LWFM_SPM_PYTHON;
      else process.env.LWFM_SPM_PYTHON = before;
    }
  };

  it('says what to install when python3 is missing', async () => {
    const r = await capture(join(root, 'no-such-python3'), ['a.pth', 'out']);
    expect(r.code).toBe(127);
    expect(r.text).toMatch(/no-such-python3 not found/);
    expect(r.text).toContain('apt-get install python3 python3-torch');
    expect(r.text).toContain('pip install torch');
  });

  if (!existsSync(PYTHON)) console.warn(`[skip] the missing-torch case needs ${PYTHON}, which does not exist`);
  it.skipIf(!existsSync(PYTHON) /* no python3 at PYTHON, reason printed */)('says what to install when torch is missing', async () => {
    // python3 -S drops site-packages, so numpy and torch cannot be imported
    const fake = join(root, 'python-without-torch');
    writeFileSync(fake, `#!/bin/sh\nexec ${PYTHON} -S "$@"\n`);
    chmodSync(fake, 0o755);
    const r = await capture(fake, ['a.pth', 'out']);
    expect(r.code).toBe(3);
    expect(r.text).toContain('apt-get install python3-torch');
    expect(r.text).toContain('pip install torch');
  });

  it('rejects non-string arguments', async () => {
    await expect(runConverter([1 as unknown as string])).rejects.toThrow(TypeError);
  });
});
