// The GPU's per-problem auction (cuda/auction.cuh), run on the CPU through _auctionSolveSync,
// against brute force (n <= 7) and the exact CPU solver (n up to 100). GPU runs of the same
// code are checked in the describe block at the end when a device exists.
import { describe, expect, it } from 'vitest';
import { hooks } from './helpers/test_addon.js';
import { cudaInfo, solveAssignmentsCuda } from '../src/cuda.js';
import { DeviceUnavailableError } from '../src/errors.js';
import { assignmentTotals, bruteForceTotal, rng } from './helpers/assignment_reference.js';

type Kind = 'random' | 'ties' | 'integer' | 'cosine' | 'wide';

function makeCosts(kind: Kind, batch: number, rows: number, cols: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(batch * rows * cols);
  if (kind === 'cosine') {
    const dim = 16;
    for (let b = 0; b < batch; b++) {
      const vec = () => {
        const v = Array.from({ length: dim }, () => r() * 2 - 1);
        const n = Math.hypot(...v);
        return v.map((x) => x / n);
      };
      const S = Array.from({ length: rows }, vec);
      const Q = Array.from({ length: cols }, vec);
      for (let i = 0; i < rows; i++)
        for (let j = 0; j < cols; j++) out[(b * rows + i) * cols + j] = 1 - S[i]!.reduce((s, x, k) => s + x * Q[j]![k]!, 0);
    }
    return out;
  }
  for (let k = 0; k < out.length; k++) {
    if (kind === 'random') out[k] = r() * 2;
    else if (kind === 'ties') out[k] = Math.floor(r() * 3);
    else if (kind === 'integer') out[k] = Math.floor(r() * 1000) - 500;
    else out[k] = (r() - 0.5) * 2e6; // wide range: bound grows with the range
  }
  return out;
}

function checkAgainst(
  kind: Kind,
  batch: number,
  rows: number,
  cols: number,
  seed: number,
  exact: (c: Float32Array) => Float64Array,
  jacobi = false,
) {
  const costs = makeCosts(kind, batch, rows, cols, seed);
  const { assignment, converged, bound } = hooks._auctionSolveSync(costs, batch, rows, cols, jacobi);
  const want = exact(costs);
  for (let b = 0; b < batch; b++) expect(converged[b], `problem ${b} converged`).toBe(1);
  const totals = assignmentTotals(costs, assignment, batch, rows, cols);
  for (let b = 0; b < batch; b++) {
    const total = totals[b]!;
    const excess = total - want[b]!;
    // Optimal for the quantized costs: never below the optimum, at most the documented bound above.
    const slack = 1e-12 * Math.max(1, Math.abs(want[b]!)) * rows;
    expect(excess, `${kind} ${rows}x${cols} #${b}: auction ${total} vs exact ${want[b]}`).toBeGreaterThanOrEqual(-slack);
    expect(excess).toBeLessThanOrEqual(bound[b]! + slack);
  }
  return bound;
}

const brute = (rows: number, cols: number) => (c: Float32Array) => {
  const batch = c.length / (rows * cols);
  return Float64Array.from({ length: batch }, (_, b) => bruteForceTotal(c, b * rows * cols, rows, cols));
};
const exactSolver = (rows: number, cols: number) => (c: Float32Array) =>
  hooks._exactAssignmentTotals(c, c.length / (rows * cols), rows, cols);

