/**
 * Exact batched linear assignment (docs/computation.md §3.3): the same optimum as
 * `scipy.optimize.linear_sum_assignment`, for many small matrices at once.
 */
import { native } from './binding.js';
import { expectBoolean, expectFloat32Array, expectOptions, expectPositiveInteger, expectThreads } from './validate.js';

/**
 * Shape of a batch of cost matrices.
 * @example
 * const shape: AssignmentShape = { batch: 1000, rows: 9, cols: 9 }; // 1000 row-major 9 x 9 matrices
 */
export interface AssignmentShape {
  /** Number of matrices stored back to back in `costs`. */
  batch: number;
  /** Rows of each matrix (each row gets one column). */
  rows: number;
  /** Columns of each matrix; at least `rows`. */
  cols: number;
  /** Maximize the total instead of minimizing it (default false). */
  maximize?: boolean;
}

/**
 * Shape plus how many threads may work on the batch.
 * @example
 * const assignment = await solveAssignments(costs, { batch: 1000, rows: 9, cols: 9, threads: 1 });
 */
export interface AssignmentOptions extends AssignmentShape {
  /** Threads to split the batch over (default: all hardware threads). */
  threads?: number;
}

/**
 * Error thrown (or rejected) when some matrix has no optimum: it contains NaN, or -Infinity
 * (+Infinity when maximizing), or every complete assignment uses an infinite cost.
 * It is a `RangeError` whose message names the first bad matrix; `results` still holds
 * every other matrix's assignment (the bad ones' rows are -1).
 * @example
 * try { solveAssignmentsSync(costs, shape); }
 * catch (e) { if (e instanceof RangeError && 'batchIndex' in e) console.log((e as AssignmentRangeError).batchIndex); }
 */
export interface AssignmentRangeError extends RangeError {
  /** Index of the first bad matrix in the batch. */
  batchIndex: number;
  /** Assignments of the whole batch; -1 in the rows of every bad matrix. */
  results: Int32Array;
}

/**
 * Largest rows / cols accepted (a single 65536 x 65536 float matrix is already 16 GiB).
 * @example
 * if (cols > MAX_ASSIGNMENT_SIDE) throw new RangeError('matrix too wide');
 */
export const MAX_ASSIGNMENT_SIDE = 65536;
const MAX_RESULTS = 2 ** 31 - 1;

interface CheckedShape {
  batch: number;
  rows: number;
  cols: number;
  maximize: boolean;
}

function checkShape(
  costs: unknown,
  options: unknown,
  fn: string,
): { costs: Float32Array; shape: CheckedShape; opts: Record<string, unknown> } {
  const opts = expectOptions(options, `${fn} options`);
  const batch = expectPositiveInteger(opts.batch, 'batch', MAX_RESULTS);
  const rows = expectPositiveInteger(opts.rows, 'rows', MAX_ASSIGNMENT_SIDE);
  const cols = expectPositiveInteger(opts.cols, 'cols', MAX_ASSIGNMENT_SIDE);
  if (rows > cols) {
    throw new RangeError(
      `Expected rows <= cols but received rows ${rows} and cols ${cols} (transpose the matrices to assign columns to rows)`,
    );
  }
  if (batch * rows > MAX_RESULTS) {
    throw new RangeError(`Expected batch * rows at most ${MAX_RESULTS} but received ${batch} * ${rows}`);
  }
  const maximize = opts.maximize === undefined ? false : expectBoolean(opts.maximize, 'maximize');
  const checked = expectFloat32Array(costs, 'costs', batch * rows * cols, `batch * rows * cols = ${batch} * ${rows} * ${cols}`);
  return { costs: checked, shape: { batch, rows, cols, maximize }, opts };
}

/**
 * Solves a batch of linear assignment problems exactly, on the calling thread.
 *
 * `costs` holds `batch` row-major `rows x cols` matrices back to back (rows <= cols; a
 * `Float32Array` view into a larger buffer is fine and is not copied). The result holds, for
 * matrix `b` and row `i`, the column given to that row at `result[b * rows + i]`; distinct rows
 * get distinct columns and the total cost is minimal (maximal with `maximize: true`), equal to
 * SciPy's `linear_sum_assignment` optimum (ties may resolve to a different, equally good
 * assignment). +Infinity (-Infinity when maximizing) forbids a pair.
 *
 * @throws TypeError / RangeError for malformed arguments; {@link AssignmentRangeError} when a
 *   matrix contains NaN or -Infinity (+Infinity when maximizing) or has no finite assignment.
 * @example
 * import { solveAssignmentsSync } from 'lwfm-spm';
 * // two 2 x 3 matrices
 * const costs = new Float32Array([
 *   4, 1, 6,   2, 0, 5,
 *   1, 2, 3,   3, 2, 1,
 * ]);
 * const cols = solveAssignmentsSync(costs, { batch: 2, rows: 2, cols: 3 });
 * // cols = Int32Array [1, 0, 0, 2]: matrix 0 rows -> columns 1, 0; matrix 1 rows -> 0, 2
 */
export function solveAssignmentsSync(costs: Float32Array, options: AssignmentShape): Int32Array {
  const { costs: data, shape } = checkShape(costs, options, 'solveAssignmentsSync');
  return native.solveAssignmentsSync(data, shape.batch, shape.rows, shape.cols, shape.maximize);
}

/**
 * Like {@link solveAssignmentsSync}, but runs off the event loop and splits the batch over
 * `threads` threads (default: all hardware threads). `costs` is copied before the call returns:
 * the caller may reuse, resize or transfer it at once (the result is for the contents at the
 * time of the call).
 *
 * @example
 * import { solveAssignments } from 'lwfm-spm';
 * const n = 9, batch = 1000;
 * const costs = new Float32Array(batch * n * n).map(() => Math.random());
 * const cols = await solveAssignments(costs, { batch, rows: n, cols: n, threads: 2 });
 * // cols[b * n + i] = column of row i in matrix b
 */
export async function solveAssignments(costs: Float32Array, options: AssignmentOptions): Promise<Int32Array> {
  const { costs: data, shape, opts } = checkShape(costs, options, 'solveAssignments');
  const threads = expectThreads(opts.threads);
  return native.solveAssignments(data, shape.batch, shape.rows, shape.cols, shape.maximize, threads);
}
