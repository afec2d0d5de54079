/**
 * `lwfm-spm bench match`: microseconds per exact assignment problem on random cosine-cost
 * matrices (1 - cos of random 64-d vectors, the costs the LWFM-SPM head builds), on one thread
 * and on T threads, for each matrix size.
 */
import { solveAssignments, solveAssignmentsSync } from '../../assignment.js';
import { timeRuns } from './common.js';
import { cosineCostBatch, median } from './numbers.js';

export interface MatchBenchOptions {
  sizes: number[];
  /** Problems per timed batch; undefined: sized so that one single-thread run takes about 50 ms. */
  batch: number | undefined;
  threads: number;
  repeats: number;
}

export interface MatchBenchRow {
  n: number;
  batch: number;
  /** Median microseconds per problem, one thread (solveAssignmentsSync on the calling thread). */
  usPerProblem1: number;
  /** Median microseconds per problem with the batch split over `threads` threads (solveAssignments). */
  usPerProblemT: number;
  threads: number;
  /** usPerProblem1 / usPerProblemT. */
  speedup: number;
}

// Distinct matrices beyond this are repeated (tiled): generating costs in JavaScript is far
// slower than solving them, and the solver does not cache anything between problems.
const DISTINCT = 2000;

function tiled(batch: number, n: number, seed: number): Float32Array {
  const distinct = cosineCostBatch(Math.min(batch, DISTINCT), n, seed);
  if (batch <= DISTINCT) return distinct;
  const out = new Float32Array(batch * n * n);
  for (let at = 0; at < out.length; at += distinct.length) out.set(distinct.subarray(0, Math.min(distinct.length, out.length - at)), at);
  return out;
}

/** Runs the benchmark for every size; `log` gets one line per size as it finishes. */
export async function runMatchBench(opts: MatchBenchOptions, log: (line: string) => void = () => {}): Promise<MatchBenchRow[]> {
  const rows: MatchBenchRow[] = [];
  for (const n of opts.sizes) {
    let batch = opts.batch;
    if (batch === undefined) {
      // Calibrate on a small batch: about 50 ms per single-thread run, between 100 and 100,000 problems.
      const probe = tiled(200, n, n);
      const shape = { batch: 200, rows: n, cols: n };
      solveAssignmentsSync(probe, shape);
      const t0 = performance.now();
      solveAssignmentsSync(probe, shape);
      const perProblem = (performance.now() - t0) / 200;
      batch = Math.max(100, Math.min(100_000, Math.round(50 / Math.max(perProblem, 1e-6))));
    }
    const costs = tiled(batch, n, n);
    const shape = { batch, rows: n, cols: n };
    const one = await timeRuns(() => solveAssignmentsSync(costs, shape), 2, opts.repeats);
    const many = await timeRuns(() => solveAssignments(costs, { ...shape, threads: opts.threads }), 2, opts.repeats);
    const usPerProblem1 = (median(one) * 1000) / batch;
    const usPerProblemT = (median(many) * 1000) / batch;
    const row = { n, batch, usPerProblem1, usPerProblemT, threads: opts.threads, speedup: usPerProblem1 / usPerProblemT };
    rows.push(row);
    log(formatMatchRow(row));
  }
  return rows;
}

/** One line of the text report. */
export function formatMatchRow(r: MatchBenchRow): string {
  const us = (v: number): string => (v < 10 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(1));
  return `${`${r.n} x ${r.n}`.padEnd(11)} ${us(r.usPerProblem1).padStart(9)} us/problem on 1 thread   ${us(r.usPerProblemT).padStart(9)} us/problem on ${r.threads} threads (x${r.speedup.toFixed(2)})   batch ${r.batch}`;
}
