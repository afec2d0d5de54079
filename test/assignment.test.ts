import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { solveAssignments, solveAssignmentsSync, type AssignmentRangeError } from '../src/assignment.js';
import { native } from '../src/binding.js';
import { bruteForceTotal, rng } from './helpers/assignment_reference.js';
import { hungarianAssign } from './helpers/hungarian.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Total of one matrix's assignment; fails the test unless it is a valid injective map. */
function totalOf(costs: Float32Array, result: Int32Array, b: number, rows: number, cols: number): number {
  const seen = new Set<number>();
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const j = result[b * rows + i]!;
    expect(Number.isInteger(j) && j >= 0 && j < cols, `matrix ${b} row ${i} -> column ${j}`).toBe(true);
    expect(seen.has(j), `matrix ${b}: column ${j} used twice`).toBe(false);
    seen.add(j);
    total += costs[b * rows * cols + i * cols + j]!;
  }
  return total;
}

function expectClose(actual: number, expected: number, relative: number, label: string): void {
  const scale = Math.max(1, Math.abs(expected));
  expect(Math.abs(actual - expected) <= relative * scale, `${label}: ${actual} vs optimum ${expected}`).toBe(true);
}

type Fill = (next: () => number) => number;
const uniform: Fill = (next) => next() * 2 - 1;
const ties: Fill = (next) => Math.floor(next() * 4);

function randomBatch(seed: number, batch: number, rows: number, cols: number, fill: Fill): Float32Array {
  const next = rng(seed);
  return Float32Array.from({ length: batch * rows * cols }, () => fill(next));
}

/**
 * Costs a_i * b_j + small noise: every row prefers the same columns, which defeats the
 * row reductions and sends several rows per matrix through the Dijkstra phase.
 */
function productBatch(seed: number, batch: number, rows: number, cols: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(batch * rows * cols);
  for (let b = 0; b < batch; b++) {
    const a = Array.from({ length: rows }, next),
      c = Array.from({ length: cols }, next);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[(b * rows + i) * cols + j] = a[i]! * c[j]! + 0.01 * next();
  }
  return out;
}

/** Solves a batch and checks every matrix against brute force. */
function checkAgainstBruteForce(costs: Float32Array, batch: number, rows: number, cols: number, maximize: boolean): void {
  const result = solveAssignmentsSync(costs, { batch, rows, cols, maximize });
  expect(result.length).toBe(batch * rows);
  for (let b = 0; b < batch; b++) {
    const best = bruteForceTotal(costs, b * rows * cols, rows, cols, maximize);
    expectClose(totalOf(costs, result, b, rows, cols), best, 1e-12, `${rows}x${cols} matrix ${b} maximize=${maximize}`);
  }
}

const SIMD_LEVELS = ['scalar', 'avx2', 'avx512'] as const;
const savedSimd = process.env.LWFM_SPM_SIMD;
afterEach(() => {
  if (savedSimd === undefined) delete process.env.LWFM_SPM_SIMD;
  else process.env.LWFM_SPM_SIMD = savedSimd;
});

