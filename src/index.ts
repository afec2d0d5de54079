/**
 * lwfm-spm: few-shot image classification with LWFM-SPM for Node.js.
 * @packageDocumentation
 */
export { LwfmError, NativeLoadError, DeviceUnavailableError, DisposedError, ModelBundleError, ImageDecodeError } from './errors.js';
export { nativeInfo } from './native_info.js';
export type { NativeInfo } from './native_info.js';
// --- backbone and model bundle (src/model, src/backbone) ---
export { loadBundle } from './model/bundle.js';
export type { ModelBundle } from './model/bundle.js';
export type { ModelConfig } from './model/config.js';
export { defaultBundle } from './model/default_bundle.js';
export { runConverter } from './model/convert.js';
export { Backbone } from './backbone/backbone.js';
export type { BackboneOptions } from './backbone/backbone.js';
export type { ImageInput, ImageTensor, EmbedBatch } from './backbone/types.js';
// --- classifier (src/classifier) ---
export { FewShotClassifier } from './classifier/classifier.js';
export type {
  Embedding,
  Prediction,
  FailedPrediction,
  ClassifyResult,
  Classification,
  SupportSummary,
  EvaluateOptions,
  EvaluateProgress,
  EvaluateResult,
  ClassifierInfo,
} from './classifier/classifier.js';
export type { LoadOptions, ImageSource, ImageTensorInput } from './classifier/engine.js';
export type { Label } from './classifier/labels.js';
export type { StageTimings } from './classifier/timings.js';
export { DatasetError } from './classifier/dataset_error.js';
