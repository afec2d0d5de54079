/**
 * FewShotClassifier: from images to few-shot predictions with LWFM-SPM. It owns a
 * backbone (images -> C x P embeddings) and a head (embeddings -> logits, SPEC §3)
 * built from one model bundle, keeps a prepared support set for repeated queries,
 * and samples evaluation episodes from ImageFolder datasets.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DisposedError, ImageDecodeError, LwfmError } from '../errors.js';
import { expectOneOf, expectOptions, expectPositiveInteger, expectThreads, expectedMessage } from '../validate.js';
import type { Engine, EngineEmbedding, EngineFactory, EngineModelInfo, EnginePreparedSupport, LoadOptions } from './engine.js';
import { EpisodeSampler } from './episodes.js';
import { scanImageFolder } from './image_folder.js';
import { asDecodeError, countInputs, describeSource, isTensorInput, type ImageInputs } from './inputs.js';
import { LabelMap, type Label } from './labels.js';
import type { Seed } from './rng.js';
import { argmax, ci95, mean, softmax } from './stats.js';
import { addTimings, since, zeroTimings, type StageTimings } from './timings.js';

/**
 * Embeddings of a batch of images.
 * @example
 * const { data, dims: [n, c, p] } = await classifier.embed(['a.jpg']);
 */
export interface Embedding {
  /** N x C x P float32, P = featureSize^2; rows of failed images are NaN. */
  data: Float32Array;
  dims: [number, number, number];
  /** One entry per input: null, or the ImageDecodeError naming that image. */
  errors: (ImageDecodeError | null)[];
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
  /** The head's logits (SPEC §3.4), one per class. */
  logits: number[];
  error?: undefined;
}

/**
 * The slot of a query image that could not be read: the others still get predictions.
 * @example
 * const results = await classifier.classify(['ok.jpg', 'corrupt.jpg']);
 * results[1].error?.source; // 'corrupt.jpg'
 */
export interface FailedPrediction {
  error: ImageDecodeError;
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

interface SupportState {
  prepared: EnginePreparedSupport;
  features: Float32Array;
  labels: Int32Array;
  map: LabelMap;
  users: number;
  retired: boolean;
}

const packageVersion = (() => {
  let cached: string | undefined;
  return (): string => {
    if (cached === undefined) {
      // src/classifier/ and dist/classifier/ are both two levels below the package root.
      const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
      cached = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    }
    return cached;
  };
})();

/** Native build description supplied by the engine (kept out of this module so it never loads the addon itself). */
export type NativeInfoProvider = () => ClassifierInfo['native'];

/**
 * Few-shot image classifier (LWFM-SPM).
 * @example
 * import { FewShotClassifier } from 'lwfm-spm';
 * await using classifier = await FewShotClassifier.load(); // embedded default model (untrained)
 * await classifier.setSupport(['cat1.jpg', 'dog1.jpg'], ['cat', 'dog']);
 * const [result] = await classifier.classify(['unknown.jpg']);
 * if (!result.error) console.log(result.label, result.probabilities);
 */
export class FewShotClassifier {
  readonly #engine: Engine;
  readonly #nativeInfo: NativeInfoProvider;
  #support: SupportState | undefined;
  #mutation: Promise<unknown> = Promise.resolve();
  #disposed = false;

  /** @internal Use `FewShotClassifier.load`. */
  constructor(engine: Engine, nativeInfo: NativeInfoProvider) {
    this.#engine = engine;
    this.#nativeInfo = nativeInfo;
  }

  /**
   * Loads a model bundle (a directory made by `lwfm-spm convert`) or, without one,
   * the embedded default model, which is untrained.
   * @example
   * const classifier = await FewShotClassifier.load('./my-model', { device: 'cpu', threads: 2 });
   */
  static async load(bundle?: string, options?: LoadOptions): Promise<FewShotClassifier> {
    const opts = checkLoadArgs(bundle, options);
    const { createDefaultEngine, defaultNativeInfo } = await import('./default_engine.js');
    return new FewShotClassifier(await createDefaultEngine(bundle, opts), defaultNativeInfo);
  }

  /** Labels of the current support set, in class-index order (empty before setSupport). */
  get labels(): readonly Label[] {
    return this.#support?.map.labels ?? [];
  }

