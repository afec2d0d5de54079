/**
 * The device policy, for every part (backbone, head, batched assignment), in one place:
 * what `device: 'auto' | 'cpu' | 'cuda'` means and what happens when CUDA is not usable.
 *
 * - 'cpu': the CPU, always, without probing anything.
 * - 'cuda': CUDA or a DeviceUnavailableError saying why not (strict), with one exception:
 *   FewShotClassifier's 'cuda' is strict for the backbone, which holds nearly all the
 *   arithmetic, and runs a head that cannot use CUDA on the CPU with a warning.
 * - 'auto': CUDA when it is usable, else the CPU. Resolved once per object (Head, Backbone);
 *   the head and the assignment solver then pick per call by work size, since small
 *   calls are faster on the CPU than the GPU's fixed cost.
 *
 * Every "ran on the CPU instead" situation has one warning code (WARNING_CODES; the README's
 * error table lists them).
 */
import { native } from './binding.js';
import { cudaHeadLimitation, type HeadDeviceConfig } from './cuda_head.js';
import { DeviceUnavailableError } from './errors.js';
import { expectNonNegativeInteger, expectOneOf } from './validate.js';

/**
 * Devices a head, backbone or classifier can be asked for.
 * @example
 * const device: DeviceRequest = process.env.GPU === '1' ? 'cuda' : 'auto';
 */
export type DeviceRequest = 'auto' | 'cpu' | 'cuda';

/** A device something actually runs on. */
export type Device = 'cpu' | 'cuda';

/** The accepted spellings of a device request. */
export const DEVICE_REQUESTS: readonly DeviceRequest[] = ['auto', 'cpu', 'cuda'];

/**
 * Warning codes (`process.emitWarning(message, { code })`), one per situation.
 * @example
 * process.on('warning', (w) => { if (w.code === WARNING_CODES.cudaFallback) metrics.cpuFallback++; });
 */
export const WARNING_CODES = {
  /** 'auto': CUDA looked possible (compiled in, or a GPU present) but is not usable; that part runs on the CPU. */
  cudaFallback: 'LWFM_CUDA_FALLBACK',
  /** FewShotClassifier 'cuda': the backbone runs on CUDA, the head cannot and runs on the CPU. */
  headCpuFallback: 'LWFM_HEAD_CPU_FALLBACK',
  /** Head 'auto': a GPU call failed at run time (out of memory, driver error); it and later failing calls run on the CPU. */
  cudaRuntimeFallback: 'LWFM_CUDA_RUNTIME_FALLBACK',
  /** evaluate: an unreadable image was skipped and its episode redrawn. */
  skippedImage: 'LWFM_SKIPPED_IMAGE',
} as const;

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

const warnedFallback = new Set<string>();

/**
 * The one place a CUDA request meets an unusable CUDA: 'cuda' throws DeviceUnavailableError
 * with `reason`; 'auto' returns 'cpu', warning once per process and part (LWFM_CUDA_FALLBACK)
 * unless `quiet` (nothing suggested CUDA could work here: not compiled in, no GPU present).
 */
export function cudaUnusable(requested: 'auto' | 'cuda', part: string, reason: string, quiet = false): 'cpu' {
  if (requested === 'cuda') throw new DeviceUnavailableError(`device 'cuda' was requested for the ${part} but ${reason}`);
  if (!quiet && !warnedFallback.has(part)) {
    warnedFallback.add(part);
    process.emitWarning(`lwfm-spm: ${reason}; the ${part} runs on the CPU`, { code: WARNING_CODES.cudaFallback });
  }
  return 'cpu';
}

/** @internal Test hook: lets the once-per-process fallback warnings fire again. */
export function _resetCudaFallbackWarning(): void {
  warnedFallback.clear();
}

/** Why the addon's CUDA engine is not usable here (undefined when it is), and whether to say so. */
function nativeCudaProblem(): { reason: string; quiet: boolean } | undefined {
  const info = native.cudaInfo();
  if (info.available) return undefined;
  // Not compiled in: the user chose a CPU build, a warning on every run would be noise.
  return { reason: `CUDA is unavailable: ${info.reason ?? 'unknown reason'}`, quiet: !info.compiled };
}

/**
 * Picks the device of the addon's CUDA engine for `workSize` units of work (head: query x
 * support pairs; assignments: problems, with `minWork = CUDA_AUTO_MIN_PROBLEMS`). `'cuda'`
 * without a usable GPU throws DeviceUnavailableError; `'auto'` uses CUDA only when usable and
 * the work is large enough, and warns once per process (code `LWFM_CUDA_FALLBACK`) when CUDA
 * is compiled in but unusable.
 * @example
 * import { resolveDevice } from 'lwfm-spm';
 * const device = resolveDevice('auto', queries * supports); // 'cpu' or 'cuda'
 */
