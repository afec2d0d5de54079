/**
 * What the classifier needs from the backbone and the head, as small structural
 * interfaces. The real `Backbone` (src/backbone) and `Head` (src/head.ts) satisfy
 * them; tests inject fakes through the same seam. Keeping the classifier on these
 * interfaces also keeps onnxruntime and the addon out of modules that only sample
 * episodes or parse arguments.
 */
import type { EmbedBatch, ImageInput, ImageTensor } from '../backbone/types.js';
import type { HeadExplanation } from '../explain/terms.js';
import type { QuantizationInfo } from '../model/quantize/info.js';

/** The backbone as the classifier uses it. */
export interface EngineBackbone {
  readonly device: 'cpu' | 'cuda';
  embed(inputs: readonly ImageInput[] | ImageTensor, options?: { jobImages?: number }): Promise<EmbedBatch>;
  dispose(): Promise<void>;
}

/** A support set prepared by the head. */
export interface EnginePreparedSupport {
  readonly way: number;
  readonly size: number;
  dispose(): void;
}

/** The head as the classifier uses it. */
export interface EngineHead {
  readonly device: 'cpu' | 'cuda';
  /** `stable`: the classifier never changes `features` afterwards (the head may keep them instead of a copy). */
  prepareSupport(features: Float32Array, labels: ArrayLike<number>, options?: { stable?: boolean }): Promise<EnginePreparedSupport>;
  score(support: EnginePreparedSupport, query: Float32Array): Promise<Float32Array>;
  /** Every term of one query's logits (classifier.explain); heads without it cannot explain. */
  explain?(support: EnginePreparedSupport, query: Float32Array, index?: number): Promise<HeadExplanation>;
  dispose(): void;
}

/** The parts of a model bundle's config that the classifier reports. */
export interface EngineModelInfo {
  dir: string;
  /** Images are resized to resize x resize (absent: crop), then center-cropped to crop. */
  resize?: number;
  crop: number;
  channels: number[];
  featureSize: number;
  trained: boolean;
  source: string;
  /** `sha256:<hex>` of the backbone graph and its preprocessing: embeddings are interchangeable between models with equal fingerprints. */
  fingerprint: string;
  /** Backbone precision ('fp32' when the bundle does not say). */
  precision?: 'fp32' | 'int8';
  /** How an int8 backbone was quantized: method, percentile, calibration set size and hash. */
  quantization?: QuantizationInfo;
}

/** A backbone and a head built from one model bundle. */
export interface Engine {
  backbone: EngineBackbone;
  head: EngineHead;
  model: EngineModelInfo;
  /** Threads given to native code and ONNX Runtime (undefined = library default). */
  threads: number | undefined;
  /** Backbone worker count (undefined = library default). */
  workers: number | undefined;
}

/**
 * Options of `FewShotClassifier.load`.
 * @example
 * await FewShotClassifier.load(undefined, { device: 'cpu', threads: 2, workers: 1 });
 */
export interface LoadOptions {
  /** 'auto' (default) uses CUDA when available, with a warning when it falls back. */
  device?: 'auto' | 'cpu' | 'cuda';
  /** Threads per native call / ONNX Runtime session. */
  threads?: number;
  /** Backbone worker threads. */
  workers?: number;
  /**
   * Without a bundle: 'int8' loads the default model's int8 version (quantized and cached
   * on first use). With a bundle it must match the bundle's precision, when given.
   */
  precision?: 'fp32' | 'int8';
  /**
   * Images with more pixels than this (width x height) fail per item with ImageDecodeError
   * reason 'too-many-pixels', from their header, before decoding. Default 40,000,000.
   */
  maxImagePixels?: number;
}

/** Builds an engine from a bundle directory (undefined = the default model). */
export type EngineFactory = (bundleDir: string | undefined, options: LoadOptions) => Promise<Engine>;