  /**
   * Runs the backbone: C x P embeddings per image (SPEC §1-2). Inputs are file
   * paths, Buffers of encoded images, or a tensor `{ data, dims: [N, 3, S, S] }`
   * already preprocessed. A failed image gets NaN features and its error; the
   * others are unaffected.
   * @example
   * const { data, dims, errors } = await classifier.embed(['a.jpg', 'b.png']);
   */
  async embed(inputs: ImageInputs): Promise<Embedding> {
    this.#alive();
    const start = performance.now();
    countInputs(inputs, 'inputs');
    const raw = await this.#embedRaw(inputs);
    this.#alive();
    return {
      data: raw.data,
      dims: raw.dims,
      errors: raw.errors.map((e, i) => (e ? asDecodeError(e, describeSource(inputs, i)) : null)),
      timings: { decode: raw.timings.decode, backbone: raw.timings.backbone, head: 0, total: since(start) },
    };
  }

  /**
   * Replaces the support set: images and one label per image (strings or numbers;
   * any number of shots per class). It is prepared once and reused by every later
   * `classify`. Every support image must be readable: the first failure is thrown
   * as an ImageDecodeError and the previous support set stays in place.
   * @example
   * await classifier.setSupport(['c1.jpg', 'c2.jpg', 'd1.jpg'], ['cat', 'cat', 'dog']);
   */
  async setSupport(inputs: ImageInputs, labels: readonly Label[]): Promise<SupportSummary> {
    return this.#updateSupport(inputs, labels, 'replace');
  }

  /**
   * Adds images (of known or new labels) to the support set.
   * @example
   * await classifier.addSupport(['bird1.jpg'], ['bird']);
   */
  async addSupport(inputs: ImageInputs, labels: readonly Label[]): Promise<SupportSummary> {
    return this.#updateSupport(inputs, labels, 'add');
  }

