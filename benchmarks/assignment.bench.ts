/**
 * Assignment benchmark: per-problem microseconds of lwfm-spm's batched exact solver against
 * the npm packages `munkres`, `munkres-js`, `linear-sum-assignment` and SciPy's
 * `linear_sum_assignment`, on batches of random cosine-style cost matrices (1 - cos of random
 * 64-dimensional vectors, what the LWFM-SPM head builds). Every competitor's optimal total is
 * checked against ours on a sample first, so the comparison is between equally exact answers.
 *
 * Standalone: node --import tsx benchmarks/assignment.bench.ts [--quick]
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { munkres } from 'munkres';
import { linearSumAssignment } from 'linear-sum-assignment';
import { solveAssignments, solveAssignmentsSync } from '../src/assignment.js';
import { cosineCostBatch } from '../src/cli/bench/numbers.js';
import { median } from './median.js';

// munkres-js is CommonJS without type declarations.
const munkresJs = createRequire(import.meta.url)('munkres-js') as (matrix: number[][]) => number[][];

/** One row of the results table. */
export type BenchRow = {
  name: string;
  n: number;
  usPerProblem: number;
  /** usPerProblem divided by ours on one thread (higher = slower than ours). */
  ratioVsOurs: number;
  note?: string;
};

export interface AssignmentBenchOptions {
  /** Matrix sizes (default [9, 25, 49, 100]). */
  sizes?: number[];
  /** Problems per batch for our solver (default 10,000). */
  batch?: number;
  /** Timed repeats; the median is reported (default 5). */
  repeats?: number;
  /** Rough time budget per competitor and size, in ms: slow ones solve fewer problems (default 3000). */
  budgetMs?: number;
  /** Problems whose totals are cross-checked per competitor and size (default 20). */
  sample?: number;
  /** Progress output (default console.log). */
  log?: (line: string) => void;
}

/** `batch` n x n matrices of 1 - cos(a_i, b_j) of random Gaussian vectors (the head's costs). */
export const cosineCosts = cosineCostBatch;

function matrixOf(costs: Float32Array, m: number, n: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from(costs.subarray((m * n + i) * n, (m * n + i + 1) * n)));
}

function totalOfColumns(costs: Float32Array, m: number, n: number, colOfRow: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += costs[(m * n + i) * n + colOfRow[i]!]!;
  return total;
}

function totalOfPairs(costs: Float32Array, m: number, n: number, pairs: number[][]): number {
  if (pairs.length !== n) return Number.NaN;
  let total = 0;
  for (const [i, j] of pairs) total += costs[(m * n + i!) * n + j!]!;
  return total;
}

interface Competitor {
  name: string;
  /** Solves matrix m (prepared input) and returns its total, for the cross-check. */
  solveTotal(costs: Float32Array, m: number, n: number, input: number[][]): number;
  /** Solves prepared inputs (timed). */
  solve(input: number[][]): void;
}

const competitors: Competitor[] = [
  {
    name: 'munkres (npm)',
    solveTotal: (costs, m, n, input) => totalOfPairs(costs, m, n, munkres(input) as number[][]),
    solve: (input) => void munkres(input),
  },
  {
    name: 'munkres-js (npm)',
    solveTotal: (costs, m, n, input) => totalOfPairs(costs, m, n, munkresJs(input) as number[][]),
    solve: (input) => void munkresJs(input),
  },
  {
    name: 'linear-sum-assignment (npm)',
    // Its default is maximaze: true; square inputs are not transposed, so rowAssignments[i] = column of row i.
    solveTotal: (costs, m, n, input) => totalOfColumns(costs, m, n, linearSumAssignment(input, { maximaze: false }).rowAssignments),
    solve: (input) => void linearSumAssignment(input, { maximaze: false }),
  },
];

