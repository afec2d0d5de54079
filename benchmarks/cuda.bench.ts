// GPU rows for the assignment and head benchmarks (issue 5): 1,000,000 9x9, 100,000 49x49
// and 256 64x64 assignments through solveAssignmentsCuda (host to host, includes the copies),
// and the 1000-way 1-shot x 1000 queries head (taps [7, 8] -> channels [512, 512], F = 3,
// matcher MLP) through prepareCudaSupport / score. `npm run bench:match` includes these rows
// when a device exists; without one the suite returns no rows and says why. Kernel-only times
// and the checks against the CPU come from scripts/device-check.sh.
//   node --import tsx benchmarks/cuda.bench.ts
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cudaInfo, solveAssignmentsCuda } from '../src/cuda.js';
import { prepareCudaSupport } from '../src/cuda_head.js';
import { rng } from '../test/helpers/seeded_rng.js';
import type { Row } from './render.js';

function randomCosts(batch: number, n: number): Float32Array {
  const r = rng(batch + n);
  const out = new Float32Array(batch * n * n);
  for (let k = 0; k < out.length; k++) out[k] = r() * 2; // cosine costs span [0, 2]
  return out;
}

/** Median of `reps` timed calls after one warm-up (context creation, allocations). */
async function medianMs(fn: () => Promise<unknown>, reps: number): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(reps / 2)]!;
}

/** GPU rows, or none (with a log line saying why) when no usable device exists. */
export async function runCudaBenchmarks(log: (line: string) => void = console.log): Promise<Row[]> {
  const info = cudaInfo();
  if (!info.available) {
    log(`GPU benchmark skipped: ${info.reason ?? 'no CUDA device'}`);
    return [];
  }
  const device = info.devices.map((d) => `${d.name} (sm ${d.computeCapability})`).join(', ');
  const rows: Row[] = [];
  for (const [batch, n] of [[1_000_000, 9], [100_000, 49], [256, 64]] as const) {
    const costs = randomCosts(batch, n);
    const ms = await medianMs(() => solveAssignmentsCuda(costs, { batch, rows: n, cols: n }), 5);
    rows.push({ name: `solveAssignmentsCuda, ${batch} problems`, n, ms, usPerProblem: (ms * 1000) / batch, note: `host to host, median of 5; ${device}` });
  }
  const way = 1000, Q = 1000, C = 1024, P = 9;
  const r = rng(7);
  const features = Float32Array.from({ length: way * C * P }, () => Math.max(0, r() * 2 - 1));
  const queries = Float32Array.from({ length: Q * C * P }, () => Math.max(0, r() * 2 - 1));
  const matcher = [512, 512].map((c) => ({
    w1: Float32Array.from({ length: (c / 2) * c }, () => (r() * 2 - 1) / Math.sqrt(c)),
    w2: Float32Array.from({ length: c * (c / 2) }, () => (r() * 2 - 1) / Math.sqrt(c / 2)),
  }));
  const t0 = performance.now();
  const support = prepareCudaSupport({ channels: [512, 512], matcher }, features, Array.from({ length: way }, (_, k) => k));
  const prepMs = performance.now() - t0;
  try {
    const ms = await medianMs(() => support.score(queries), 5);
    rows.push({ name: 'GPU head, 1000-way 1-shot x 1000 queries [512, 512], F = 3, MLP', ms, note: `score host to host, median of 5; support prepare ${prepMs.toFixed(1)} ms; ${device}` });
  } finally {
    support.dispose();
  }
  return rows;
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const rows = await runCudaBenchmarks();
  if (rows.length) console.table(rows);
}
