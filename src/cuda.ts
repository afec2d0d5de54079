/**
 * The CUDA engine: what is compiled in and usable, its errors as named errors, and the GPU
 * batched assignment. Which device to use is decided in device.ts.
 */
import { native } from './binding.js';
import { expectBoolean, expectFloat32Array, expectNonNegativeInteger, expectOptions, expectPositiveInteger } from './validate.js';

/**
 * One CUDA device as the runtime reports it.
 * @example
 * const [gpu]: CudaDevice[] = cudaInfo().devices; // { name: 'NVIDIA H200', computeCapability: '9.0', ... }
 */
export interface CudaDevice {
  name: string;
  /** "major.minor", e.g. "9.0" for H100/H200. */
  computeCapability: string;
  memoryBytes: number;
}

/**
 * Whether the CUDA engine is compiled in and usable here.
 * @example
 * const info: CudaInfo = cudaInfo();
 * if (!info.available) console.log(info.compiled ? info.reason : 'built without CUDA');
 */
export interface CudaInfo {
  /** The addon was built with the CUDA engine (`npm run build:cuda`). */
  compiled: boolean;
  /** A usable GPU and driver were found. */
  available: boolean;
  /** Why it is not available (absent when available). */
  reason?: string;
  devices: CudaDevice[];
}

/**
 * Largest `cols` the GPU assignment accepts (cost tile in shared memory).
 * @example
 * if (cols > CUDA_MAX_ASSIGNMENT_COLS) useCpuSolver();
 */
export const CUDA_MAX_ASSIGNMENT_COLS = 128;

/**
 * Reports whether CUDA is compiled in and usable.
 * @example
 * import { cudaInfo } from 'lwfm-spm';
 * const info = cudaInfo();
 * if (!info.available) console.log(`CPU only: ${info.reason}`);
 */
export function cudaInfo(): CudaInfo {
  const raw = native.cudaInfo();
  const info: CudaInfo = { compiled: raw.compiled, available: raw.available, devices: raw.devices.map((d) => ({ ...d })) };
  if (raw.reason !== undefined) info.reason = raw.reason;
  return info;
}

/**
 * Solves `batch` row-major `rows x cols` cost matrices (rows <= cols <= 128) on the GPU
 * exactly, minimizing total cost (maximizing with `maximize: true`): shortest augmenting
 * paths with double potentials, a thread per problem up to 9 columns and a warp per problem
 * above (cuda/exact_assignment.cuh), so each total equals the CPU solver's optimum (ties may
 * be broken differently). `solver: 'auction'` runs the auction kernels instead (epsilon scaling
 * on quantized costs: optimal for the quantized costs, within 2^-29 * rows * (max - min cost)
 * of the float optimum; problems it does not finish go to the exact CPU solver). 'exact', the
 * default, was faster at every size measured on an H200 (benchmarks/RESULTS.md: 1,000,000 9x9
 * in 1.19 vs 5.47 ms, 100,000 49x49 in 9.38 vs 46.0 ms of kernel time).
 * result[b * rows + i] = column of row i. A NaN problem rejects with a RangeError naming its
 * batch index; without a GPU, with DeviceUnavailableError.
 * @example
 * import { solveAssignmentsCuda } from 'lwfm-spm';
 * const cols = await solveAssignmentsCuda(costs, { batch: 1_000_000, rows: 9, cols: 9 });
 * const viaAuction = await solveAssignmentsCuda(costs, { batch: 1_000_000, rows: 9, cols: 9, solver: 'auction' });
 */
export async function solveAssignmentsCuda(
  costs: Float32Array,
  options: { batch: number; rows: number; cols: number; maximize?: boolean; solver?: 'exact' | 'auction' },
): Promise<Int32Array> {
  const o = expectOptions(options, 'options');
  const batch = expectNonNegativeInteger(o.batch, 'batch');
  const rows = expectPositiveInteger(o.rows, 'rows');
  const cols = expectPositiveInteger(o.cols, 'cols', CUDA_MAX_ASSIGNMENT_COLS);
  if (rows > cols) throw new RangeError(`Expected rows <= cols for solveAssignmentsCuda but received rows ${rows} and cols ${cols}`);
  const maximize = o.maximize === undefined ? false : expectBoolean(o.maximize, 'maximize');
  const solver = o.solver ?? 'exact';
  if (solver !== 'exact' && solver !== 'auction')
    throw new TypeError(`Expected 'exact' or 'auction' for solver but received ${JSON.stringify(solver)}`);
  expectFloat32Array(costs, 'costs', batch * rows * cols, 'batch * rows * cols');
  // The addon's coded errors arrive as DeviceUnavailableError / CudaError (src/native_errors.ts).
  return native.solveAssignmentsCuda(costs, batch, rows, cols, maximize, solver);
}
