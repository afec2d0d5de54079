/**
 * lwfm-spm: few-shot image classification with LWFM-SPM for Node.js.
 * @packageDocumentation
 */
export { LwfmError, NativeLoadError, DeviceUnavailableError, DisposedError, ModelBundleError, ImageDecodeError } from './errors.js';
export { nativeInfo } from './native_info.js';
export type { NativeInfo } from './native_info.js';
export { solveAssignments, solveAssignmentsSync, MAX_ASSIGNMENT_SIDE } from './assignment.js';
export type { AssignmentShape, AssignmentOptions, AssignmentRangeError } from './assignment.js';