describe.each(SIMD_LEVELS)('solveAssignmentsSync with LWFM_SPM_SIMD=%s', (level) => {
  const useLevel = (): void => {
    process.env.LWFM_SPM_SIMD = level;
    const { simd, cpuSimd } = native.buildInfo();
    if (simd !== level) {
      // The cap never raises the level above what the CPU has: this run covers `simd`.
      console.log(`LWFM_SPM_SIMD=${level}: this CPU supports at most ${cpuSimd}, so the ${simd} path runs instead`);
    }
    expect(SIMD_LEVELS.indexOf(simd as (typeof SIMD_LEVELS)[number])).toBeLessThanOrEqual(SIMD_LEVELS.indexOf(level));
  };

  it('matches brute force on random square matrices, n = 1..7', () => {
    useLevel();
    for (let n = 1; n <= 7; n++) {
      const batch = n <= 5 ? 200 : 40;
      checkAgainstBruteForce(randomBatch(100 + n, batch, n, n, uniform), batch, n, n, false);
    }
  });

  it('matches brute force on tie-heavy integer matrices', () => {
    useLevel();
    for (let n = 2; n <= 7; n++) {
      const batch = n <= 5 ? 200 : 40;
      checkAgainstBruteForce(randomBatch(200 + n, batch, n, n, ties), batch, n, n, false);
    }
  });

  it('matches brute force on matrices that need the Dijkstra phase', () => {
    useLevel();
    for (const [rows, cols] of [
      [5, 5],
      [6, 6],
      [7, 7],
      [4, 7],
      [6, 7],
    ] as const) {
      checkAgainstBruteForce(productBatch(450 + rows * 10 + cols, 60, rows, cols), 60, rows, cols, false);
      checkAgainstBruteForce(productBatch(460 + rows * 10 + cols, 60, rows, cols), 60, rows, cols, true);
    }
  });

  it('matches brute force on rectangular matrices (rows < cols)', () => {
    useLevel();
    for (const [rows, cols] of [
      [1, 2],
      [1, 7],
      [2, 5],
      [3, 7],
      [4, 6],
      [5, 7],
      [6, 7],
    ] as const) {
      checkAgainstBruteForce(randomBatch(300 + rows * 10 + cols, 60, rows, cols, uniform), 60, rows, cols, false);
      checkAgainstBruteForce(randomBatch(400 + rows * 10 + cols, 60, rows, cols, ties), 60, rows, cols, false);
    }
  });

  it('maximizes when asked', () => {
    useLevel();
    for (const [rows, cols] of [
      [3, 3],
      [5, 5],
      [7, 7],
      [4, 7],
    ] as const) {
      checkAgainstBruteForce(randomBatch(500 + rows * 10 + cols, 60, rows, cols, uniform), 60, rows, cols, true);
      checkAgainstBruteForce(randomBatch(600 + rows * 10 + cols, 60, rows, cols, ties), 60, rows, cols, true);
    }
  });

  it('treats +Infinity (minimize) as a forbidden pair', () => {
    useLevel();
    const next = rng(700);
    const rows = 5,
      cols = 6,
      batch = 100;
    const costs = Float32Array.from({ length: batch * rows * cols }, () => (next() < 0.3 ? Infinity : next()));
    // Keep every matrix feasible: its diagonal stays finite.
    for (let b = 0; b < batch; b++) for (let i = 0; i < rows; i++) costs[b * rows * cols + i * cols + i] = next();
    checkAgainstBruteForce(costs, batch, rows, cols, false);
  });

  it('stays exact with huge finite costs', () => {
    useLevel();
    const n = 6,
      batch = 60;
    const next = rng(800);
    const scaled = Float32Array.from({ length: batch * n * n }, () => next() * 1e30);
    checkAgainstBruteForce(scaled, batch, n, n, false);
    // Mostly small costs with a few near float32's maximum that the optimum must avoid.
    const mixed = Float32Array.from({ length: batch * n * n }, () => (next() < 0.3 ? 3e38 : next()));
    checkAgainstBruteForce(mixed, batch, n, n, false);
    checkAgainstBruteForce(mixed, batch, n, n, true);
  });

  it("gives SciPy's optimal totals on the n = 9, 25, 49, 100 fixtures", () => {
    useLevel();
    checkFixtures();
  });
});

interface FixtureCase {
  name: string;
  offset: number;
  rows: number;
  cols: number;
  maximize: boolean;
  scipyTotal: number;
  scipyCols: number[];
}

function loadFixtures(): { cases: FixtureCase[]; data: Float32Array } {
  const meta = JSON.parse(readFileSync(join(here, 'fixtures', 'assignment.json'), 'utf8')) as { cases: FixtureCase[] };
  const bytes = readFileSync(join(here, 'fixtures', 'assignment.bin'));
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { cases: meta.cases, data };
}

function checkFixtures(): void {
  const { cases, data } = loadFixtures();
  expect(cases.length).toBeGreaterThanOrEqual(28);
  for (const c of cases) {
    const costs = data.subarray(c.offset, c.offset + c.rows * c.cols);
    const result = solveAssignmentsSync(costs, { batch: 1, rows: c.rows, cols: c.cols, maximize: c.maximize });
    expectClose(totalOf(costs, result, 0, c.rows, c.cols), c.scipyTotal, 1e-9, c.name);
  }
}

