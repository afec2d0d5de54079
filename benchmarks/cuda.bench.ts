// GPU rows for the assignment and head benchmarks: 1,000,000 9x9, 100,000 49x49
// and 256 64x64 assignments through solveAssignmentsCuda (host to host, includes the copies),
// the head benchmark's 5-way 1-shot and 5-shot episodes through Head({ device: 'cuda' }),
// and the 1000-way 1-shot x 1000 queries head (taps [7, 8] -> channels [512, 512], F = 3,
// matcher MLP) through prepareCudaSupport / score. When LWFM_AUTHORS_CODE names a checkout of
// github.com/Halo2Tang/Code-for-LWFM-SPM, the authors' head runs the same 5-way episodes on the
// same GPU as the peer (python: LWFM_BENCH_PYTHON, default python3 on the PATH).
// `npm run bench:match` includes these rows when a device exists; without one the suite
// returns no rows and says why. Kernel-only times and the checks against the CPU come from
// scripts/device-check.sh.
//   node --import tsx benchmarks/cuda.bench.ts
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cudaInfo, solveAssignmentsCuda } from '../src/cuda.js';
import { prepareCudaSupport } from '../src/cuda_head.js';
import { rng } from '../test/helpers/seeded_rng.js';
import { headOptionsFor, makeEpisode } from '../test/helpers/episode_rng.js';
import { Head } from '../src/head.js';
import { episodeCase, runAuthorsHead } from './head.bench.js';
import type { Row } from './render.js';
import { median } from './median.js';

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
  return median(times);
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
  for (const [batch, n] of [
    [1_000_000, 9],
    [100_000, 49],
    [256, 64],
  ] as const) {
    const costs = randomCosts(batch, n);
    const ms = await medianMs(() => solveAssignmentsCuda(costs, { batch, rows: n, cols: n }), 5);
    rows.push({
      name: `solveAssignmentsCuda, ${batch} problems`,
      n,
      ms,
      usPerProblem: (ms * 1000) / batch,
      note: `host to host, median of 5; ${device}`,
    });
  }
  rows.push(...(await fiveWayRows(device, log)));
  const way = 1000,
    Q = 1000,
    C = 1024,
    P = 9;
  const r = rng(7);
  const features = Float32Array.from({ length: way * C * P }, () => Math.max(0, r() * 2 - 1));
  const queries = Float32Array.from({ length: Q * C * P }, () => Math.max(0, r() * 2 - 1));
  const matcher = [512, 512].map((c) => ({
    w1: Float32Array.from({ length: (c / 2) * c }, () => (r() * 2 - 1) / Math.sqrt(c)),
    w2: Float32Array.from({ length: c * (c / 2) }, () => (r() * 2 - 1) / Math.sqrt(c / 2)),
  }));
  const t0 = performance.now();
  const support = prepareCudaSupport(
    { channels: [512, 512], matcher },
    features,
    Array.from({ length: way }, (_, k) => k),
  );
  const prepMs = performance.now() - t0;
  try {
    const ms = await medianMs(() => support.score(queries), 5);
    rows.push({
      name: 'GPU head, 1000-way 1-shot x 1000 queries [512, 512], F = 3, MLP',
      ms,
      note: `score host to host, median of 5; support prepare ${prepMs.toFixed(1)} ms; ${device}`,
    });
  } finally {
    support.dispose();
  }
  return rows;
}

/** The head benchmark's 5-way episodes with the head on the GPU, and the authors' head on it too when available. */
async function fiveWayRows(device: string, log: (line: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  const authors = process.env.LWFM_AUTHORS_CODE;
  for (const [shots, seed] of [
    [1, 11],
    [5, 55],
  ] as const) {
    const c = episodeCase(shots, seed);
    const ep = makeEpisode(c);
    const head = new Head({ ...headOptionsFor(c, ep.matcher), device: 'cuda' });
    let ms: number;
    try {
      ms = await medianMs(async () => {
        const support = await head.prepareSupport(ep.support, c.labels);
        try {
          await head.score(support, ep.query);
        } finally {
          support.dispose();
        }
      }, 21);
    } finally {
      head.dispose();
    }
    rows.push({ name: `GPU head ${c.name} (prepare + score, 75 queries)`, ms, note: `host to host, median of 21; ${device}` });
    log(`${rows.at(-1)!.name}: ${ms.toFixed(3)} ms`);
    if (!authors) continue;
    try {
      const python = process.env.LWFM_BENCH_PYTHON ?? 'python3';
      const r = runAuthorsHead(c, authors, 21, availableParallelism(), { device: 'cuda', python });
      rows.push({
        name: `authors' PyTorch head ${c.name} on the GPU (Method.cca)`,
        ms: r.ms,
        ratioVsOurs: r.ms / ms,
        note: `median of 21 after a warm-up, torch.cuda.synchronize per call; their logits vs ours: max abs diff ${r.maxAbsDiff.toExponential(2)}, argmax differs for ${r.argmaxDiffers} of ${r.queries} queries`,
      });
    } catch (err) {
      rows.push({ name: `authors' PyTorch head ${c.name} on the GPU`, ms: NaN, note: `failed: ${(err as Error).message.slice(-300)}` });
    }
    log(`${rows.at(-1)!.name}: ${Number(rows.at(-1)!.ms).toFixed(2)} ms; ${rows.at(-1)!.note}`);
  }
  return rows;
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const rows = await runCudaBenchmarks();
  if (rows.length) console.table(rows);
}