// One timed pass over the problems per process (the benchmark runs one per round); totals of
// the first `sample` problems for the cross-check.
const SCIPY_SCRIPT = `
import json, sys, time
import numpy as np
from scipy.optimize import linear_sum_assignment
path, n, count, sample = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
m = np.fromfile(path, dtype='<f4').reshape(count, n, n).astype(np.float64)
totals = []
for k in range(min(sample, count)):
    r, c = linear_sum_assignment(m[k])
    totals.append(float(m[k][r, c].sum()))
for k in range(min(count, 200)):
    linear_sum_assignment(m[k])
t0 = time.perf_counter()
for k in range(count):
    linear_sum_assignment(m[k])
print(json.dumps({"us": (time.perf_counter() - t0) / count * 1e6, "totals": totals}))
`;

/** SciPy on the first problems of `costs` (at most ~40 MB of float32 handed to Python). */
function scipyRunner(costs: Float32Array, n: number, batch: number, sampleSize: number) {
  const count = Math.max(sampleSize, Math.min(batch, Math.floor(10_000_000 / (n * n))));
  const dir = mkdtempSync(join(tmpdir(), 'lwfm-bench-'));
  const file = join(dir, 'costs.bin');
  const part = costs.subarray(0, count * n * n);
  writeFileSync(file, Buffer.from(part.buffer, part.byteOffset, part.byteLength));
  const run = () =>
    JSON.parse(
      execFileSync('/usr/bin/python3', ['-c', SCIPY_SCRIPT, file, String(n), String(count), String(sampleSize)], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      }),
    ) as {
      us: number;
      totals: number[];
    };
  const first = run();
  return {
    count,
    totals: first.totals,
    time: () => run().us,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function scipyAvailable(): string | undefined {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import scipy.optimize'], { stdio: 'ignore' });
    return undefined;
  } catch (err) {
    return `/usr/bin/python3 with scipy not available (${(err as Error).message.split('\n')[0]})`;
  }
}

function checkTotals(name: string, n: number, ours: number[], theirs: number[]): void {
  theirs.forEach((t, m) => {
    const o = ours[m]!;
    if (!(Math.abs(t - o) <= 1e-9 * Math.max(1, Math.abs(o)))) {
      throw new Error(`${name} disagrees with lwfm-spm on ${n}x${n} matrix ${m}: total ${t} vs ${o}`);
    }
  });
}

/**
 * Runs the assignment benchmark and returns one row per solver and size.
 * @example
 * const rows = await runAssignmentBenchmarks({ sizes: [9], batch: 1000 });
 */