describe('auction assignment (host run of the GPU per-problem code)', () => {
  for (const [variant, jacobi] of [
    ['Gauss-Seidel', false],
    ['Jacobi', true],
  ] as const) {
    for (const kind of ['random', 'ties', 'integer'] as const) {
      it(`${variant}: matches brute force on ${kind} matrices, n = 1..7 and rectangular`, () => {
        for (let n = 1; n <= 7; n++) checkAgainst(kind, 6, n, n, 100 + n, brute(n, n), jacobi);
        checkAgainst(kind, 6, 3, 7, 7, brute(3, 7), jacobi);
        checkAgainst(kind, 6, 1, 5, 8, brute(1, 5), jacobi);
      });
    }

    for (const kind of ['random', 'ties', 'integer', 'cosine'] as const) {
      it(`${variant}: matches the exact solver on ${kind} matrices, n = 2..100, within the documented 1e-5 bound`, () => {
        for (const n of [2, 8, 9, 16, 25, 33, 49, 64, 100]) {
          const batch = n <= 25 ? 20 : n <= 64 ? 4 : 2;
          const bound = checkAgainst(kind, batch, n, n, 1000 * n + kind.length, exactSolver(n, n), jacobi);
          // Documented: < 1e-5 whenever the cost range is at most 2^12 / 2^ceil(log2 n) (integer costs span 1000).
          if (kind !== 'integer') for (const b of bound) expect(b).toBeLessThan(1e-5);
        }
        checkAgainst(kind, 5, 20, 45, 3, exactSolver(20, 45), jacobi);
      });
    }
  }

  it('stays optimal for the quantized costs on wide-range matrices, with a bound relative to the range', () => {
    const bound = checkAgainst('wide', 5, 25, 25, 11, exactSolver(25, 25));
    for (const b of bound) expect(b).toBeLessThan(25 * 2e6 * 2 ** -28);
  });

  it('is exactly optimal on integer costs (quantization is exact there)', () => {
    const costs = makeCosts('integer', 10, 49, 49, 5);
    const { assignment } = hooks._auctionSolveSync(costs, 10, 49, 49);
    const want = hooks._exactAssignmentTotals(costs, 10, 49, 49);
    for (let b = 0; b < 10; b++) {
      let t = 0;
      for (let i = 0; i < 49; i++) t += costs[(b * 49 + i) * 49 + assignment[b * 49 + i]!]!;
      expect(t).toBe(want[b]);
    }
  });

  it('handles constant matrices and flags non-finite problems as not converged without losing the others', () => {
    const costs = new Float32Array(3 * 9).fill(0.5);
    costs[9 + 4] = NaN;
    costs[18 + 2] = Infinity;
    const { assignment, converged } = hooks._auctionSolveSync(costs, 3, 3, 3);
    expect(Array.from(converged)).toEqual([1, 0, 0]);
    expect(new Set(assignment.slice(0, 3)).size).toBe(3);
  });

  it('gives the identical assignment when a team of threads runs the GPU team protocol (both variants)', () => {
    // Real threads with barriers where the GPU has __syncthreads: a misplaced sync would
    // race (different bids) or deadlock; more members than columns leaves some idle.
    for (const [n, members] of [
      [5, 3],
      [9, 4],
      [12, 16],
      [20, 8],
    ] as const) {
      for (const kind of ['random', 'ties'] as const) {
        const costs = makeCosts(kind, 3, n, n, 77 + n);
        for (const jacobi of [false, true]) {
          const serial = hooks._auctionSolveSync(costs, 3, n, n, jacobi);
          const team = hooks._auctionSolveTeamSync(costs, 3, n, n, members, jacobi);
          expect(Array.from(team.converged)).toEqual([1, 1, 1]);
          expect(Array.from(team.assignment)).toEqual(Array.from(serial.assignment));
        }
      }
    }
  });

  it('rejects bad arguments with TypeError / RangeError', () => {
    expect(() => hooks._auctionSolveSync(new Float32Array(8), 1, 3, 3)).toThrow(RangeError);
    expect(() => hooks._auctionSolveSync(new Float32Array(6), 1, 3, 2)).toThrow(/rows <= cols/);
    expect(() => hooks._auctionSolveSync([1, 2] as unknown as Float32Array, 1, 1, 2)).toThrow(TypeError);
    expect(() => hooks._auctionSolveSync(new Float32Array(4), 1.5, 2, 2)).toThrow(RangeError);
  });

  it('respects byteOffset of the input view', () => {
    const backing = new Float32Array(3 + 9);
    backing.set([9, 9, 9]);
    backing.set([5, 1, 9, 1, 5, 9, 9, 9, 1], 3);
    const view = new Float32Array(backing.buffer, 12, 9);
    expect(Array.from(hooks._auctionSolveSync(view, 1, 3, 3).assignment)).toEqual([1, 0, 2]);
  });
});

const info = cudaInfo();
const gpuReason = info.available ? '' : `no CUDA device: ${(info.reason ?? 'unknown').replace(/^no CUDA device: /, '')}`;
if (!info.available) console.log(`[cuda_auction] GPU tests skipped: ${gpuReason}`);
else console.log('[cuda_auction] no-device test skipped: a usable CUDA device exists, so there is no refusal to check');

