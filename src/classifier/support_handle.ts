/**
 * Extra support sets on one classifier: each handle holds its own prepared support set
 * and shares the classifier's backbone workers and head, so a service can keep many
 * sets (one per tenant, per product line) with one model in memory. The stored set of
 * the classifier itself is just the first of these.
 */
import { checkLabels, checkSnapshot } from './checks.js';
import type { ImageInputs } from './inputs.js';
import { LabelMap, type Label } from './labels.js';
import { classifyAgainst } from './orchestration.js';
import { signalOf, type SignalOptions } from './abort.js';
import { streamClassify, type ClassifyStreamOptions, type StreamedResult } from './stream.js';
import type { ImageInput } from '../backbone/types.js';
import type { EngineRuntime } from './runtime.js';
import type { SupportSet } from './support_set.js';
import type { Classification, SupportSnapshot, SupportSummary } from './types.js';
import { DisposedError } from '../errors.js';

/** `importSupport` on any support set of a runtime: checks the snapshot, copies it, prepares it. */
export async function importSnapshot(rt: EngineRuntime, set: SupportSet, snapshot: SupportSnapshot): Promise<SupportSummary> {
  rt.alive();
  const start = performance.now();
  const [c, p] = rt.featureShape();
  const { features, count, labels } = checkSnapshot(snapshot, c, p);
  checkLabels(new LabelMap(), labels, count);
  const owned = features.slice(); // ours from here on: the caller may reuse its array
  return set.store(owned, labels as Label[], 'replace', { decode: 0, backbone: 0, total: 0 }, start);
}

/**
 * A support set of its own on a classifier (`classifier.createSupportSet()`), filled
 * from embeddings and classified against with the classifier's backbone and head.
 * @example
 * const cats = classifier.createSupportSet();
 * await cats.importSupport(snapshot);
 * const results = await cats.classify([readFileSync('q.jpg')]);
 * cats.dispose();
 */
export class SupportSetHandle {
  readonly #rt: EngineRuntime;
  readonly #set: SupportSet;
  readonly #onDispose: () => void;
  #disposed = false;

  /** @internal Use `FewShotClassifier.createSupportSet`. */
  constructor(rt: EngineRuntime, set: SupportSet, onDispose: () => void) {
    this.#rt = rt;
    this.#set = set;
    this.#onDispose = onDispose;
  }

  /** Labels in class-index order (empty before importSupport). */
  get labels(): readonly Label[] {
    return this.#set.labels;
  }

  /**
   * Replaces this set's support with embeddings (see FewShotClassifier.importSupport).
   * Classify calls already scoring keep the previous support until they finish.
   * @example
   * await handle.importSupport(classifier.exportSupport());
   */
  async importSupport(snapshot: SupportSnapshot): Promise<SupportSummary> {
    this.#alive();
    return importSnapshot(this.#rt, this.#set, snapshot);
  }

  /**
   * Classifies query images against this set (see FewShotClassifier.classify).
   * @example
   * const [r] = await handle.classify([jpegBytes]);
   */
  async classify(inputs: ImageInputs, options?: SignalOptions): Promise<Classification> {
    this.#alive();
    return classifyAgainst(this.#rt, this.#set, inputs, signalOf(options));
  }

  /**
   * Streams results for a sequence of any length against this set (see FewShotClassifier.classifyStream).
   * @example
   * for await (const r of handle.classifyStream(files)) console.log(r.inputIndex, r.label);
   */
  classifyStream(
    inputs: Iterable<ImageInput> | AsyncIterable<ImageInput>,
    options?: ClassifyStreamOptions,
  ): AsyncGenerator<StreamedResult, void, undefined> {
    this.#alive();
    return streamClassify(this.#rt, this.#set, inputs, options);
  }

  /**
   * This set as embeddings and labels (copies).
   * @example
   * const snapshot = handle.exportSupport();
   */
  exportSupport(): SupportSnapshot {
    this.#alive();
    return this.#set.snapshot();
  }

  /**
   * Frees this set's prepared support (once no classify uses it). Safe to call twice.
   * @example
   * handle.dispose();
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#set.clear();
    this.#onDispose();
  }

  #alive(): void {
    this.#rt.alive();
    if (this.#disposed) throw new DisposedError('SupportSetHandle');
  }
}
