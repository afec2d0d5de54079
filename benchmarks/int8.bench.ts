/**
 * int8 backbone benchmark (issue 13): milliseconds per image, batch 80 at 84 x 84, of
 *   - a bare onnxruntime-node session on the fp32 default model (the peer, ratio 1),
 *   - a bare session on its int8 QDQ version (same weights, same threads, same options),
 *   - Backbone.embed(tensor) on the int8 bundle (our worker path),
 * in alternating rounds (medians), so the shared machine's slow spells hit all alike.
 * Run: node --import tsx benchmarks/int8.bench.ts [--threads N] [--reps N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { Backbone } from '../src/backbone/backbone.js';
import { defaultBundle } from '../src/model/default_bundle.js';
import { quantizeBundle, SAMPLES_DIR } from '../src/model/quantize/quantize_bundle.js';
import { fillUniform, streamKey } from '../src/model/rng.js';
import { interleavedMedians, type BenchRow } from './backbone.bench.js';

/**
 * The peer of the backbone benchmarks: a bare onnxruntime-node session with the options the
 * backbone workers use (intra-op threads, one inter-op thread, all graph optimizations).
 * @example const session = await bareSession(bundle.backbonePath, 2);
 */
export function bareSession(path: string, threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
}

/**
 * Runs the int8 benchmark and returns one row per measurement (ratio = ms per image / bare fp32 session's).
 * @example const rows = await runInt8Benchmarks({ threads: 2 });
 */
export async function runInt8Benchmarks(opts: { threads?: number; reps?: number; batch?: number } = {}): Promise<BenchRow[]> {
  const threads = opts.threads ?? availableParallelism();
  const reps = opts.reps ?? 9;
  const n = opts.batch ?? 80;
  const tmp = mkdtempSync(join(tmpdir(), 'lwfm-bench-int8-'));
  try {
    const fp32 = await defaultBundle({ cacheDir: tmp });
    const int8 = await quantizeBundle(fp32.dir, join(tmp, 'int8'), { calibrate: SAMPLES_DIR, threads });
    const x = fillUniform(new Float32Array(n * 3 * 84 * 84), streamKey(1, 7), -2, 2);
    const bareFp32 = await bareSession(fp32.backbonePath, threads);
    const bareInt8 = await bareSession(int8.backbonePath, threads);
    const backbone = await Backbone.create(int8, { device: 'cpu', workers: 1, threads });
    const feed = (): Record<string, ort.Tensor> => ({ images: new ort.Tensor('float32', x, [n, 3, 84, 84]) });
    try {
      const [f, q, ours] = await interleavedMedians(reps, [
        () => bareFp32.run(feed()),
        () => bareInt8.run(feed()),
        () => backbone.embed({ data: x, dims: [n, 3, 84, 84] }),
      ]);
      const fMs = f! / n;
      const qMs = q! / n;
      const oMs = ours! / n;
      return [
        {
          name: `bare onnxruntime-node session, fp32, batch ${n}`,
          msPerImage: fMs,
          ratio: 1,
          note: `${threads} threads, graphOptimizationLevel 'all', ${reps} alternating rounds`,
        },
        {
          name: `bare onnxruntime-node session, int8 QDQ bundle, batch ${n}`,
          msPerImage: qMs,
          ratio: qMs / fMs,
          note: `${(fMs / qMs).toFixed(2)}x faster than fp32 (same weights, QLinearConv/QLinearAdd kernels)`,
        },
        {
          name: `Backbone.embed(tensor), int8 bundle, batch ${n}`,
          msPerImage: oMs,
          ratio: oMs / fMs,
          note: `${(fMs / oMs).toFixed(2)}x faster than the bare fp32 session; 1 worker`,
        },
      ];
    } finally {
      await backbone.dispose();
      await bareFp32.release();
      await bareInt8.release();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string): number | undefined => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  console.table(await runInt8Benchmarks({ threads: arg('--threads'), reps: arg('--reps'), batch: arg('--batch') }));
}
