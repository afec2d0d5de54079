/** Shared by the CPU and GPU assignment tests: the seeded RNG, a brute-force optimum and checked totals. */
import { expect } from 'vitest';
export { rng } from './seeded_rng.js';
export { bruteForceTotal } from './brute_force_assignment.js';

/**
 * Total cost of each problem's assignment (row-major costs, one column per row), asserting
 * that every row got a valid column and no column was used twice.
 */
export function assignmentTotals(costs: Float32Array, assignment: Int32Array, batch: number, rows: number, cols: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const seen = new Set<number>();
    let t = 0;
    for (let i = 0; i < rows; i++) {
      const j = assignment[b * rows + i]!;
      expect(j >= 0 && j < cols && !seen.has(j), `problem ${b} row ${i} -> column ${j} is a valid distinct column`).toBe(true);
      seen.add(j);
      t += costs[(b * rows + i) * cols + j]!;
    }
    out.push(t);
  }
  return out;
}
