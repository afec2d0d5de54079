// The GPU's exact per-problem assignment search (cuda/exact_assignment.cuh, used by the
// head's pair kernel and the exact batched kernels), run on the CPU through
// _exactSolveTeamSync, against brute force (n <= 7) and the exact CPU solver (n up to 100).
import { describe, expect, it } from 'vitest';
import { hooks } from './helpers/test_addon.js';
import { assignmentTotals, bruteForceTotal, rng } from './helpers/assignment_reference.js';

type Kind = 'random' | 'ties' | 'integer' | 'cosine';

function makeCosts(kind: Kind, batch: number, rows: number, cols: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(batch * rows * cols);
  for (let k = 0; k < out.length; k++) {
    if (kind === 'random') out[k] = r() * 2;
    else if (kind === 'ties') out[k] = Math.floor(r() * 3);
    else if (kind === 'integer') out[k] = Math.floor(r() * 1000) - 500;
    else out[k] = 1 - Math.cos(r() * Math.PI); // cosine-like range [0, 2], dense near the ends
  }
  return out;
}

function expectOptimal(kind: Kind, batch: number, rows: number, cols: number, seed: number, want: (c: Float32Array) => ArrayLike<number>) {
  const costs = makeCosts(kind, batch, rows, cols, seed);
  const { assignment, converged } = hooks._exactSolveTeamSync(costs, batch, rows, cols, 1);
  expect(Array.from(converged)).toEqual(new Array(batch).fill(1));
  const got = assignmentTotals(costs, assignment, batch, rows, cols);
  const expected = want(costs);
  for (let b = 0; b < batch; b++) {
    const slack = 1e-9 * Math.max(1, Math.abs(expected[b]!)) * rows;
    expect(Math.abs(got[b]! - expected[b]!), `${kind} ${rows}x${cols} #${b}: ${got[b]} vs optimum ${expected[b]}`).toBeLessThanOrEqual(
      slack,
    );
  }
}

const brute = (rows: number, cols: number) => (c: Float32Array) =>
  Float64Array.from({ length: c.length / (rows * cols) }, (_, b) => bruteForceTotal(c, b * rows * cols, rows, cols));
const exactSolver = (rows: number, cols: number) => (c: Float32Array) =>
  hooks._exactAssignmentTotals(c, c.length / (rows * cols), rows, cols);

describe('exact assignment search (host run of the GPU per-problem code)', () => {
  for (const kind of ['random', 'ties', 'integer'] as const) {
    it(`matches brute force on ${kind} matrices, n = 1..7 and rectangular`, () => {
      for (let n = 1; n <= 7; n++) expectOptimal(kind, 8, n, n, 300 + n, brute(n, n));
      expectOptimal(kind, 8, 3, 7, 17, brute(3, 7));
      expectOptimal(kind, 8, 1, 5, 18, brute(1, 5));
    });
  }

  for (const kind of ['random', 'ties', 'integer', 'cosine'] as const) {
    it(`finds the optimum of the exact CPU solver on ${kind} matrices, n = 2..100 and rectangular`, () => {
      for (const n of [2, 8, 9, 16, 25, 33, 49, 64, 100]) expectOptimal(kind, n <= 25 ? 30 : 4, n, n, 7000 + n, exactSolver(n, n));
      expectOptimal(kind, 6, 20, 45, 9, exactSolver(20, 45));
      expectOptimal(kind, 6, 9, 128, 10, exactSolver(9, 128));
    });
  }

  it('maximizes with maximize: true', () => {
    const costs = makeCosts('random', 20, 9, 9, 41);
    const { assignment } = hooks._exactSolveTeamSync(costs, 20, 9, 9, 1, true);
    const got = assignmentTotals(costs, assignment, 20, 9, 9);
    const want = hooks._exactAssignmentTotals(
      costs.map((c) => -c),
      20,
      9,
      9,
    );
    for (let b = 0; b < 20; b++) expect(Math.abs(-got[b]! - want[b]!)).toBeLessThan(1e-9);
  });

  it('flags non-finite problems as not converged without losing the others', () => {
    const costs = makeCosts('random', 3, 3, 3, 5);
    costs[9 + 4] = NaN;
    costs[18 + 2] = -Infinity;
    const { assignment, converged } = hooks._exactSolveTeamSync(costs, 3, 3, 3, 1);
    expect(Array.from(converged)).toEqual([1, 0, 0]);
    expect(new Set(assignment.slice(0, 3)).size).toBe(3);
    expect(Array.from(assignment.slice(3))).toEqual([-1, -1, -1, -1, -1, -1]);
  });

  it('gives the identical assignment when a team of threads runs the warp protocol', () => {
    // Real threads with barriers where the warp has __syncwarp and shuffle reductions: a
    // misplaced sync would race (another assignment) or deadlock. Tie-heavy matrices check
    // that tie-breaking does not depend on the team size; 32 members is the warp itself.
    for (const [rows, cols, members] of [
      [5, 5, 3],
      [9, 9, 32],
      [12, 12, 16],
      [25, 25, 8],
      [7, 40, 32],
      [49, 49, 32],
    ] as const) {
      for (const kind of ['random', 'ties'] as const) {
        const costs = makeCosts(kind, 2, rows, cols, 77 + rows);
        const serial = hooks._exactSolveTeamSync(costs, 2, rows, cols, 1);
        const team = hooks._exactSolveTeamSync(costs, 2, rows, cols, members);
        expect(Array.from(team.converged)).toEqual([1, 1]);
        expect(Array.from(team.assignment), `${kind} ${rows}x${cols} with ${members} members`).toEqual(Array.from(serial.assignment));
      }
    }
  });

  it('register variant for 9 x 9 (the head pair kernel) gives the same assignments as the generic search', () => {
    for (const kind of ['random', 'ties', 'integer', 'cosine'] as const) {
      const costs = makeCosts(kind, 200, 9, 9, 555 + kind.length);
      const generic = hooks._exactSolveTeamSync(costs, 200, 9, 9, 1);
      const fixed = hooks._exactSolveFixed9Sync(costs, 200);
      expect(Array.from(fixed.converged)).toEqual(new Array(200).fill(1));
      expect(Array.from(fixed.assignment), kind).toEqual(Array.from(generic.assignment));
    }
    expect(() => hooks._exactSolveFixed9Sync(new Float32Array(80), 1)).toThrow(RangeError);
  });

  it('register variant stops on a NaN row instead of searching forever', () => {
    const costs = makeCosts('random', 3, 9, 9, 8);
    for (let j = 0; j < 9; j++) costs[81 + 4 * 9 + j] = NaN; // problem 1, row 4
    const { converged } = hooks._exactSolveFixed9Sync(costs, 3);
    expect(Array.from(converged)).toEqual([1, 0, 1]);
  });
});
