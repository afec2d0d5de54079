/**
 * The whole pipeline with device 'auto' on a machine with a GPU: the head runs on CUDA
 * (the backbone on whatever ONNX Runtime offers, usually the CPU with a warning), and its
 * predictions must equal the CPU classifier's on the same images. Skips, saying why, where
 * no CUDA device exists (CI, most laptops); scripts/device-node-tests.sh runs it on a GPU.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FewShotClassifier, type Prediction } from '../src/index.js';
import { cudaInfo } from '../src/cuda.js';
import { CUDA_AUTO_MIN_PAIRS } from '../src/device.js';
import { Head } from '../src/head.js';
import { headOptionsOf } from '../src/model/bundle.js';
import { defaultBundle } from '../src/model/default_bundle.js';
import { scanImageFolder } from '../src/classifier/image_folder.js';
import { repoRoot } from './support/cli.js';

const gpu = cudaInfo();
if (!gpu.available) console.log(`classifier_gpu.test.ts skipped: ${gpu.reason ?? 'no CUDA device'}`);

describe.skipIf(!gpu.available /* no CUDA device: reason printed above */)("FewShotClassifier with device 'auto' on a GPU", () => {
  let dir: string;
  let support: string[];
  let labels: string[];
  let queries: string[];
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }) => warnings.push(`${w.code ?? ''} ${w.message}`);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lwfm-gpu-e2e-'));
    const data = join(dir, 'data');
    execFileSync(process.execPath, [join(repoRoot, 'tools', 'make_samples.mjs'), data], { stdio: 'pipe' });
    const folder = scanImageFolder(data).classes.slice(0, 5);
    support = folder.flatMap((c) => c.files.slice(0, 2));
    labels = folder.flatMap((c) => [c.name, c.name]);
    queries = folder.flatMap((c) => c.files.slice(2, 8)); // 30 x 10 = 300 pairs: 'auto' picks the GPU
    process.on('warning', onWarning);
  });

  afterAll(() => {
    process.off('warning', onWarning);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the head on CUDA and predicts what the CPU classifier predicts', async () => {
    await using onGpu = await FewShotClassifier.load(undefined, { device: 'auto', threads: 2, workers: 1 });
    await using onCpu = await FewShotClassifier.load(undefined, { device: 'cpu', threads: 2, workers: 1 });
    const info = onGpu.info();
    expect(info.devices.head).toBe('cuda');
    if (info.devices.backbone === 'cpu') {
      // 'auto' may fall back for the backbone only when it says so.
      expect(warnings.join('\n')).toContain('LWFM_CUDA_FALLBACK');
    }
    expect(queries.length * support.length).toBeGreaterThanOrEqual(CUDA_AUTO_MIN_PAIRS);
    const a = await onGpu.classifyEpisode(support, labels, queries);
    const b = await onCpu.classifyEpisode(support, labels, queries);
    expect(a.labels).toEqual(b.labels);

    // The same embeddings through a Head of the same options: proves the GPU ran, and that
    // the classifier's logits are that head's.
    const embedded = await onGpu.embed([...support, ...queries]);
    const [, c, p] = embedded.dims;
    await using head = new Head({ ...headOptionsOf(await defaultBundle()), device: 'auto' });
    const names = [...new Set(labels)];
    const prepared = await head.prepareSupport(
      embedded.data.slice(0, support.length * c! * p!),
      labels.map((l) => names.indexOf(l)),
    );
    const direct = await head.score(prepared, embedded.data.slice(support.length * c! * p!));
    prepared.dispose();
    expect(head.lastDevice).toBe('cuda');

    let worst = 0;
    queries.forEach((_, i) => {
      const g = a[i] as Prediction;
      const cpu = b[i] as Prediction;
      expect(g.error).toBeUndefined();
      expect(g.logits).toHaveLength(cpu.logits.length);
      g.logits.forEach((l, k) => {
        expect(Math.abs(l - direct[i * names.length + k]!)).toBeLessThan(1e-5);
        worst = Math.max(worst, Math.abs(l - cpu.logits[k]!));
      });
      expect(g.index).toBe(cpu.index);
    });
    console.log(
      `GPU vs CPU classifier: ${queries.length} queries x ${support.length} support, worst |logit difference| ${worst.toExponential(2)}`,
    );
    // The backbone may run on another EP; the head sums in another order on the GPU.
    expect(worst).toBeLessThan(info.devices.backbone === 'cpu' ? 1e-4 : 1e-2);
  });
});
