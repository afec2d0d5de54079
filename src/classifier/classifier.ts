/**
 * FewShotClassifier: from images to few-shot predictions with LWFM-SPM. It owns a
 * backbone (images -> C x P embeddings) and a head (embeddings -> logits, docs/computation.md §3)
 * built from one model bundle, keeps a prepared support set for repeated queries,
 * and samples evaluation episodes from ImageFolder datasets.
 *
 * This file is the public facade; the work lives by concern next to it: types.ts
 * (result types), support_set.ts (stored support: reference counting, serialised
 * mutations), orchestration.ts (embed / classify / classifyEpisode), evaluate.ts,
 * checks.ts (argument checks) and runtime.ts (guarded engine access).
 */
import { packageVersion } from '../package_info.js';
import { expectedMessage } from '../validate.js';
import { checkLoadArgs } from './checks.js';
import type { Engine, EngineFactory, LoadOptions } from './engine.js';
import { evaluateFolder } from './evaluate.js';
import { explainQuery } from './explain.js';
import { countInputs, isTensorInput, type ImageInputs } from './inputs.js';
import type { Label } from './labels.js';
import { classifyAgainst, classifyEpisode, embedImages, throwFirstSupportError } from './orchestration.js';
import type { ImageInput, ImageTensor } from '../backbone/types.js';
import type { ExplainOptions } from '../explain/explain_query.js';
import type { Explanation } from '../explain/explanation.js';
import { EngineRuntime } from './runtime.js';
import { signalOf, type SignalOptions } from './abort.js';
import { streamClassify, type ClassifyStreamOptions, type StreamedResult } from './stream.js';
import { SupportSet, type SupportMode } from './support_set.js';
import { importSnapshot, SupportSetHandle } from './support_handle.js';
import type {
  Classification,
  ClassifierInfo,
  Embedding,
  EvaluateOptions,
  EvaluateResult,
  NativeInfoProvider,
  SupportSnapshot,
  SupportSummary,
} from './types.js';