describe('SIMD paths', () => {
  it('every path returns identical assignments (same operations, same tie-breaking)', () => {
    const cases = [
      [9, 9, randomBatch(1300, 300, 9, 9, uniform)],
      [9, 9, randomBatch(1301, 300, 9, 9, ties)],
      [25, 25, productBatch(1302, 40, 25, 25)],
      [20, 45, randomBatch(1303, 40, 20, 45, ties)],
      [60, 60, randomBatch(1304, 5, 60, 60, uniform)],
    ] as const;
    for (const [rows, cols, costs] of cases) {
      const results = SIMD_LEVELS.map((level) => {
        process.env.LWFM_SPM_SIMD = level;
        return solveAssignmentsSync(costs, { batch: costs.length / (rows * cols), rows, cols });
      });
      expect(results[1]).toEqual(results[0]);
      expect(results[2]).toEqual(results[0]);
    }
  });
});

describe('solveAssignmentsSync batches and views', () => {
  it('solves a whole batch of fixtures at once, from a view with a byteOffset', () => {
    const { cases, data } = loadFixtures();
    const square = cases.filter((c) => c.rows === 25 && c.cols === 25 && !c.maximize);
    const n = 25;
    // A Float32Array view that starts 3 floats into a larger buffer.
    const buffer = new ArrayBuffer((square.length * n * n + 5) * 4);
    const view = new Float32Array(buffer, 12, square.length * n * n);
    square.forEach((c, b) => view.set(data.subarray(c.offset, c.offset + n * n), b * n * n));
    new Float32Array(buffer, 0, 3).fill(Number.NaN); // poison outside the view
    const result = solveAssignmentsSync(view, { batch: square.length, rows: n, cols: n });
    square.forEach((c, b) => expectClose(totalOf(view, result, b, n, n), c.scipyTotal, 1e-9, c.name));
  });

  it('async gives the same assignments as sync, for any thread count', async () => {
    const batch = 500,
      n = 9;
    const costs = randomBatch(900, batch, n, n, uniform);
    const sync = solveAssignmentsSync(costs, { batch, rows: n, cols: n });
    for (const threads of [undefined, 1, 2, 3]) {
      expect(await solveAssignments(costs, { batch, rows: n, cols: n, threads })).toEqual(sync);
    }
    const rect = randomBatch(901, 50, 7, 40, uniform);
    expect(await solveAssignments(rect, { batch: 50, rows: 7, cols: 40, maximize: true, threads: 2 })).toEqual(
      solveAssignmentsSync(rect, { batch: 50, rows: 7, cols: 40, maximize: true }),
    );
  });

  it('many concurrent async calls all resolve correctly', async () => {
    const n = 5;
    const jobs = Array.from({ length: 8 }, (_, k) => randomBatch(1000 + k, 100, n, n, ties));
    const results = await Promise.all(jobs.map((costs) => solveAssignments(costs, { batch: 100, rows: n, cols: n, threads: 2 })));
    results.forEach((r, k) => expect(r).toEqual(solveAssignmentsSync(jobs[k]!, { batch: 100, rows: n, cols: n })));
  });
});

/** Independent oracle for sizes brute force cannot reach: the optimal total by test/helpers/hungarian.ts. */
function hungarianTotal(costs: Float32Array, offset: number, rows: number, cols: number, maximize: boolean): number {
  const at = (i: number, j: number): number => costs[offset + i * cols + j]!;
  const assigned = hungarianAssign((i, j) => (maximize ? -1 : 1) * at(i, j), rows, cols);
  return assigned.reduce((total, j, i) => total + at(i, j), 0);
}