  /**
   * Classifies query images against the support set: one result per query, in input
   * order. An unreadable query yields `{ error }` in its slot; the others still get
   * predictions.
   * @example
   * const results = await classifier.classify(['q1.jpg', 'q2.jpg']);
   * for (const r of results) console.log(r.error ? r.error.message : r.label);
   * console.log(results.timings);
   */
  async classify(inputs: ImageInputs): Promise<Classification> {
    this.#alive();
    const start = performance.now();
    countInputs(inputs, 'inputs');
    if (!this.#support) throw noSupportError();
    const raw = await this.#embedRaw(inputs);
    this.#alive();
    const state = this.#acquire();
    try {
      return await this.#scoreQueries(state.prepared, state.map.labels, raw, inputs, 0, start);
    } finally {
      this.#release(state);
    }
  }

  /**
   * Classifies queries against a one-off support set, leaving the stored one alone.
   * Support and queries go through the backbone in one batch when both are image lists.
   * @example
   * const results = await classifier.classifyEpisode(['a.jpg', 'b.jpg'], ['a', 'b'], ['q.jpg']);
   */
  async classifyEpisode(support: ImageInputs, labels: readonly Label[], queries: ImageInputs): Promise<Classification> {
    this.#alive();
    const start = performance.now();
    const supportCount = countInputs(support, 'support');
    countInputs(queries, 'queries');
    const map = new LabelMap();
    const indices = checkLabels(map, labels, supportCount);
    let supportRaw: EngineEmbedding;
    let queryRaw: EngineEmbedding;
    let queryOffset = 0;
    if (!isTensorInput(support) && !isTensorInput(queries)) {
      const joint = await this.#embedRaw([...support, ...queries]);
      supportRaw = joint;
      queryRaw = joint;
      queryOffset = supportCount;
    } else {
      supportRaw = await this.#embedRaw(support);
      queryRaw = await this.#embedRaw(queries);
    }
    this.#alive();
    throwFirstSupportError(supportRaw, support, supportCount);
    const headStart = performance.now();
    const prepared = await this.#run(this.#engine.head.prepareSupport(rows(supportRaw, 0, supportCount), indices));
    const prepareMs = since(headStart);
    try {
      this.#alive();
      const result = await this.#scoreQueries(prepared, map.labels, queryRaw, queries, queryOffset, start);
      result.timings.head += prepareMs;
      if (queryRaw !== supportRaw) {
        result.timings.decode += supportRaw.timings.decode;
        result.timings.backbone += supportRaw.timings.backbone;
      }
      return result;
    } finally {
      prepared.dispose();
    }
  }

  /**
   * Few-shot evaluation: samples `episodes` N-way K-shot episodes from an ImageFolder
   * dataset (`root/<class>/<image>`), deterministic for a seed, and reports mean
   * accuracy with its 95% confidence interval. Unreadable images are skipped (with
   * `onWarning`) and their episode redrawn without them.
   * @example
   * const r = await classifier.evaluate('./mini-imagenet/test', { way: 5, shot: 1, episodes: 600, seed: 1 });
   * console.log(`${(100 * r.accuracy).toFixed(2)} +- ${(100 * r.ci95).toFixed(2)} %`);
   */
  async evaluate(datasetDir: string, options?: EvaluateOptions): Promise<EvaluateResult> {
    this.#alive();
    const start = performance.now();
    if (typeof datasetDir !== 'string' || datasetDir.length === 0) {
      throw new TypeError(expectedMessage('dataset directory path', 'datasetDir', datasetDir));
    }
    const opts = checkEvaluateOptions(options);
    const sampler = new EpisodeSampler(scanImageFolder(datasetDir), opts, opts.seed);
    const { head, backbone } = this.#engine;
    const accuracies: number[] = [];
    const timings = zeroTimings();
    let embedMs = 0;
    const embedTimed = async (files: string[]): Promise<EngineEmbedding> => {
      const t = performance.now();
      const raw = await this.#run(backbone.embed(files));
      embedMs += since(t);
      return raw;
    };
    for (let e = 0; e < opts.episodes; e++) {
      opts.signal?.throwIfAborted();
      // Redraw until an episode has no unreadable image; each failure shrinks the pool,
      // and the sampler throws a DatasetError once a class gets too small.
      let episode = sampler.next();
      let files = [...episode.support, ...episode.query].map((x) => x.file);
      let raw = await embedTimed(files);
      this.#alive();
      for (let bad = failedFiles(raw, files); bad.length > 0; bad = failedFiles(raw, files)) {
        for (const { file, error } of bad) opts.onWarning(`Skipping unreadable image ${file}: ${error.message}`, asDecodeError(error, file));
        sampler.exclude(bad.map((b) => b.file));
        episode = sampler.next();
        files = [...episode.support, ...episode.query].map((x) => x.file);
        raw = await embedTimed(files);
        this.#alive();
      }
      const s = episode.support.length;
      const q = episode.query.length;
      const headStart = performance.now();
      const prepared = await this.#run(head.prepareSupport(rows(raw, 0, s), Int32Array.from(episode.support, (x) => x.label)));
      let logits: Float32Array;
      try {
        logits = await this.#run(head.score(prepared, rows(raw, s, s + q)));
      } finally {
        prepared.dispose();
      }
      const headMs = since(headStart);
      this.#alive();
      let correct = 0;
      const way = episode.classes.length;
      episode.query.forEach((image, i) => {
        if (argmax(logits.subarray(i * way, (i + 1) * way)) === image.label) correct++;
      });
      accuracies.push(correct / q);
      addTimings(timings, { decode: raw.timings.decode, backbone: raw.timings.backbone, head: headMs, total: 0 });
      if (opts.onProgress) {
        const elapsedMs = since(start);
        const done = e + 1;
        const rate = done / (elapsedMs / 1000);
        opts.onProgress({ done, episodes: opts.episodes, accuracy: mean(accuracies), elapsedMs, rate, etaMs: ((opts.episodes - done) / rate) * 1000 });
      }
    }
    timings.total = since(start);
    const n = opts.episodes;
    return {
      accuracy: mean(accuracies),
      ci95: ci95(accuracies),
      episodes: n,
      way: opts.way,
      shot: opts.shot,
      query: opts.query,
      seed: opts.seed,
      episodeAccuracies: accuracies,
      timings,
      perEpisode: { decode: timings.decode / n, backbone: timings.backbone / n, head: timings.head / n, total: timings.total / n },
      overhead: { embedMs, headAndGlueMs: timings.total - embedMs, fraction: (timings.total - embedMs) / embedMs },
      skippedImages: [...sampler.excluded],
    };
  }

  /**
   * Package version, native build (CUDA compiled in, SIMD), devices in use, threads, model.
   * @example
   * console.log(classifier.info().devices); // { backbone: 'cpu', head: 'cpu' }
   */
  info(): ClassifierInfo {
    this.#alive();
    const e = this.#engine;
    return {
      version: packageVersion(),
      native: this.#nativeInfo(),
      devices: { backbone: e.backbone.device, head: e.head.device },
      threads: e.threads,
      workers: e.workers,
      model: { ...e.model, channels: [...e.model.channels] },
    };
  }

  /**
   * Releases the support set, the head and the backbone's workers. Later calls throw
   * DisposedError. Safe to call twice.
   * @example
   * await classifier.dispose();
   */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#support) this.#retire(this.#support);
    this.#support = undefined;
    this.#engine.head.dispose();
    await this.#engine.backbone.dispose();
  }

