/**
 * What the classifier needs from the backbone and the head, as small structural
 * interfaces. The real `Backbone` (src/backbone) and `Head` (src/head.ts) satisfy
 * them; tests inject fakes through the same seam. Keeping the classifier on these
 * interfaces also keeps onnxruntime and the addon out of modules that only sample
 * episodes or parse arguments.
 */

/**
 * An image: a file path, or encoded bytes (Buffer / Uint8Array).
 * @example
 * const inputs: ImageSource[] = ['a.jpg', readFileSync('b.png')];
 */
export type ImageSource = string | Uint8Array;

/**
 * Images that are already preprocessed: NCHW float32 of shape [N, 3, S, S].
 * @example
 * await classifier.embed({ data: new Float32Array(2 * 3 * 84 * 84), dims: [2, 3, 84, 84] });
 */
export interface ImageTensorInput {
  data: Float32Array;
  dims: [number, 3, number, number];
}

/** What the backbone returns for a batch. */
export interface EngineEmbedding {
  /** N x C x P float32; rows of failed images are NaN. */
  data: Float32Array;
  dims: [number, number, number];
  /** One entry per input: null, or why that image failed. */
  errors: (Error | null)[];
  timings: { decode: number; backbone: number; total: number };
}

/** The backbone as the classifier uses it. */
export interface EngineBackbone {
  readonly device: 'cpu' | 'cuda';
  embed(inputs: readonly ImageSource[] | ImageTensorInput): Promise<EngineEmbedding>;
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
  prepareSupport(features: Float32Array, labels: ArrayLike<number>): Promise<EnginePreparedSupport>;
  score(support: EnginePreparedSupport, query: Float32Array): Promise<Float32Array>;
  dispose(): void;
}

/** The parts of a model bundle's config that the classifier reports. */
export interface EngineModelInfo {
  dir: string;
  crop: number;
  channels: number[];
  featureSize: number;
  trained: boolean;
  source: string;
  /** `sha256:<hex>` of the backbone graph and its preprocessing: embeddings are interchangeable between models with equal fingerprints. */
  fingerprint: string;
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
}

/** Builds an engine from a bundle directory (undefined = the default model). */
export type EngineFactory = (bundleDir: string | undefined, options: LoadOptions) => Promise<Engine>;