describe.each(SIMD_LEVELS)('larger problems against an independent Hungarian, LWFM_SPM_SIMD=%s', (level) => {
  // Sizes past 7 reach the Dijkstra phase (small ones are usually finished by the row
  // reductions), on both sides of the 32-column stack-buffer limit.
  it.each([
    [8, 8],
    [9, 9],
    [12, 12],
    [16, 16],
    [25, 25],
    [31, 32],
    [32, 32],
    [33, 33],
    [40, 40],
    [20, 45],
    [50, 64],
  ] as const)('%i x %i, random, tie-heavy and product costs, minimize and maximize', (rows, cols) => {
    process.env.LWFM_SPM_SIMD = level;
    const batch = rows <= 16 ? 40 : 12;
    for (const kind of ['uniform', 'ties', 'product'] as const) {
      const seed = rows * 1000 + cols * 10;
      const costs =
        kind === 'product'
          ? productBatch(seed, batch, rows, cols)
          : randomBatch(seed + (kind === 'ties' ? 1 : 2), batch, rows, cols, kind === 'ties' ? ties : uniform);
      for (const maximize of [false, true]) {
        const result = solveAssignmentsSync(costs, { batch, rows, cols, maximize });
        for (let b = 0; b < batch; b++) {
          const best = hungarianTotal(costs, b * rows * cols, rows, cols, maximize);
          expectClose(totalOf(costs, result, b, rows, cols), best, 1e-9, `${rows}x${cols} #${b} maximize=${maximize}`);
        }
      }
    }
  });
});

