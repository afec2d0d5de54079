/**
 * The classifier's public result and option types, kept apart from the code so that
 * modules which only describe results (the CLI, a service's schemas) import no logic.
 */
import type { BackboneError, ImageDecodeError } from '../errors.js';
import type { EngineModelInfo } from './engine.js';
import type { Label } from './labels.js';
import type { Seed } from './rng.js';
import type { StageTimings } from './timings.js';

/**
 * Embeddings of a batch of images.
 * @example
 * const { data, dims: [n, c, p] } = await classifier.embed(['a.jpg']);
 */
export interface Embedding {
  /** N x C x P float32, P = featureSize^2; rows of failed images are NaN. */
  data: Float32Array;
  dims: [number, number, number];
  /**
   * One entry per input: null, the ImageDecodeError naming that image, or a BackboneError when
   * the backbone worker running it failed (retrying may succeed: the worker is replaced).
   */
  errors: (ImageDecodeError | BackboneError | null)[];
  timings: StageTimings;
}

/**
 * The prediction for one query image.
 * @example
 * const [r] = await classifier.classify(['q.jpg']);
 * if (!r.error) console.log(r.label, r.probabilities[r.index]);
 */
export interface Prediction {
  /** Predicted label, as given to setSupport. */
  label: Label;
  /** Its class index (position in `labels`). */
  index: number;
  /** Softmax of the logits, one per class, in class-index order. */
  probabilities: number[];
  /** The head's logits (docs/computation.md §3.4), one per class. */
  logits: number[];
  error?: undefined;
}

/**
 * The slot of a query image that could not be read: the others still get predictions.
 * @example
 * const results = await classifier.classify(['ok.jpg', 'corrupt.jpg']);
 * if (results[1].error instanceof ImageDecodeError) results[1].error.source; // 'corrupt.jpg'
 */
export interface FailedPrediction {
  /** ImageDecodeError: the image is unreadable. BackboneError: its backbone worker failed. */
  error: ImageDecodeError | BackboneError;
  label?: undefined;
  index?: undefined;
  probabilities?: undefined;
  logits?: undefined;
}

/**
 * One entry per query, in input order: test `result.error` to tell them apart.
 * @example
 * for (const r of await classifier.classify(files)) console.log(r.error ? `failed: ${r.error.message}` : r.label);
 */
export type ClassifyResult = Prediction | FailedPrediction;

/**
 * The results of classify / classifyEpisode: an array with one entry per query in
 * input order, plus the class labels (index order) and the call's stage timings.
 * @example
 * const results = await classifier.classify(files);
 * console.log(results.length, results.labels, results.timings.head);
 */
export type Classification = ClassifyResult[] & { labels: readonly Label[]; timings: StageTimings };

/**
 * What setSupport / addSupport report.
 * @example
 * const { way, shotsPerClass } = await classifier.setSupport(files, labels);
 */
export interface SupportSummary {
  /** Number of classes. */
  way: number;
  /** Number of support images. */
  size: number;
  /** Labels in class-index order. */
  labels: readonly Label[];
  /** Support images per class, in class-index order. */
  shotsPerClass: number[];
  timings: StageTimings;
}

/**
 * A support set as embeddings, one row and one label per support image: what
 * `exportSupport` returns and `importSupport` takes. Valid only for classifiers
 * loaded from the same model (same backbone weights, channels and feature size).
 * @example
 * const { features, dims: [n, c, p], labels } = classifier.exportSupport();
 */
export interface SupportSnapshot {
  /** N x C x P float32 embeddings. */
  features: Float32Array;
  dims: [number, number, number];
  /** One label per row, in row order. */
  labels: Label[];
}

/**
 * Progress of `evaluate`, after each episode.
 * @example
 * await classifier.evaluate(dir, { onProgress: (p) => console.log(`${p.done}/${p.episodes}`) });
 */
export interface EvaluateProgress {
  /** Episodes done. */
  done: number;
  episodes: number;
  /** Mean accuracy of the episodes done so far (0..1). */
  accuracy: number;
  elapsedMs: number;
  /** Episodes per second so far. */
  rate: number;
  /** Estimated milliseconds left at the current rate. */
  etaMs: number;
}

/**
 * Options of `evaluate`.
 * @example
 * await classifier.evaluate(dir, { way: 5, shot: 5, query: 15, episodes: 600, seed: 1 });
 */
export interface EvaluateOptions {
  way?: number;
  shot?: number;
  /** Query images per class. */
  query?: number;
  episodes?: number;
  /** Seed of the episode sampler (default 0): the same seed gives the same episodes. */
  seed?: Seed;
  onProgress?: (progress: EvaluateProgress) => void;
  /**
   * Called for every unreadable image; it is skipped and its episode redrawn.
   * Default: `process.emitWarning`.
   */
  onWarning?: (message: string, error: ImageDecodeError) => void;
  signal?: AbortSignal;
}

/**
 * The result of `evaluate`.
 * @example
 * const { accuracy, ci95 } = await classifier.evaluate(dir);
 */
export interface EvaluateResult {
  /** Mean episode accuracy, 0..1. */
  accuracy: number;
  /** 1.96 * std / sqrt(episodes) (population std, as numpy's np.std), 0..1. */
  ci95: number;
  episodes: number;
  way: number;
  shot: number;
  query: number;
  seed: Seed;
  /** Accuracy of every episode, in order. */
  episodeAccuracies: number[];
  /** Stage timings summed over all episodes (ms); `total` is the wall clock of the run. */
  timings: StageTimings;
  /** Mean per-episode timings (ms). */
  perEpisode: StageTimings;
  /**
   * Where the wall clock went: `embedMs` = time inside the backbone's embed calls
   * (decode + network), `headAndGlueMs` = everything else (head, sampling, glue),
   * `fraction` = headAndGlueMs / embedMs.
   */
  overhead: { embedMs: number; headAndGlueMs: number; fraction: number };
  /** Unreadable images that were skipped. */
  skippedImages: string[];
  /** Files in class directories left out because they are not images sharp decodes (e.g. .bmp, .txt). */
  unsupportedFiles: string[];
}

/**
 * What `info()` reports.
 * @example
 * const { version, native, devices } = classifier.info();
 */
export interface ClassifierInfo {
  /** lwfm-spm package version. */
  version: string;
  /** The native addon: where it came from, CUDA compiled in, SIMD path. */
  native: { path: string; origin: string; cuda: boolean; simd: string; cpuSimd: string; hardwareThreads: number };
  /** Devices in use. */
  devices: { backbone: 'cpu' | 'cuda'; head: 'cpu' | 'cuda' };
  threads: number | undefined;
  workers: number | undefined;
  model: EngineModelInfo;
}

/**
 * Native build description supplied by the engine (kept out of the classifier so that it
 * never loads the addon itself).
 * @example
 * const provider: NativeInfoProvider = () => nativeInfo();
 */
export type NativeInfoProvider = () => ClassifierInfo['native'];
