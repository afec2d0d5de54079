/**
 * lwfm-spm: few-shot image classification with LWFM-SPM for Node.js.
 * @packageDocumentation
 */
export { LwfmError, NativeLoadError, DeviceUnavailableError, DisposedError, ModelBundleError, ImageDecodeError } from './errors.js';
export { nativeInfo } from './native_info.js';
export type { NativeInfo } from './native_info.js';
export { Head, PreparedSupport } from './head.js';
export type { HeadOptions, MatcherWeights, HeadDevice, ResolvedHeadDevice } from './head.js';
export { resolveHeadDevice } from './head_device.js';
