import { native, nativeOrigin } from './binding.js';

/**
 * What the loaded native addon is and where it came from.
 * @example
 * const { origin, simd }: NativeInfo = nativeInfo(); // e.g. 'cpu-build', 'avx2'
 */
export interface NativeInfo {
  /** Absolute path of the loaded `.node` file. */
  path: string;
  /** 'env' (LWFM_SPM_NATIVE), 'cuda-build', 'cpu-build' or 'prebuild'. */
  origin: 'env' | 'cuda-build' | 'cpu-build' | 'prebuild';
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
  return { path: nativeOrigin.path, origin: nativeOrigin.kind, cuda: b.cuda, simd: b.simd, cpuSimd: b.cpuSimd, hardwareThreads: b.hardwareThreads };
}