describe('bad matrices', () => {
  const n = 4,
    batch = 100;
  const make = (): Float32Array => randomBatch(1200, batch, n, n, uniform);

  it('NaN: RangeError naming the batch index, other results kept', async () => {
    const costs = make();
    costs[17 * n * n + 5] = Number.NaN;
    let error: AssignmentRangeError | undefined;
    try {
      solveAssignmentsSync(costs, { batch, rows: n, cols: n });
    } catch (e) {
      error = e as AssignmentRangeError;
    }
    expect(error).toBeInstanceOf(RangeError);
    expect(error!.message).toBe('Cost matrix 17 of 100 contains NaN or -Infinity');
    expect(error!.batchIndex).toBe(17);
    expect(Array.from(error!.results.subarray(17 * n, 18 * n))).toEqual([-1, -1, -1, -1]);
    const clean = make();
    const expected = solveAssignmentsSync(clean, { batch, rows: n, cols: n });
    for (let b = 0; b < batch; b++)
      if (b !== 17) expect(error!.results.subarray(b * n, (b + 1) * n)).toEqual(expected.subarray(b * n, (b + 1) * n));
    await expect(solveAssignments(costs, { batch, rows: n, cols: n, threads: 2 })).rejects.toThrow(
      /^Cost matrix 17 of 100 contains NaN or -Infinity$/,
    );
  });

  it('-Infinity when minimizing, +Infinity when maximizing', async () => {
    const costs = make();
    costs[42 * n * n] = -Infinity;
    expect(() => solveAssignmentsSync(costs, { batch, rows: n, cols: n })).toThrow(/^Cost matrix 42 of 100 contains NaN or -Infinity$/);
    costs[42 * n * n] = 0;
    costs[99 * n * n + 3] = Infinity;
    expect(() => solveAssignmentsSync(costs, { batch, rows: n, cols: n, maximize: true })).toThrow(
      /^Cost matrix 99 of 100 contains NaN or \+Infinity \(maximize\)$/,
    );
    await expect(solveAssignments(costs, { batch, rows: n, cols: n, maximize: true })).rejects.toBeInstanceOf(RangeError);
    // -Infinity is a forbidden pair when maximizing: still solvable here.
    costs[99 * n * n + 3] = -Infinity;
    expect(solveAssignmentsSync(costs, { batch, rows: n, cols: n, maximize: true })[99 * n]).not.toBe(3);
  });

  it('infeasible: no assignment with a finite total', async () => {
    const costs = make();
    // Matrix 3: rows 0 and 1 may only use column 2.
    for (let j = 0; j < n; j++) if (j !== 2) costs[3 * n * n + j] = costs[3 * n * n + n + j] = Infinity;
    // Matrix 8: a whole row forbidden.
    costs.fill(Infinity, 8 * n * n + 2 * n, 8 * n * n + 3 * n);
    expect(() => solveAssignmentsSync(costs, { batch, rows: n, cols: n })).toThrow(/^Cost matrix 3 of 100 has no finite assignment/);
    await expect(solveAssignments(costs, { batch, rows: n, cols: n, threads: 3 })).rejects.toThrow(
      /^Cost matrix 3 of 100 has no finite assignment/,
    );
    try {
      solveAssignmentsSync(costs, { batch, rows: n, cols: n });
    } catch (e) {
      const results = (e as AssignmentRangeError).results;
      expect(Array.from(results.subarray(8 * n, 9 * n))).toEqual([-1, -1, -1, -1]);
      expect(results[0]).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('bad arguments', () => {
  const costs = new Float32Array(2 * 3 * 4);
  it('names what was expected and what was received', () => {
    expect(() => solveAssignmentsSync([1, 2, 3, 4] as unknown as Float32Array, { batch: 1, rows: 2, cols: 2 })).toThrow(
      new TypeError('Expected Float32Array for costs but received array of length 4 of type object'),
    );
    expect(() => solveAssignmentsSync(new Float64Array(4) as unknown as Float32Array, { batch: 1, rows: 2, cols: 2 })).toThrow(TypeError);
    expect(() => solveAssignmentsSync(costs, { batch: 2, rows: 3, cols: 5 })).toThrow(
      new RangeError(
        'Expected Float32Array of length 30 (batch * rows * cols = 2 * 3 * 5) for costs but received Float32Array(24) of type object',
      ),
    );
    expect(() => solveAssignmentsSync(costs, { batch: 2, rows: 4, cols: 3 })).toThrow(
      /^Expected rows <= cols but received rows 4 and cols 3/,
    );
    expect(() => solveAssignmentsSync(costs, { batch: 0, rows: 3, cols: 4 })).toThrow(
      new RangeError('Expected positive integer for batch but received 0 of type number'),
    );
    expect(() => solveAssignmentsSync(costs, { batch: 2, rows: 1.5, cols: 4 })).toThrow(
      new TypeError('Expected positive integer for rows but received 1.5 of type number'),
    );
    expect(() => solveAssignmentsSync(costs, { batch: 2, rows: 3, cols: 1e9 })).toThrow(
      new RangeError('Expected integer at most 65536 for cols but received 1000000000 of type number'),
    );
    expect(() => solveAssignmentsSync(costs, { batch: 2 ** 40, rows: 3, cols: 4 })).toThrow(RangeError);
    expect(() => solveAssignmentsSync(costs, { batch: 2, rows: 3, cols: 4, maximize: 'yes' as unknown as boolean })).toThrow(
      new TypeError('Expected boolean for maximize but received "yes" of type string'),
    );
    expect(() => solveAssignmentsSync(costs, undefined as unknown as { batch: number; rows: number; cols: number })).toThrow(
      new TypeError('Expected positive integer for batch but received undefined'),
    );
    expect(() => solveAssignmentsSync(costs, 3 as unknown as { batch: number; rows: number; cols: number })).toThrow(TypeError);
  });

  it('async rejects (never throws synchronously) and checks threads', async () => {
    await expect(solveAssignments(costs, { batch: 2, rows: 3, cols: 4, threads: 0 })).rejects.toThrow(
      new RangeError('Expected positive integer for threads but received 0 of type number'),
    );
    await expect(solveAssignments(costs, { batch: 3, rows: 3, cols: 4 })).rejects.toBeInstanceOf(RangeError);
  });

  it('the native backstop throws instead of reading out of bounds', () => {
    expect(() => native.solveAssignmentsSync(new Float32Array(3), 1, 2, 2, false)).toThrow(RangeError);
    expect(() => native.solveAssignmentsSync(new Int32Array(4) as unknown as Float32Array, 1, 2, 2, false)).toThrow(TypeError);
    expect(() => native.solveAssignmentsSync(new Float32Array(4), 1, 3, 2, false)).toThrow(RangeError);
    expect(() => native.solveAssignmentsSync(new Float32Array(4), 1, 2, 2.5, false)).toThrow(RangeError);
    expect(() => native.solveAssignmentsSync(new Float32Array(4), 2 ** 31, 2, 2, false)).toThrow(RangeError);
    expect(() => native.solveAssignmentsSync(new Float32Array(4), 1, 1e6, 1e6, false)).toThrow(RangeError);
    expect(() => native.solveAssignments(new Float32Array(4), 1, 2, 2, false, -1)).toThrow(RangeError);
    expect(() => (native.solveAssignmentsSync as unknown as () => void)()).toThrow(TypeError);
  });
});
