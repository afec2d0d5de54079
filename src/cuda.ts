/**
 * The CUDA engine: what is compiled in and usable, the GPU batched assignment, and the
 * device choice for `device: 'auto' | 'cpu' | 'cuda'`.
 */
import { native } from './binding.js';
import { DeviceUnavailableError } from './errors.js';
import { expectBoolean, expectFloat32Array, expectNonNegativeInteger, expectOneOf, expectOptions, expectPositiveInteger } from './validate.js';

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
 * Devices a head or classifier can run on.
 * @example
 * const device: DeviceRequest = process.env.GPU === '1' ? 'cuda' : 'auto';
 */
export type DeviceRequest = 'auto' | 'cpu' | 'cuda';

/**
 * Under `'auto'`, head work (query x support pairs) below this many pairs stays on the CPU.
 * Measured on an H200 machine (benchmarks/RESULTS.md): at 375 pairs (5-way 1-shot, 75
 * queries) a whole GPU episode (support preparation + score) took about 2.2 ms in the C++
 * check and 4.1 ms from Node, against 7-9 ms for the CPU engine on 2 threads but 2.5 ms on
 * 16; tiny calls (tens of pairs) stay cheaper on the CPU.
 * @example
 * resolveDevice('auto', queries * supports) // 'cuda' only from CUDA_AUTO_MIN_PAIRS pairs up
 */
export const CUDA_AUTO_MIN_PAIRS = 256;

/**
 * Under `'auto'`, batches with fewer assignment problems than this stay on the CPU (the CPU
 * exact solver takes well under 1 us per 9x9 problem; the GPU's fixed cost is ~0.1 ms). On an
 * H200 machine the GPU was ahead of 16 CPU threads from 100,000 problems of 16x16 (9.0 vs
 * 11.4 ms host to host) and 3x ahead at 1,000,000 of 9x9 (16 vs 47 ms).
 * @example
 * resolveDevice('auto', batch, CUDA_AUTO_MIN_PROBLEMS)
 */
export const CUDA_AUTO_MIN_PROBLEMS = 16384;

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

let fallbackWarned = false;

/**
 * Picks the device for `workSize` units of work (head: query x support pairs; assignments:
 * problems, with `minWork = CUDA_AUTO_MIN_PROBLEMS`). `'cuda'` without a usable GPU throws
 * DeviceUnavailableError; `'auto'` uses CUDA only when usable and the work is large enough,
 * and warns once per process (code `LWFM_CUDA_FALLBACK`) when CUDA is compiled in but unusable.
 * @example
 * import { resolveDevice } from 'lwfm-spm';
 * const device = resolveDevice('auto', queries * supports); // 'cpu' or 'cuda'
 */
export function resolveDevice(requested: DeviceRequest, workSize: number, minWork: number = CUDA_AUTO_MIN_PAIRS): 'cpu' | 'cuda' {
  expectOneOf(requested, 'device', ['auto', 'cpu', 'cuda'] as const);
  expectNonNegativeInteger(workSize, 'workSize');
  expectNonNegativeInteger(minWork, 'minWork');
  if (requested === 'cpu') return 'cpu';
  const info = native.cudaInfo();
  if (requested === 'cuda') {
    if (!info.available) throw new DeviceUnavailableError(`device 'cuda' was requested but is unavailable: ${info.reason ?? 'unknown reason'}`);
    return 'cuda';
  }
  if (!info.available) {
    if (info.compiled && !fallbackWarned) {
      fallbackWarned = true;
      process.emitWarning(`lwfm-spm: CUDA is compiled in but unusable (${info.reason ?? 'unknown reason'}); using the CPU`, {
        code: 'LWFM_CUDA_FALLBACK',
      });
    }
    return 'cpu';
  }
  return workSize >= minWork ? 'cuda' : 'cpu';
}

/** @internal Test hook: lets the once-per-process fallback warning fire again. */
export function _resetCudaFallbackWarning(): void {
  fallbackWarned = false;
}

/** @internal Turns the addon's coded errors into the package's named errors. */
export function toDeviceError(err: unknown): unknown {
  const e = err as { code?: string; message?: string } | undefined;
  if (e && e.code === 'ERR_LWFM_DEVICE_UNAVAILABLE') return new DeviceUnavailableError(e.message ?? 'CUDA device unavailable', { cause: err });
  return err;
}

/**
 * Solves `batch` row-major `rows x cols` cost matrices (rows <= cols <= 128) on the GPU
 * exactly, minimizing total cost (maximizing with `maximize: true`): shortest augmenting
 * paths with double potentials, a thread per problem up to 9 columns and a warp per problem
 * above (cuda/exact_assignment.cuh), so each total equals the CPU solver's optimum (ties may
 * be broken differently). result[b * rows + i] = column of row i. A NaN problem rejects with a
 * RangeError naming its batch index; without a GPU, with DeviceUnavailableError.
 * @example
 * import { solveAssignmentsCuda } from 'lwfm-spm';
 * const cols = await solveAssignmentsCuda(costs, { batch: 1_000_000, rows: 9, cols: 9 });
 */
export async function solveAssignmentsCuda(
  costs: Float32Array,
  options: { batch: number; rows: number; cols: number; maximize?: boolean },
): Promise<Int32Array> {
  const o = expectOptions(options, 'options');
  const batch = expectNonNegativeInteger(o.batch, 'batch');
  const rows = expectPositiveInteger(o.rows, 'rows');
  const cols = expectPositiveInteger(o.cols, 'cols', CUDA_MAX_ASSIGNMENT_COLS);
  if (rows > cols) throw new RangeError(`Expected rows <= cols for solveAssignmentsCuda but received rows ${rows} and cols ${cols}`);
  const maximize = o.maximize === undefined ? false : expectBoolean(o.maximize, 'maximize');
  expectFloat32Array(costs, 'costs', batch * rows * cols, 'batch * rows * cols');
  try {
    return await native.solveAssignmentsCuda(costs, batch, rows, cols, maximize);
  } catch (err) {
    throw toDeviceError(err);
  }
}