describe(`solveAssignmentsCuda on the GPU${info.available ? '' : ` (skipped: ${gpuReason})`}`, () => {
  it.skipIf(!info.available /* no CUDA device, reason printed above */)(
    'matches the exact solver for 9x9, 25x25, 49x49, 100x100 and rectangular batches, both GPU solvers',
    async () => {
      for (const [rows, cols, batch] of [
        [9, 9, 2000],
        [25, 25, 500],
        [49, 49, 100],
        [100, 100, 20],
        [7, 30, 50],
      ] as const) {
        for (const [kind, solver] of [
          ['random', 'exact'],
          ['ties', 'exact'],
          ['cosine', 'exact'],
          ['random', 'auction'],
          ['cosine', 'auction'],
        ] as const) {
          const costs = makeCosts(kind, batch, rows, cols, rows * 7 + cols);
          // The auction's totals are within rows * (cost range) * 2^-29 of the optimum: far below 1e-5 here.
          const got = await solveAssignmentsCuda(costs, { batch, rows, cols, solver });
          const want = hooks._exactAssignmentTotals(costs, batch, rows, cols);
          for (let b = 0; b < batch; b++) {
            let t = 0;
            const seen = new Set<number>();
            for (let i = 0; i < rows; i++) {
              seen.add(got[b * rows + i]!);
              t += costs[(b * rows + i) * cols + got[b * rows + i]!]!;
            }
            expect(seen.size).toBe(rows);
            expect(Math.abs(t - want[b]!)).toBeLessThan(1e-5);
          }
        }
      }
    },
  );

  it.skipIf(!info.available /* no CUDA device, reason printed above */)('maximizes with maximize: true', async () => {
    const costs = makeCosts('random', 300, 9, 9, 5);
    const got = await solveAssignmentsCuda(costs, { batch: 300, rows: 9, cols: 9, maximize: true });
    const negated = costs.map((c) => -c);
    const want = hooks._exactAssignmentTotals(negated, 300, 9, 9);
    for (let b = 0; b < 300; b++) {
      let t = 0;
      for (let i = 0; i < 9; i++) t += costs[(b * 9 + i) * 9 + got[b * 9 + i]!]!;
      expect(Math.abs(-t - want[b]!)).toBeLessThan(1e-5);
    }
  });

  it.skipIf(!info.available /* no CUDA device, reason printed above */)(
    'rejects a NaN problem with a RangeError naming its batch index',
    async () => {
      const costs = makeCosts('random', 4, 9, 9, 1);
      costs[2 * 81 + 5] = NaN;
      await expect(solveAssignmentsCuda(costs, { batch: 4, rows: 9, cols: 9 })).rejects.toThrow(/batch index 2/);
    },
  );
});

describe('solveAssignmentsCuda without a usable GPU', () => {
  it.skipIf(info.available /* a usable GPU exists, reason printed above */)(
    'rejects with DeviceUnavailableError (code ERR_LWFM_DEVICE_UNAVAILABLE) and the reason',
    async () => {
      const err = await solveAssignmentsCuda(new Float32Array(9), { batch: 1, rows: 3, cols: 3 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeviceUnavailableError);
      expect((err as DeviceUnavailableError).code).toBe('ERR_LWFM_DEVICE_UNAVAILABLE');
      expect((err as Error).message).toMatch(/CUDA/);
    },
  );

  it('validates arguments before touching the device', async () => {
    await expect(solveAssignmentsCuda(new Float32Array(8), { batch: 1, rows: 3, cols: 3 })).rejects.toThrow(RangeError);
    await expect(solveAssignmentsCuda(new Float32Array(6), { batch: 1, rows: 3, cols: 2 })).rejects.toThrow(/rows <= cols/);
    await expect(
      solveAssignmentsCuda(new Float32Array(9), { batch: 1, rows: 3, cols: 3, maximize: 1 as unknown as boolean }),
    ).rejects.toThrow(TypeError);
    await expect(solveAssignmentsCuda(new Float32Array(200 * 200), { batch: 1, rows: 200, cols: 200 })).rejects.toThrow(/at most 128/);
    await expect(solveAssignmentsCuda(new Float32Array(9), { batch: 1, rows: 3, cols: 3, solver: 'fast' as 'exact' })).rejects.toThrow(
      /'exact' or 'auction'/,
    );
  });
});
