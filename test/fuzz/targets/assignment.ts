/**
 * solveAssignments / solveAssignmentsSync on random shapes, options and values (NaN,
 * Infinity, extremes, wrong lengths): valid problems must give an optimal assignment
 * (brute force in double), everything else a documented error.
 */
import fc from 'fast-check';
import { solveAssignments, solveAssignmentsSync } from '../../../src/assignment.js';
import { bruteForceTotal } from '../../helpers/brute_force_assignment.js';
import { check, checkDocumentedError, runsFor } from '../contract.js';

const value = fc.oneof(
  { weight: 12, arbitrary: fc.double({ min: -1000, max: 1000, noNaN: true }).map(Math.fround) },
  { weight: 2, arbitrary: fc.integer({ min: -3, max: 3 }) }, // ties
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, -0, 3.4e38, -3.4e38, 1e-45) },
);

const problem = fc.record({
  batch: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, NaN) }),
  rows: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 5 }) }, { weight: 1, arbitrary: fc.constantFrom(0, -2, 2.5) }),
  extraCols: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: fc.constant(-1) }),
  lengthDelta: fc.oneof({ weight: 10, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) }),
  maximize: fc.oneof(fc.boolean(), fc.constant(undefined), fc.constant('yes' as unknown as boolean)),
  threads: fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 4 }), fc.constantFrom(0, -1, 1e9)),
  values: fc.array(value, { minLength: 0, maxLength: 4 * 5 * 7 + 3 }),
});

function checkResult(
  out: Int32Array,
  costs: Float32Array,
  batch: number,
  rows: number,
  cols: number,
  maximize: boolean,
  where: string,
): void {
  check(out.length === batch * rows, `${where}: ${out.length} results for ${batch} x ${rows} rows`);
  for (let b = 0; b < batch; b++) {
    const seen = new Set<number>();
    let total = 0;
    let scale = 1;
    for (let i = 0; i < rows; i++) {
      const j = out[b * rows + i]!;
      check(Number.isInteger(j) && j >= 0 && j < cols && !seen.has(j), `${where}: problem ${b} row ${i} got column ${j}`);
      seen.add(j);
      total += costs[(b * rows + i) * cols + j]!;
      for (let k = 0; k < cols; k++) scale = Math.max(scale, Math.abs(costs[(b * rows + i) * cols + k]!));
    }
    const best = bruteForceTotal(costs, b * rows * cols, rows, cols, maximize);
    check(Math.abs(total - best) <= 1e-5 * scale * rows, `${where}: problem ${b} total ${total}, optimum ${best}`);
  }
}

export default async function fuzzAssignment(seed: number): Promise<number> {
  const runs = runsFor(300);
  await fc.assert(
    fc.asyncProperty(problem, async (p) => {
      const cols = p.rows + p.extraCols;
      const n = Math.max(
        0,
        (Number.isInteger(p.batch) && p.batch > 0 ? p.batch : 1) * Math.max(0, p.rows) * Math.max(0, cols) + p.lengthDelta,
      );
      const costs = new Float32Array(Number.isFinite(n) ? Math.max(0, Math.floor(n)) : 0);
      for (let i = 0; i < costs.length; i++) costs[i] = p.values.length ? p.values[i % p.values.length]! : 0;
      const shape = { batch: p.batch, rows: p.rows, cols, maximize: p.maximize };
      const allFinite = costs.every((v) => Number.isFinite(v) && Math.abs(v) <= 1e30);
      const valid =
        Number.isInteger(p.batch) &&
        p.batch >= 1 &&
        p.rows >= 1 &&
        Number.isInteger(p.rows) &&
        cols >= p.rows &&
        p.lengthDelta === 0 &&
        allFinite &&
        (p.maximize === undefined || typeof p.maximize === 'boolean') &&
        (p.threads === undefined || (p.threads >= 1 && p.threads <= 1024));
      let sync: Int32Array | undefined;
      try {
        sync = solveAssignmentsSync(costs, shape);
      } catch (e) {
        checkDocumentedError(e, 'solveAssignmentsSync');
      }
      let async: Int32Array | undefined;
      try {
        async = await solveAssignments(costs, { ...shape, threads: p.threads });
      } catch (e) {
        checkDocumentedError(e, 'solveAssignments');
      }
      if (valid) {
        check(sync !== undefined, 'solveAssignmentsSync rejected a valid problem');
        check(async !== undefined, 'solveAssignments rejected a valid problem');
        checkResult(sync, costs, p.batch, p.rows, cols, p.maximize === true, 'sync');
        checkResult(async, costs, p.batch, p.rows, cols, p.maximize === true, 'async');
      }
    }),
    { seed, numRuns: runs },
  );
  return runs;
}
