/**
 * lwfm-spm: few-shot image classification with LWFM-SPM for Node.js.
 * @packageDocumentation
 */
export {
  LwfmError,
  NativeLoadError,
  DeviceUnavailableError,
  DisposedError,
  ModelBundleError,
  ModelDownloadError,
  ImageDecodeError,
  CudaError,
  BackboneError,
} from './errors.js';
export type { ImageDecodeReason } from './errors.js';
export { nativeInfo } from './native_info.js';
export type { NativeInfo } from './native_info.js';
// --- assignment ---
export { solveAssignments, solveAssignmentsSync, MAX_ASSIGNMENT_SIDE } from './assignment.js';
export type { AssignmentShape, AssignmentOptions, AssignmentRangeError } from './assignment.js';
// --- backbone and model bundle (src/model, src/backbone) ---
export { loadBundle } from './model/bundle.js';
export type { ModelBundle } from './model/bundle.js';
export type { ModelConfig } from './model/config.js';
export { defaultBundle } from './model/default_bundle.js';
export { runConverter } from './model/convert.js';
export { buildPretrainedBundle } from './model/pretrained.js';
export type { PretrainedOptions, PretrainedProgress } from './model/pretrained.js';
export type { ResNetArch } from './model/resnet.js';
export { quantizeBundle } from './model/quantize/quantize_bundle.js';
export type { QuantizeOptions } from './model/quantize/quantize_bundle.js';
export type { QuantizationInfo } from './model/quantize/info.js';
export { defaultInt8Bundle } from './model/quantize/default_int8.js';
export { Backbone } from './backbone/backbone.js';
export type { BackboneOptions } from './backbone/backbone.js';
export type { ImageInput, ImageTensor, EmbedBatch } from './backbone/types.js';
// --- cuda ---
export { cudaInfo, solveAssignmentsCuda, CUDA_MAX_ASSIGNMENT_COLS } from './cuda.js';
export type { CudaInfo, CudaDevice } from './cuda.js';
// --- device policy ---
export { resolveDevice, resolveHeadDevice, CUDA_AUTO_MIN_PAIRS, CUDA_AUTO_MIN_PROBLEMS, WARNING_CODES } from './device.js';
export type { DeviceRequest } from './device.js';
export { prepareCudaSupport, prepareCudaSupportAsync, CudaSupport, CUDA_HEAD_MAX_FEATURE_SIZE } from './cuda_head.js';
export type { CudaHeadOptions } from './cuda_head.js';
// --- head ---
export { Head, PreparedSupport } from './head.js';
export type { HeadOptions, HeadInfo, MatcherWeights, HeadDevice, ResolvedHeadDevice, PrepareOptions } from './head.js';
// --- classifier (src/classifier) ---
export { FewShotClassifier } from './classifier/classifier.js';
export type {
  Embedding,
  Prediction,
  FailedPrediction,
  ClassifyResult,
  Classification,
  SupportSummary,
  SupportSnapshot,
  EvaluateOptions,
  EvaluateProgress,
  EvaluateResult,
  ClassifierInfo,
} from './classifier/classifier.js';
export type { LoadOptions } from './classifier/engine.js';
export type { ClassifyStreamOptions, StreamedResult } from './classifier/stream.js';
export type { SignalOptions } from './classifier/abort.js';
export type { Label } from './classifier/labels.js';
export type { StageTimings } from './classifier/timings.js';
export { DatasetError } from './classifier/dataset_error.js';
export { SupportSetHandle } from './classifier/support_handle.js';
// --- explanations (src/explain) ---
export { renderExplanation } from './explain/render.js';
export type { RenderOptions } from './explain/render.js';
export type { Explanation, ClassExplanation, SupportExplanation, ExplainedImage } from './explain/explanation.js';
export type { ExplainOptions } from './explain/explain_query.js';
export type { HeadExplanation, ClassTerms, SupportTerms, TapTerms } from './explain/terms.js';
export { encodeSupportSnapshot, decodeSupportSnapshot, checkSameModel, SUPPORT_FORMAT_VERSION } from './classifier/support_codec.js';
export type { SupportModelIdentity, DecodedSupport } from './classifier/support_codec.js';
