/**
 * Pretrained backbones: milliseconds per image (batch 80, the default geometry: 84 x 84, the
 * last two blocks pooled to 3 x 3) for ResNet-18/34/50 bundles built by `lwfm-spm pretrained
 * --from`, through Backbone.embed next to a bare onnxruntime-node session on the same graph and
 * a PyTorch forward of the same weights (a /usr/bin/python3 process serving timed forwards), in
 * alternating rounds so a slow spell on shared cores hits all three alike. Also the bundle build
 * time, one head episode (5-way 1-shot, 75 queries) on each architecture's channels, and how the
 * backbone's cost grows with the input resolution (--crop).
 * Weights are seeded random numbers of the right shapes: speed does not depend on their values.
 * Run: node --import tsx benchmarks/run.ts pretrained resolution
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { Backbone } from '../src/backbone/backbone.js';
import { Head } from '../src/head.js';
import { headOptionsOf, loadBundle } from '../src/model/bundle.js';
import { buildPretrainedBundle } from '../src/model/pretrained.js';
import { RESNET_ARCHS } from '../src/model/resnet.js';
import { fillUniform, streamKey } from '../src/model/rng.js';
import { syntheticWeights } from '../test/helpers/synthetic_weights.js';
import { median } from './median.js';
import type { Row } from './render.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');

export interface PretrainedBenchOptions {
  threads?: number;
  reps?: number;
  batch?: number;
  python?: string;
  /** Crops of the resolution table (default 84, 112, 160, 224). */
  crops?: number[];
}