  /** `await using classifier = await FewShotClassifier.load()` disposes it at scope end. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #alive(): void {
    if (this.#disposed) throw new DisposedError('FewShotClassifier');
  }

  /** Awaits backbone/head work; if dispose() ran meanwhile, reports that rather than the part's own error. */
  async #run<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      if (this.#disposed) throw new DisposedError('FewShotClassifier');
      throw err;
    }
  }

  async #embedRaw(inputs: ImageInputs): Promise<EngineEmbedding> {
    const n = isTensorInput(inputs) ? inputs.dims[0] : inputs.length;
    if (n === 0) {
      // Nothing to run; the backbone need not handle empty batches.
      const c = this.#engine.model.channels.reduce((a, b) => a + b, 0);
      const p = this.#engine.model.featureSize ** 2;
      return { data: new Float32Array(0), dims: [0, c, p], errors: [], timings: { decode: 0, backbone: 0, total: 0 } };
    }
    const raw = await this.#run(this.#engine.backbone.embed(inputs));
    if (raw.errors.length !== n || raw.dims[0] !== n) {
      throw new LwfmError(`Backbone returned ${raw.dims[0]} embeddings and ${raw.errors.length} statuses for ${n} images`, 'ERR_LWFM_INTERNAL');
    }
    return raw;
  }

  async #scoreQueries(
    prepared: EnginePreparedSupport,
    labels: readonly Label[],
    raw: EngineEmbedding,
    inputs: ImageInputs,
    offset: number,
    start: number,
  ): Promise<Classification> {
    const n = (isTensorInput(inputs) ? inputs.dims[0] : inputs.length);
    const [, c, p] = raw.dims;
    const stride = c * p;
    const good: number[] = [];
    for (let i = 0; i < n; i++) if (!raw.errors[offset + i]) good.push(i);
    // Only readable queries go to the head: NaN rows would be rejected there.
    let queries: Float32Array;
    if (good.length === n) {
      queries = rows(raw, offset, offset + n);
    } else {
      queries = new Float32Array(good.length * stride);
      good.forEach((i, k) => queries.set(raw.data.subarray((offset + i) * stride, (offset + i + 1) * stride), k * stride));
    }
    const headStart = performance.now();
    const logits = good.length > 0 ? await this.#run(this.#engine.head.score(prepared, queries)) : new Float32Array(0);
    const headMs = since(headStart);
    const way = prepared.way;
    const results: ClassifyResult[] = new Array(n);
    good.forEach((i, k) => {
      const row = Array.from(logits.subarray(k * way, (k + 1) * way));
      const index = argmax(row);
      results[i] = { label: labels[index]!, index, probabilities: softmax(row), logits: row };
    });
    for (let i = 0; i < n; i++) {
      const error = raw.errors[offset + i];
      if (error) results[i] = { error: asDecodeError(error, describeSource(inputs, i)) };
    }
    return Object.assign(results, {
      labels: [...labels],
      timings: { decode: raw.timings.decode, backbone: raw.timings.backbone, head: headMs, total: since(start) },
    });
  }

  /**
   * The current support set as embeddings: what `importSupport` takes back, on this
   * classifier or another one loaded from the same model (a service's store, a queue's
   * workers). The arrays are copies.
   * @example
   * const snapshot = classifier.exportSupport();
   * await other.importSupport(snapshot); // same predictions, no backbone run
   */
  exportSupport(): SupportSnapshot {
    this.#alive();
    const state = this.#support;
    if (!state) throw noSupportError();
    const [c, p] = this.#featureShape();
    return {
      features: state.features.slice(),
      dims: [state.labels.length, c, p],
      labels: Array.from(state.labels, (k) => state.map.label(k)),
    };
  }

  /**
   * Replaces the support set with embeddings made earlier (`exportSupport`, or `embed`
   * of the support images) and one label per image. No image is decoded.
   * @example
   * const { data, dims } = await classifier.embed(['c1.jpg', 'd1.jpg']);
   * await classifier.importSupport({ features: data, dims, labels: ['cat', 'dog'] });
   */
  async importSupport(snapshot: SupportSnapshot): Promise<SupportSummary> {
    this.#alive();
    const start = performance.now();
    const o = expectOptions(snapshot, 'snapshot');
    const [c, p] = this.#featureShape();
    const features = o.features;
    if (!(features instanceof Float32Array)) throw new TypeError(expectedMessage('Float32Array', 'snapshot.features', features));
    const dims = o.dims;
    if (!Array.isArray(dims) || dims.length !== 3 || dims[1] !== c || dims[2] !== p || !Number.isSafeInteger(dims[0]) || dims[0] < 1) {
      throw new RangeError(expectedMessage(`dims [N >= 1, ${c}, ${p}] (this model's channels and pixels)`, 'snapshot.dims', dims));
    }
    const n = dims[0] as number;
    if (features.length !== n * c * p) {
      throw new RangeError(expectedMessage(`${n * c * p} features (N x C x P)`, 'snapshot.features.length', features.length));
    }
    checkLabels(new LabelMap(), o.labels, n);
    const owned = features.slice(); // ours from here on: the caller may reuse its array
    const zero = { decode: 0, backbone: 0, total: 0 };
    return this.#storeSupport(owned, o.labels as Label[], 'replace', zero, start);
  }

  #featureShape(): [number, number] {
    return [this.#engine.model.channels.reduce((a, b) => a + b, 0), this.#engine.model.featureSize ** 2];
  }

  async #updateSupport(inputs: ImageInputs, labels: readonly Label[], mode: 'replace' | 'add'): Promise<SupportSummary> {
    this.#alive();
    const start = performance.now();
    const count = countInputs(inputs, 'inputs');
    if (count === 0) throw new RangeError(expectedMessage('at least one support image', 'inputs', inputs));
    // Validate labels before the expensive backbone run (on a scratch map).
    checkLabels((mode === 'add' && this.#support ? this.#support.map : new LabelMap()).clone(), labels, count);
    const raw = await this.#embedRaw(inputs);
    this.#alive();
    throwFirstSupportError(raw, inputs, count);
    return this.#storeSupport(raw.data, labels, mode, raw.timings, start);
  }

  async #storeSupport(
    data: Float32Array,
    labels: readonly Label[],
    mode: 'replace' | 'add',
    stageTimes: { decode: number; backbone: number },
    start: number,
  ): Promise<SupportSummary> {
    const count = labels.length;
    // Mutations are serialized so that concurrent addSupport calls never drop each other's images.
    const run = this.#mutation.then(async () => {
      this.#alive();
      const base = mode === 'add' ? this.#support : undefined;
      const map = base ? base.map.clone() : new LabelMap();
      const added = checkLabels(map, labels, count);
      const features = base ? concat(base.features, data) : data;
      const indices = base ? concatInt(base.labels, added) : added;
      const headStart = performance.now();
      const prepared = await this.#run(this.#engine.head.prepareSupport(features, indices));
      const headMs = since(headStart);
      if (this.#disposed) {
        prepared.dispose();
        throw new DisposedError('FewShotClassifier');
      }
      const old = this.#support;
      this.#support = { prepared, features, labels: indices, map, users: 0, retired: false };
      if (old) this.#retire(old);
      const shotsPerClass = new Array<number>(map.size).fill(0);
      for (const k of indices) shotsPerClass[k]!++;
      return {
        way: map.size,
        size: indices.length,
        labels: [...map.labels],
        shotsPerClass,
        timings: { decode: stageTimes.decode, backbone: stageTimes.backbone, head: headMs, total: since(start) },
      };
    });
    this.#mutation = run.catch(() => undefined);
    return run;
  }

  /** Pins the current support set so that a concurrent setSupport cannot free it mid-score. */
  #acquire(): SupportState {
    const state = this.#support;
    if (!state) throw noSupportError();
    state.users++;
    return state;
  }

  #release(state: SupportState): void {
    state.users--;
    if (state.retired && state.users === 0) state.prepared.dispose();
  }

  #retire(state: SupportState): void {
    state.retired = true;
    if (state.users === 0) state.prepared.dispose();
  }
}

