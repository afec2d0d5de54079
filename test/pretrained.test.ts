/**
 * `lwfm-spm pretrained` / buildPretrainedBundle against a loopback server that behaves like
 * the Hugging Face Hub (test/helpers/fake_hub.ts): downloads are verified and cached, a second
 * run uses the cache, every kind of bad download is a named error that leaves nothing in the
 * cache, and the bundles' embeddings equal a PyTorch forward of the same weights
 * (tools/fixtures/make_random_checkpoint.py: torchvision's resnet18/34/50(weights=None) with
 * random weights and BatchNorm statistics, saved in timm's key naming).
 * The PyTorch comparisons need /usr/bin/python3 with torch + torchvision and are skipped with
 * the reason printed otherwise; the download and error tests need nothing but Node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPretrainedBundle } from '../src/model/pretrained.js';
import { loadBundle, headOptionsOf } from '../src/model/bundle.js';
import { Backbone } from '../src/backbone/backbone.js';
import { Head } from '../src/head.js';
import { ModelBundleError, ModelDownloadError } from '../src/errors.js';
import type { ResNetArch } from '../src/model/resnet.js';
import { syntheticWeights } from './helpers/synthetic_weights.js';
import { startFakeHub, type FakeHub } from './helpers/fake_hub.js';
import { runPython, torchAvailable } from './helpers/python.js';
import { readF32, scaleRelative } from './helpers/tensors.js';
import { runCli } from './support/cli.js';

const torch = torchAvailable();
const MAKE = join(import.meta.dirname, '..', 'tools', 'fixtures', 'make_random_checkpoint.py');
let root: string;
let hub: FakeHub;
const savedHub = process.env.LWFM_SPM_HUB_URL;
let n = 0;
const fresh = (name: string): string => join(root, `${name}-${n++}`);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lwfm-pretrained-'));
  hub = await startFakeHub();
  process.env.LWFM_SPM_HUB_URL = hub.url;
});
afterAll(async () => {
  await hub.close();
  if (savedHub === undefined) delete process.env.LWFM_SPM_HUB_URL;
  else process.env.LWFM_SPM_HUB_URL = savedHub;
  rmSync(root, { recursive: true, force: true });
});

/** Cache files a later run could pick up (anything but the empty directory). */
const cacheFiles = (cacheDir: string): string[] =>
  existsSync(join(cacheDir, 'pretrained')) ? readdirSync(join(cacheDir, 'pretrained')) : [];