/** A PyTorch process that runs one timed forward per request. */
async function startTorch(python: string, args: string[]): Promise<{ run(): Promise<number>; close(): void; version: string } | string> {
  const child: ChildProcessWithoutNullStreams = spawn(python, [join(ROOT, 'tools', 'reference', 'bench_torch_pretrained.py'), ...args]);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const failed = new Promise<string>((r) =>
    child.on('error', (e) => r(e.message)).on('close', () => r(stderr.trim().split('\n').pop() ?? 'exited')),
  );
  const first = await Promise.race([lines.next().then((l) => l.value as string | undefined), failed]);
  if (!first?.startsWith('{')) {
    child.kill();
    return `${python} with torch unavailable (${first ?? 'no output'})`;
  }
  return {
    version: (JSON.parse(first) as { torch: string }).torch,
    run: async () => {
      child.stdin.write('run\n');
      return Number((await lines.next()).value);
    },
    close: () => child.stdin.end(),
  };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * Runs the comparison and returns one row per architecture.
 * @example console.table(await runPretrainedBenchmarks({ threads: 2 }));
 */
export async function runPretrainedBenchmarks(opts: PretrainedBenchOptions = {}): Promise<Row[]> {
  const threads = opts.threads ?? availableParallelism();
  const reps = opts.reps ?? 7;
  const n = opts.batch ?? 80;
  const python = opts.python ?? '/usr/bin/python3';
  const tmp = mkdtempSync(join(tmpdir(), 'lwfm-bench-pretrained-'));
  const rows: Row[] = [];
  try {
    for (const arch of RESNET_ARCHS) {
      const weights = join(tmp, `${arch}.safetensors`);
      writeFileSync(weights, syntheticWeights(arch));
      const t0 = performance.now();
      const dir = await buildPretrainedBundle({ arch, out: join(tmp, arch), from: weights });
      const buildS = (performance.now() - t0) / 1000;
      const bundle = await loadBundle(dir);
      const x = fillUniform(new Float32Array(n * 3 * 84 * 84), streamKey(2, 1), -2, 2);
      const session = await ort.InferenceSession.create(bundle.backbonePath, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
      });
      const backbone = await Backbone.create(bundle, { device: 'cpu', workers: 1, threads });
      const torch = await startTorch(python, [
        '--arch',
        arch,
        '--weights',
        weights,
        '--taps',
        ...bundle.config.taps.map(String),
        '--batch',
        String(n),
        '--threads',
        String(threads),
      ]);
      const times: Record<'ours' | 'bare' | 'torch', number[]> = { ours: [], bare: [], torch: [] };
      try {
        const ours = (): Promise<unknown> => backbone.embed({ data: x, dims: [n, 3, 84, 84] });
        const bare = (): Promise<unknown> => session.run({ images: new ort.Tensor('float32', x, [n, 3, 84, 84]) });
        await ours();
        await bare();
        for (let r = 0; r < reps; r++) {
          times.ours.push(await timed(ours));
          times.bare.push(await timed(bare));
          if (typeof torch !== 'string') times.torch.push(await torch.run());
        }
        // One 5-way 1-shot episode with 75 queries on these channels (features of the batch).
        const feats = (await backbone.embed({ data: x, dims: [n, 3, 84, 84] })).data;
        const per = feats.length / n;
        await using head = new Head({ ...headOptionsOf(bundle), device: 'cpu', threads });
        const episode = async (): Promise<void> => {
          const support = await head.prepareSupport(feats.subarray(0, 5 * per), [0, 1, 2, 3, 4]);
          await head.score(support, feats.subarray(5 * per, 80 * per));
        };
        await episode();
        const headMs: number[] = [];
        for (let r = 0; r < reps; r++) headMs.push(await timed(episode));
        const ms = (v: number[]): number => median(v) / n;
        rows.push({
          arch,
          channels: bundle.config.channels.join('+'),
          'lwfm-spm ms/image': ms(times.ours),
          'bare ORT ms/image': ms(times.bare),
          'PyTorch ms/image': typeof torch === 'string' ? NaN : ms(times.torch),
          'lwfm-spm / bare ORT': median(times.ours) / median(times.bare),
          'PyTorch / lwfm-spm': typeof torch === 'string' ? NaN : median(times.torch) / median(times.ours),
          'head ms/episode': median(headMs),
          'bundle build s': buildS,
          note: typeof torch === 'string' ? `PyTorch skipped: ${torch}` : `torch ${torch.version}; ${threads} threads each; batch ${n}`,
        });
      } finally {
        if (typeof torch !== 'string') torch.close();
        await backbone.dispose();
        await session.release();
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}

/**
 * Backbone ms/image against the input resolution (--crop; the last two taps pooled to F x F
 * with F = the last tap's map size, so nothing is averaged away), per architecture.
 * @example console.table(await runResolutionBenchmarks({ threads: 2 }));
 */
export async function runResolutionBenchmarks(opts: PretrainedBenchOptions = {}): Promise<Row[]> {
  const threads = opts.threads ?? availableParallelism();
  const reps = opts.reps ?? 5;
  const crops = opts.crops ?? [84, 112, 160, 224];
  const tmp = mkdtempSync(join(tmpdir(), 'lwfm-bench-resolution-'));
  const rows: Row[] = [];
  try {
    for (const arch of RESNET_ARCHS) {
      const weights = join(tmp, `${arch}.safetensors`);
      writeFileSync(weights, syntheticWeights(arch));
      // All crops of one architecture are loaded together and timed in alternating rounds, so a
      // slow spell on shared cores does not land on one resolution only.
      const runs: { label: string; n: number; run: () => Promise<unknown>; backbone: Backbone; times: number[] }[] = [];
      try {
        for (const crop of crops) {
          const f = Math.ceil(crop / 32);
          const bundle = await loadBundle(
            await buildPretrainedBundle({ arch, out: join(tmp, `${arch}-${crop}`), from: weights, crop, featureSize: f }),
          );
          // Fewer images at large crops keep each batch near the same work.
          const n = Math.max(8, Math.round((80 * 84 * 84) / (crop * crop)));
          const x = fillUniform(new Float32Array(n * 3 * crop * crop), streamKey(2, crop), -2, 2);
          const backbone = await Backbone.create(bundle, { device: 'cpu', workers: 1, threads });
          runs.push({
            label: `crop ${crop} (F ${f}) ms/image`,
            n,
            backbone,
            times: [],
            run: () => backbone.embed({ data: x, dims: [n, 3, crop, crop] }),
          });
        }
        for (const r of runs) await r.run();
        for (let k = 0; k < reps; k++) for (const r of runs) r.times.push(await timed(r.run));
      } finally {
        for (const r of runs) await r.backbone.dispose();
      }
      const row: Row = { arch };
      for (const r of runs) row[r.label] = median(r.times) / r.n;
      rows.push(row);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}
