/**
 * lwfm-spm: few-shot image classification with LWFM-SPM for Node.js.
 * @packageDocumentation
 */
export { LwfmError, NativeLoadError, DeviceUnavailableError, DisposedError, ModelBundleError, ImageDecodeError } from './errors.js';
export { nativeInfo } from './native_info.js';
export type { NativeInfo } from './native_info.js';
export { cudaInfo, resolveDevice, solveAssignmentsCuda, CUDA_AUTO_MIN_PAIRS, CUDA_AUTO_MIN_PROBLEMS, CUDA_MAX_ASSIGNMENT_COLS } from './cuda.js';
export type { CudaInfo, CudaDevice, DeviceRequest } from './cuda.js';
export { prepareCudaSupport, CudaSupport } from './cuda_head.js';
export type { CudaHeadOptions } from './cuda_head.js';
