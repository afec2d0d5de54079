// GPU rows for the assignment and head benchmarks (issue 5): 1,000,000 9x9, 100,000 49x49
// and 256 64x64 assignments through solveAssignmentsCuda (host to host, includes the copies
// and the exact fallback), and the 1000-way 1-shot x 1000 queries head (taps [7, 8] -> channels
// [512, 512], F = 3, matcher MLP) through prepareCudaSupport / score. Prints a line saying why
// when there is no usable device. Kernel-only times come from scripts/device-check.sh.
import { cudaInfo, solveAssignmentsCuda } from '../src/cuda.js';
import { prepareCudaSupport } from '../src/cuda_head.js';
import { rng } from '../test/helpers/seeded_rng.js';

function randomCosts(batch: number, n: number): Float32Array {
  const r = rng(batch + n);
  const out = new Float32Array(batch * n * n);
  for (let k = 0; k < out.length; k++) out[k] = r() * 2; // cosine costs span [0, 2]
  return out;
}

async function timeIt(fn: () => Promise<unknown>, reps: number): Promise<number> {
  await fn(); // warm-up: context creation, allocations
  const t0 = performance.now();
  for (let k = 0; k < reps; k++) await fn();
  return (performance.now() - t0) / reps;
}

const info = cudaInfo();
if (!info.available) {
  console.log(`GPU benchmark skipped: ${info.reason ?? 'no CUDA device'}`);
} else {
  console.log(`device: ${info.devices.map((d) => `${d.name} (sm ${d.computeCapability})`).join(', ')}`);
  const rows: [string, string][] = [];
  for (const [batch, n] of [[1_000_000, 9], [100_000, 49], [256, 64]] as const) {
    const costs = randomCosts(batch, n);
    const ms = await timeIt(() => solveAssignmentsCuda(costs, { batch, rows: n, cols: n }), 3);
    rows.push([`solveAssignmentsCuda ${batch} x ${n}x${n}`, `${ms.toFixed(2)} ms host-to-host (${((ms * 1000) / batch).toFixed(3)} us/problem)`]);
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
  const ms = await timeIt(() => support.score(queries), 3);
  support.dispose();
  rows.push(['head 1000-way 1-shot x 1000 queries [512,512] F=3 MLP', `${ms.toFixed(2)} ms host-to-host (support prepare ${prepMs.toFixed(1)} ms)`]);
  console.log('\n| GPU benchmark | time |\n|---|---|');
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
}