/** Builds a classifier around an engine; tests use it to inject fakes. @internal */
export function classifierFromEngine(engine: Engine, nativeInfo: NativeInfoProvider): FewShotClassifier {
  return new FewShotClassifier(engine, nativeInfo);
}

/** Argument checks of `load`, shared with engine factories. @internal */
export function checkLoadArgs(bundle: unknown, options: unknown): LoadOptions {
  if (bundle !== undefined && (typeof bundle !== 'string' || bundle.length === 0)) {
    throw new TypeError(expectedMessage('model bundle directory path or undefined', 'bundle', bundle));
  }
  const o = expectOptions(options, 'options');
  const out: LoadOptions = {};
  if (o.device !== undefined) out.device = expectOneOf(o.device, 'options.device', ['auto', 'cpu', 'cuda'] as const);
  const threads = expectThreads(o.threads, 'options.threads');
  if (threads !== undefined) out.threads = threads;
  if (o.workers !== undefined) out.workers = expectPositiveInteger(o.workers, 'options.workers', 256);
  return out;
}

/** Loads via a given factory (tests inject fakes here). @internal */
export async function loadWith(factory: EngineFactory, nativeInfo: NativeInfoProvider, bundle?: string, options?: LoadOptions): Promise<FewShotClassifier> {
  return new FewShotClassifier(await factory(bundle, checkLoadArgs(bundle, options)), nativeInfo);
}