export async function runAssignmentBenchmarks(opts: AssignmentBenchOptions = {}): Promise<BenchRow[]> {
  const sizes = opts.sizes ?? [9, 25, 49, 100];
  const batch = opts.batch ?? 10_000;
  const repeats = opts.repeats ?? 5;
  const budgetMs = opts.budgetMs ?? 3000;
  const sampleSize = Math.min(opts.sample ?? 20, batch);
  const log = opts.log ?? ((line: string) => console.log(line));
  const threads = availableParallelism();
  const rows: BenchRow[] = [];
  const scipyMissing = scipyAvailable();
  if (scipyMissing) log(`SciPy skipped: ${scipyMissing}`);

  for (const n of sizes) {
    const costs = cosineCosts(batch, n, 1000 + n);
    const shape = { batch, rows: n, cols: n };
    // Every solver, ours and the peers, is timed once per round, rounds repeated: a change in
    // load on these shared cores then hits all of them alike instead of whichever ran during it.
    const variants: [string, () => unknown][] = [
      ['lwfm-spm solveAssignmentsSync, 1 thread', () => solveAssignmentsSync(costs, shape)],
      ['lwfm-spm solveAssignments (async), 1 thread', () => solveAssignments(costs, { ...shape, threads: 1 })],
      [`lwfm-spm solveAssignments (async), ${threads} threads`, () => solveAssignments(costs, { ...shape, threads })],
    ];
    const oursResult = solveAssignmentsSync(costs, shape);
    const oursTotals = Array.from({ length: sampleSize }, (_, m) => totalOfColumns(costs, m, n, oursResult.subarray(m * n, (m + 1) * n)));
    const peers = competitors.map((c) => {
      const sampleTotals = Array.from({ length: sampleSize }, (_, m) => c.solveTotal(costs, m, n, matrixOf(costs, m, n)));
      checkTotals(c.name, n, oursTotals, sampleTotals);
      // Estimate speed on a few problems, then time as many as fit the budget (at most `batch`).
      const probe = Math.min(batch, 10);
      const probeInputs = Array.from({ length: probe }, (_, m) => matrixOf(costs, m, n));
      const t0 = performance.now();
      for (const input of probeInputs) c.solve(input);
      const estimateMs = (performance.now() - t0) / probe;
      const count = Math.max(probe, Math.min(batch, Math.floor(budgetMs / repeats / Math.max(estimateMs, 1e-6))));
      return { c, count, inputs: Array.from({ length: count }, (_, m) => matrixOf(costs, m, n)) };
    });
    const scipy = scipyMissing ? undefined : scipyRunner(costs, n, batch, sampleSize);
    try {
      if (scipy) checkTotals('scipy', n, oursTotals, scipy.totals);
      const samples: number[][] = variants.map(() => []);
      const peerSamples: number[][] = peers.map(() => []);
      const scipySamples: number[] = [];
      for (const [, run] of variants) await run(); // warm-up
      for (let r = 0; r < repeats; r++) {
        for (const [v, [, run]] of variants.entries()) {
          const t0 = performance.now();
          await run();
          samples[v]!.push(((performance.now() - t0) * 1000) / batch);
        }
        for (const [k, { c, inputs }] of peers.entries()) {
          const t0 = performance.now();
          for (const input of inputs) c.solve(input);
          peerSamples[k]!.push(((performance.now() - t0) * 1000) / inputs.length);
        }
        if (scipy) scipySamples.push(scipy.time());
      }
      const ours = median(samples[0]!);
      const push = (name: string, us: number, note?: string): void => {
        const row: BenchRow = { name, n, usPerProblem: us, ratioVsOurs: us / ours, ...(note ? { note } : {}) };
        rows.push(row);
        log(
          `n=${String(n).padStart(3)}  ${name.padEnd(46)} ${us.toFixed(3).padStart(10)} us/problem  x${row.ratioVsOurs.toFixed(2)}${note ? `  (${note})` : ''}`,
        );
      };
      variants.forEach(([name], v) =>
        push(name, median(samples[v]!), v === 0 ? `${batch} problems, median of ${repeats} rounds` : undefined),
      );
      peers.forEach(({ c, count }, k) => {
        const notes = [`totals equal ours on ${sampleSize} problems`, 'number[][] input prepared outside the timing'];
        if (count < batch) notes.push(`timed on ${count} of the ${batch} problems to fit the time budget`);
        push(c.name, median(peerSamples[k]!), notes.join('; '));
      });
      if (scipy) {
        const notes = [
          `totals equal ours on ${sampleSize} problems`,
          'Python loop over float64 matrices, timed in Python (one process per round)',
        ];
        if (scipy.count < batch) notes.push(`timed on ${scipy.count} problems`);
        push('scipy.optimize.linear_sum_assignment', median(scipySamples), notes.join('; '));
      }
    } finally {
      scipy?.dispose();
    }
  }
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes('--quick');
  const rows = await runAssignmentBenchmarks(quick ? { batch: 1000, repeats: 3, budgetMs: 500 } : {});
  console.log('\n| n | solver | us/problem | vs ours (1 thread) | note |\n|---|---|---|---|---|');
  for (const r of rows)
    console.log(`| ${r.n} | ${r.name} | ${r.usPerProblem.toFixed(3)} | ${r.ratioVsOurs.toFixed(2)} | ${r.note ?? ''} |`);
}