export function resolveDevice(requested: DeviceRequest, workSize: number, minWork: number = CUDA_AUTO_MIN_PAIRS): Device {
  expectOneOf(requested, 'device', DEVICE_REQUESTS);
  expectNonNegativeInteger(workSize, 'workSize');
  expectNonNegativeInteger(minWork, 'minWork');
  if (requested === 'cpu') return 'cpu';
  const problem = nativeCudaProblem();
  if (problem) return cudaUnusable(requested, 'CUDA engine', problem.reason, problem.quiet);
  return requested === 'cuda' || workSize >= minWork ? 'cuda' : 'cpu';
}

/**
 * Resolves a Head's device once, at construction. 'cpu' -> 'cpu'. 'cuda' -> 'cuda', or
 * DeviceUnavailableError saying why (no CUDA engine in this build, no usable GPU, or a
 * configuration the GPU head cannot run, such as featureSize > 5). 'auto' -> 'cuda' when the
 * GPU is usable for this configuration (each score() call then still picks by size), else
 * 'cpu' (with one `LWFM_CUDA_FALLBACK` warning per process when CUDA is compiled in but
 * unusable; silently when it is not compiled in or the configuration is the reason).
 * @example
 * resolveHeadDevice('auto', { channels: [512, 512] }); // 'cpu' on a machine without a GPU
 * resolveHeadDevice('cuda', { channels: [512, 512], featureSize: 7 }); // throws DeviceUnavailableError
 */
export function resolveHeadDevice(requested: DeviceRequest, config: HeadDeviceConfig = { channels: [] }): Device {
  expectOneOf(requested, 'device', DEVICE_REQUESTS);
  if (requested === 'cpu') return 'cpu';
  const limitation = cudaHeadLimitation(config);
  if (limitation !== undefined) {
    if (requested === 'cuda') throw new DeviceUnavailableError(`device 'cuda' was requested but ${limitation}; use device 'cpu' or 'auto'`);
    return 'cpu';
  }
  const problem = nativeCudaProblem();
  if (problem) return cudaUnusable(requested, 'head', problem.reason, problem.quiet);
  return 'cuda';
}

/**
 * The engine for one score() call of `pairs` (query x support image) pairs on an 'auto' head
 * that resolved to 'cuda': the GPU from CUDA_AUTO_MIN_PAIRS pairs up.
 * @example
 * headEngineForCall(queries * support.size); // 'cpu' | 'cuda'
 */
export function headEngineForCall(pairs: number): Device {
  return pairs >= CUDA_AUTO_MIN_PAIRS ? 'cuda' : 'cpu';
}

/**
 * FewShotClassifier's head device for its `device` option: the same request, except that
 * 'cuda' with a head that cannot use CUDA gives 'cpu' and one LWFM_HEAD_CPU_FALLBACK warning
 * (the backbone stays strict).
 * @example
 * const headDevice = classifierHeadDevice(options.device ?? 'auto', headOptions);
 */
export function classifierHeadDevice(requested: DeviceRequest, config: HeadDeviceConfig): DeviceRequest {
  if (requested !== 'cuda') return requested;
  try {
    resolveHeadDevice('cuda', config);
    return 'cuda';
  } catch (err) {
    if (!(err instanceof DeviceUnavailableError)) throw err;
    process.emitWarning(`${err.message}. The head runs on the CPU; the backbone stays on CUDA.`, { code: WARNING_CODES.headCpuFallback });
    return 'cpu';
  }
}

/**
 * The backbone's device decision. `probe` says why ONNX Runtime's CUDA provider cannot be
 * used (undefined when it might be); `gpuPresent` whether a GPU looks present at all. Returns
 * 'cuda' to try CUDA sessions (on their failure, call cudaUnusable(requested, 'backbone', why)).
 */
export function backboneDeviceToTry(requested: DeviceRequest, gpuPresent: () => boolean, probe: () => string | undefined): Device {
  if (requested === 'cpu') return 'cpu';
  // No sign of a GPU: 'auto' uses the CPU silently ('cuda' still says why it cannot).
  if (requested === 'auto' && !gpuPresent()) return 'cpu';
  const problem = probe();
  return problem === undefined ? 'cuda' : cudaUnusable(requested, 'backbone', problem);
}