function noSupportError(): LwfmError {
  return new LwfmError('No support set: call setSupport(images, labels) before classify()', 'ERR_LWFM_NO_SUPPORT');
}

function checkLabels(map: LabelMap, labels: unknown, count: number): Int32Array {
  if (!Array.isArray(labels)) throw new TypeError(expectedMessage('array of labels', 'labels', labels));
  if (labels.length !== count) {
    throw new RangeError(expectedMessage(`array of ${count} labels (one per support image)`, 'labels', labels));
  }
  return map.indicesOf(labels);
}

function throwFirstSupportError(raw: EngineEmbedding, inputs: ImageInputs, count: number): void {
  for (let i = 0; i < count; i++) {
    const error = raw.errors[i];
    if (error) throw asDecodeError(error, describeSource(inputs, i));
  }
}

function failedFiles(raw: EngineEmbedding, files: string[]): { file: string; error: Error }[] {
  const out: { file: string; error: Error }[] = [];
  raw.errors.forEach((error, i) => {
    if (error) out.push({ file: files[i]!, error });
  });
  return out;
}

/** Rows [from, to) of an N x C x P embedding, as a view (no copy). */
function rows(raw: EngineEmbedding, from: number, to: number): Float32Array {
  const stride = raw.dims[1] * raw.dims[2];
  return raw.data.subarray(from * stride, to * stride);
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function concatInt(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function checkEvaluateOptions(options: unknown): Required<Omit<EvaluateOptions, 'onProgress' | 'signal'>> & Pick<EvaluateOptions, 'onProgress' | 'signal'> {
  const o = expectOptions(options, 'options');
  const seed = o.seed ?? 0;
  if (!(typeof seed === 'string' || (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0))) {
    throw new TypeError(expectedMessage('non-negative integer or string seed', 'options.seed', seed));
  }
  for (const key of ['onProgress', 'onWarning'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'function') throw new TypeError(expectedMessage('function', `options.${key}`, o[key]));
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new TypeError(expectedMessage('AbortSignal', 'options.signal', o.signal));
  return {
    way: expectPositiveInteger(o.way ?? 5, 'options.way', 100_000),
    shot: expectPositiveInteger(o.shot ?? 1, 'options.shot', 100_000),
    query: expectPositiveInteger(o.query ?? 15, 'options.query', 100_000),
    episodes: expectPositiveInteger(o.episodes ?? 600, 'options.episodes', 10_000_000),
    seed,
    onProgress: o.onProgress as EvaluateOptions['onProgress'],
    onWarning: (o.onWarning as EvaluateOptions['onWarning']) ?? ((message: string) => process.emitWarning(message, { code: 'LWFM_SKIPPED_IMAGE' })),
    signal: o.signal as AbortSignal | undefined,
  };
}