describe('pretrained download', () => {
  it('downloads through the redirect, verifies, caches, and builds from the cache the second time', async () => {
    const cacheDir = fresh('cache');
    hub.serve('timm/resnet18.tv_in1k', syntheticWeights());
    const phases: string[] = [];
    const dir = await buildPretrainedBundle({ arch: 'resnet18', out: fresh('r18'), cacheDir, onProgress: (p) => phases.push(p.phase) });
    expect(hub.hits('/timm/resnet18.tv_in1k/resolve/main/model.safetensors')).toBe(1);
    expect(hub.hits('/cdn/timm/resnet18.tv_in1k')).toBe(1);
    expect(phases).toContain('download');
    expect(phases.at(-1)).toBe('build');
    const { config } = await loadBundle(dir);
    expect(config).toMatchObject({
      arch: 'resnet18',
      taps: [7, 8],
      featureSize: 3,
      resize: 92,
      crop: 84,
      pooling: 'average',
      matcherWeight: 0.25,
    });
    expect(config.mean).toEqual([0.485, 0.456, 0.406]);
    expect(config.std).toEqual([0.229, 0.224, 0.225]);
    expect(config.provenance.trained).toBe(true);
    expect(config.provenance.source).toMatch(/timm\/resnet18\.tv_in1k .*BSD-3-Clause.*sha256 [0-9a-f]{64}/);
    expect(cacheFiles(cacheDir).sort()).toEqual(['resnet18.tv_in1k.safetensors', 'resnet18.tv_in1k.safetensors.verified.json']);

    const again: string[] = [];
    await buildPretrainedBundle({ arch: 'resnet18', out: fresh('r18'), cacheDir, onProgress: (p) => again.push(p.phase) });
    expect(hub.hits('/cdn/timm/resnet18.tv_in1k')).toBe(1);
    expect(again).toEqual(['verify', 'cached', 'build']);

    // a cached file that changed on disk is not trusted: downloaded again
    const cached = join(cacheDir, 'pretrained', 'resnet18.tv_in1k.safetensors');
    const bytes = readFileSync(cached);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
    writeFileSync(cached, bytes);
    await buildPretrainedBundle({ arch: 'resnet18', out: fresh('r18'), cacheDir });
    expect(hub.hits('/cdn/timm/resnet18.tv_in1k')).toBe(2);
  });

  const failures: [string, Parameters<FakeHub['serve']>[2], RegExp, number | undefined][] = [
    ['a wrong hash', 'wrong-hash', /SHA-256 mismatch: expected f{64}, received [0-9a-f]{64}/, undefined],
    ['a truncated body', 'truncate', /interrupted|truncated/, undefined],
    ['a 404', '404', /HTTP 404/, 404],
    ['a stalled server', 'stall', /stalled: no data for 1000 ms after 1000 of \d+ bytes/, undefined],
    ['an HTML error page', 'html', /HTML page \(content-type text\/html/, 200],
    ['no hash to verify against', 'no-etag', /no SHA-256 \(X-Linked-Etag\)/, undefined],
  ];
  for (const [what, behaviour, message, status] of failures) {
    it(`${what}: ModelDownloadError saying so, nothing cached, no bundle`, async () => {
      const cacheDir = fresh('cache');
      const out = fresh('out');
      hub.serve('timm/resnet34.tv_in1k', syntheticWeights(), behaviour);
      // only the stall test may time out (a busy machine can pause a second anywhere)
      const timeoutMs = behaviour === 'stall' ? 1000 : 30_000;
      const err = await buildPretrainedBundle({ arch: 'resnet34', out, cacheDir, timeoutMs }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModelDownloadError);
      expect((err as ModelDownloadError).code).toBe('ERR_LWFM_MODEL_DOWNLOAD');
      expect((err as Error).message).toMatch(message);
      expect((err as ModelDownloadError).status).toBe(status);
      expect(cacheFiles(cacheDir)).toEqual([]);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('weights with a missing or misshapen tensor: ModelBundleError naming it, and the cache entry dropped', async () => {
    const cacheDir = fresh('cache');
    hub.serve('timm/resnet18.tv_in1k', syntheticWeights('resnet18', 'layer4.1.bn2.running_var'));
    const err = await buildPretrainedBundle({ arch: 'resnet18', out: fresh('out'), cacheDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelBundleError);
    expect((err as Error).message).toMatch(/lacks tensor layer4\.1\.bn2\.running_var/);
    expect(cacheFiles(cacheDir)).toEqual([]);
    // --from: the same errors for a local file, which is left alone
    const file = join(root, 'resnet18-wrong.safetensors');
    writeFileSync(file, syntheticWeights('resnet18', 'conv1.weight'));
    await expect(buildPretrainedBundle({ arch: 'resnet18', out: fresh('out'), from: file })).rejects.toThrow(
      /is not a torchvision\/timm ResNet state dict/,
    );
    writeFileSync(file, syntheticWeights());
    await expect(buildPretrainedBundle({ arch: 'resnet50', out: fresh('out'), from: file })).rejects.toThrow(
      /holds resnet18 weights, not resnet50/,
    );
    writeFileSync(file, 'not safetensors');
    await expect(buildPretrainedBundle({ arch: 'resnet18', out: fresh('out'), from: file })).rejects.toThrow(ModelBundleError);
    expect(existsSync(file)).toBe(true);
  });

  it('checks its options before downloading', async () => {
    await expect(buildPretrainedBundle({ arch: 'resnet101' as ResNetArch, out: 'x' })).rejects.toThrow(TypeError);
    await expect(buildPretrainedBundle({ arch: 'resnet18', out: '' })).rejects.toThrow(TypeError);
    await expect(buildPretrainedBundle({ arch: 'resnet18', out: 'x', taps: [9] })).rejects.toThrow(/resnet18 tap ids in 0\.\.8/);
    await expect(buildPretrainedBundle({ arch: 'resnet18', out: 'x', timeoutMs: -1 })).rejects.toThrow(RangeError);
    const existing = fresh('existing');
    writeFileSync(existing, 'x');
    await expect(buildPretrainedBundle({ arch: 'resnet18', out: existing, from: existing })).rejects.toThrow(
      /exists and is not a directory/,
    );
  });
});

describe('lwfm-spm pretrained (CLI)', () => {
  it('--from FILE builds without the network; an existing OUTDIR needs --force; downloads print progress', async () => {
    const file = join(root, 'r18-cli.safetensors');
    writeFileSync(file, syntheticWeights());
    const out = fresh('cli');
    const offline = { LWFM_SPM_HUB_URL: 'http://127.0.0.1:9', LWFM_SPM_CACHE: fresh('cache') };
    const r = await runCli(['pretrained', 'resnet18', out, '--from', file], { env: offline });
    expect(r.stderr).not.toMatch(/download/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/wrote .*\(resnet18, ImageNet-pretrained/);
    const again = await runCli(['pretrained', 'resnet18', out, '--from', file], { env: offline });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists; pass --force/);
    expect(
      (await runCli(['pretrained', 'resnet18', out, '--from', file, '--force', '--crop', '112', '--feature-size', '4'], { env: offline }))
        .code,
    ).toBe(0);
    expect((await loadBundle(out)).config).toMatchObject({ crop: 112, resize: 112, featureSize: 4 });

    hub.serve('timm/resnet50.tv_in1k', syntheticWeights(), 'ok');
    const wrongArch = await runCli(['pretrained', 'resnet50', fresh('cli')], {
      env: { LWFM_SPM_HUB_URL: hub.url, LWFM_SPM_CACHE: fresh('cache') },
    });
    expect(wrongArch.stderr).toMatch(/downloaded .* MB of .* MB/);
    expect(wrongArch.stderr).toMatch(/holds resnet18 weights, not resnet50/);
    expect(wrongArch.code).toBe(1);
    const usage = await runCli(['pretrained', 'resnet101', out]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/ARCH must be one of resnet18, resnet34, resnet50/);
  });
});

describe.skipIf(!torch.ok)(`pretrained bundles equal PyTorch (PyTorch ${torch.ok ? 'found' : `missing: ${torch.reason}`})`, () => {
  const taps: Record<ResNetArch, number[]> = { resnet18: [7, 8], resnet34: [15, 16], resnet50: [15, 16] };
  for (const arch of ['resnet18', 'resnet34', 'resnet50'] as const) {
    it(`${arch}: downloaded from the fake hub, embeddings within 1e-4 of a PyTorch forward`, async () => {
      const fx = fresh(`fx-${arch}`);
      runPython([
        MAKE,
        fx,
        '--arch',
        arch,
        '--layout',
        'torchvision',
        '--safetensors',
        '--calibrate-bn',
        '--taps',
        ...taps[arch].map(String),
        '--images',
        '2',
        '--seed',
        '3',
      ]);
      hub.serve(`timm/${arch}.tv_in1k`, readFileSync(join(fx, 'weights.safetensors')));
      const started = Date.now();
      const dir = await buildPretrainedBundle({ arch, out: join(fx, 'bundle'), cacheDir: join(fx, 'cache') });
      const seconds = (Date.now() - started) / 1000;
      const bundle = await loadBundle(dir);
      expect(bundle.config.taps).toEqual(taps[arch]);
      await using backbone = await Backbone.create(bundle, { device: 'cpu', threads: 2 });
      const batch = await backbone.embed({ data: readF32(join(fx, 'input.bin')), dims: [2, 3, 84, 84] });
      const rel = scaleRelative(batch.data, readF32(join(fx, 'expected.bin')));
      console.log(`[pretrained ${arch}] build ${seconds.toFixed(1)} s; embeddings max |diff| / max |ref| ${rel.toExponential(2)}`);
      expect(rel).toBeLessThan(1e-4);
      // the head takes these channels (2 x 2048 for ResNet-50) on the CPU
      await using head = new Head({ ...headOptionsOf(bundle), device: 'cpu' });
      const per = batch.dims[1] * batch.dims[2];
      const support = await head.prepareSupport(batch.data.subarray(0, per), [0]);
      const logits = await head.score(support, batch.data.subarray(per, 2 * per));
      expect(logits).toHaveLength(1);
      expect(Number.isFinite(logits[0]!)).toBe(true);
    });
  }
});