// The public types are reachable from here too (the module users and services import).
export type * from './types.js';
export type { ClassifyStreamOptions, StreamedResult } from './stream.js';
export type { SignalOptions } from './abort.js';

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
  readonly #runtime: EngineRuntime;
  readonly #nativeInfo: NativeInfoProvider;
  readonly #support: SupportSet;
  /** Sets made by createSupportSet, cleared with the classifier. */
  readonly #handles = new Set<SupportSet>();

  /** @internal Use `FewShotClassifier.load`. */
  constructor(engine: Engine, nativeInfo: NativeInfoProvider) {
    this.#runtime = new EngineRuntime(engine);
    this.#nativeInfo = nativeInfo;
    this.#support = new SupportSet(this.#runtime);
  }

  /**
   * Loads a model bundle (a directory made by `lwfm-spm convert`) or, without one,
   * the embedded default model, which is untrained.
   * @example
   * const classifier = await FewShotClassifier.load('./my-model', { device: 'cpu', threads: 2 });
   */
  static async load(bundle?: string, options?: LoadOptions): Promise<FewShotClassifier> {
    const opts = checkLoadArgs(bundle, options);
    // Imported here, not at the top: importing the classifier must not start onnxruntime or load the addon.
    const { createDefaultEngine, defaultNativeInfo } = await import('./default_engine.js');
    return new FewShotClassifier(await createDefaultEngine(bundle, opts), defaultNativeInfo);
  }

  /** Labels of the current support set, in class-index order (empty before setSupport). */
  get labels(): readonly Label[] {
    return this.#support.labels;
  }

  /**
   * Runs the backbone: C x P embeddings per image (docs/computation.md §1-2). Inputs are file
   * paths, Buffers of encoded images, or a tensor `{ data, dims: [N, 3, S, S] }`
   * already preprocessed. A failed image gets NaN features and its error; the
   * others are unaffected.
   * `options.signal` aborts the call (it rejects with the signal's reason).
   * @example
   * const { data, dims, errors } = await classifier.embed(['a.jpg', 'b.png']);
   */
  async embed(inputs: ImageInputs, options?: SignalOptions): Promise<Embedding> {
    this.#runtime.alive();
    return embedImages(this.#runtime, inputs, signalOf(options));
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
   * predictions. All results are held until the call returns: for large or unbounded sets
   * use `classifyStream`. `options.signal` aborts the call.
   * @example
   * const results = await classifier.classify(['q1.jpg', 'q2.jpg']);
   * for (const r of results) console.log(r.error ? r.error.message : r.label);
   * console.log(results.timings);
   */
  async classify(inputs: ImageInputs, options?: SignalOptions): Promise<Classification> {
    this.#runtime.alive();
    return classifyAgainst(this.#runtime, this.#support, inputs, signalOf(options));
  }

  /**
   * Classifies a sequence of any length (an array, a generator, an async iterable such as a
   * directory walk) against the support set as it was when the stream started, yielding one
   * result per input in input order, each with `inputIndex` and `source`. Memory is bounded
   * by `batchSize` and the pipeline depth (two batches in the backbone, one in the head), not
   * by the input count; decoding, the backbone and the head of consecutive batches overlap.
   * Inputs are read only as results are consumed. Breaking out of the loop stops the stream
   * and closes the input iterator; `signal` makes the iteration reject with its reason.
   * @example
   * for await (const r of classifier.classifyStream(walk('./photos'), { batchSize: 80 })) {
   *   console.log(r.inputIndex, r.source, r.error ? r.error.message : r.label);
   * }
   */
  classifyStream(
    inputs: Iterable<ImageInput> | AsyncIterable<ImageInput>,
    options?: ClassifyStreamOptions,
  ): AsyncGenerator<StreamedResult, void, undefined> {
    this.#runtime.alive();
    return streamClassify(this.#runtime, this.#support, inputs, options);
  }

  /**
   * Classifies queries against a one-off support set, leaving the stored one alone.
   * Support and queries go through the backbone in one batch when both are image lists.
   * @example
   * const results = await classifier.classifyEpisode(['a.jpg', 'b.jpg'], ['a', 'b'], ['q.jpg']);
   */
  async classifyEpisode(support: ImageInputs, labels: readonly Label[], queries: ImageInputs): Promise<Classification> {
    this.#runtime.alive();
    return classifyEpisode(this.#runtime, support, labels, queries);
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
    this.#runtime.alive();
    return evaluateFolder(this.#runtime, datasetDir, options);
  }

  /**
   * Why one query gets its prediction: for the best classes (or `options.classes`), the logit
   * and its two terms, global g and matching M (logit = (g + M) / temperature), and per
   * support image and tap the attention weights, the pixel assignment and the matched
   * similarities, as the head computed them while scoring. `renderExplanation` draws it.
   * Explanations come from the CPU engine (a head with device 'cuda' cannot explain).
   * @example
   * const ex = await classifier.explain('query.jpg', { topClasses: 3 });
   * for (const c of ex.classes) console.log(c.label, c.logit, c.global, c.matching);
   */
  async explain(query: ImageInput | ImageTensor, options?: ExplainOptions): Promise<Explanation> {
    this.#runtime.alive();
    return explainQuery(this.#runtime, this.#support, query, options);
  }

  /**
   * Package version, native build (CUDA compiled in, SIMD), devices in use, threads, model.
   * @example
   * console.log(classifier.info().devices); // { backbone: 'cpu', head: 'cpu' }
   */
  info(): ClassifierInfo {
    this.#runtime.alive();
    const e = this.#runtime.engine;
    return {
      version: packageVersion(),
      native: this.#nativeInfo(),
      devices: { backbone: e.backbone.device, head: e.head.device },
      threads: e.threads,
      workers: e.workers,
      model: {
        ...e.model,
        channels: [...e.model.channels],
        ...(e.model.quantization ? { quantization: { ...e.model.quantization } } : {}),
      },
    };
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
    this.#runtime.alive();
    return this.#support.snapshot();
  }

  /**
   * Replaces the support set with embeddings made earlier (`exportSupport`, or `embed`
   * of the support images) and one label per image. No image is decoded.
   * @example
   * const { data, dims } = await classifier.embed(['c1.jpg', 'd1.jpg']);
   * await classifier.importSupport({ features: data, dims, labels: ['cat', 'dog'] });
   */
  async importSupport(snapshot: SupportSnapshot): Promise<SupportSummary> {
    return importSnapshot(this.#runtime, this.#support, snapshot);
  }

  /**
   * A further support set on this classifier, sharing its backbone and head: a service
   * keeps one per named set. Disposing the classifier disposes them too.
   * @example
   * const dogs = classifier.createSupportSet();
   * await dogs.importSupport(snapshot);
   * const results = await dogs.classify(['q.jpg']);
   */
  createSupportSet(): SupportSetHandle {
    this.#runtime.alive();
    const set = new SupportSet(this.#runtime);
    this.#handles.add(set);
    return new SupportSetHandle(this.#runtime, set, () => this.#handles.delete(set));
  }

  /**
   * Releases the support set, the head and the backbone's workers. Later calls throw
   * DisposedError. Safe to call twice.
   * @example
   * await classifier.dispose();
   */
  async dispose(): Promise<void> {
    if (!this.#runtime.markDisposed()) return;
    this.#support.clear();
    for (const set of this.#handles) set.clear();
    this.#runtime.engine.head.dispose();
    await this.#runtime.engine.backbone.dispose();
  }

  /** `await using classifier = await FewShotClassifier.load()` disposes it at scope end. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  async #updateSupport(inputs: ImageInputs, labels: readonly Label[], mode: SupportMode): Promise<SupportSummary> {
    const rt = this.#runtime;
    rt.alive();
    const start = performance.now();
    const count = countInputs(inputs, 'inputs');
    if (count === 0) throw new RangeError(expectedMessage('at least one support image', 'inputs', inputs));
    this.#support.checkNewLabels(labels, count, mode);
    const raw = await rt.embed(inputs);
    rt.alive();
    throwFirstSupportError(raw, inputs, count);
    return this.#support.store(raw.data, labels, mode, raw.timings, start, isTensorInput(inputs) ? [] : inputs);
  }
}

/** Builds a classifier around an engine; tests use it to inject fakes. @internal */
export function classifierFromEngine(engine: Engine, nativeInfo: NativeInfoProvider): FewShotClassifier {
  return new FewShotClassifier(engine, nativeInfo);
}

/** Loads via a given factory (tests inject fakes here). @internal */
export async function loadWith(
  factory: EngineFactory,
  nativeInfo: NativeInfoProvider,
  bundle?: string,
  options?: LoadOptions,
): Promise<FewShotClassifier> {
  return new FewShotClassifier(await factory(bundle, checkLoadArgs(bundle, options)), nativeInfo);
}
