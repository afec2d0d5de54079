import { native, nativeOrigin } from './binding.js';

/**
 * What the loaded native addon is and where it came from.
 * @example
 * const { origin, simd }: NativeInfo = nativeInfo(); // e.g. 'cpu-build', 'avx2'
 */
export interface NativeInfo {
  /** Absolute path of the loaded `.node` file. */
  path: string;
  /** 'env' (LWFM_SPM_NATIVE), 'cuda-build', 'cpu-build', 'prebuild' (CPU) or 'prebuild-cuda'. */
  origin: 'env' | 'cuda-build' | 'cpu-build' | 'prebuild' | 'prebuild-cuda';
  /** For prebuilds: why the CUDA variant or the CPU build was chosen (e.g. no NVIDIA driver, driver too old). */
  variantReason?: string;
  /** CUDA engine compiled in. */
  cuda: boolean;
  /** SIMD code path in use. */
  simd: string;
  /** Best SIMD code path the CPU supports. */
  cpuSimd: string;
  hardwareThreads: number;
}

/**
 * Describes the native build in use.
 * @example
 * import { nativeInfo } from 'lwfm-spm';
 * console.log(nativeInfo()); // { origin: 'cpu-build', cuda: false, simd: 'avx2', ... }
 */
export function nativeInfo(): NativeInfo {
  const b = native.buildInfo();
  const out: NativeInfo = {
    path: nativeOrigin.path,
    origin: nativeOrigin.kind,
    cuda: b.cuda,
    simd: b.simd,
    cpuSimd: b.cpuSimd,
    hardwareThreads: b.hardwareThreads,
  };
  if (nativeOrigin.variant) out.variantReason = `${nativeOrigin.variant.variant}: ${nativeOrigin.variant.reason}`;
  return out;
}
