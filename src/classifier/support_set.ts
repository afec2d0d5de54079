/**
 * The classifier's stored support set: its embeddings, labels and the head's prepared
 * form, replaced as a whole by each setSupport / addSupport / importSupport.
 *
 * Two rules keep concurrent callers safe:
 * - mutations run one after another, so concurrent addSupport calls never drop each
 *   other's images;
 * - a prepared support is reference-counted: a classify that started on it keeps it alive
 *   until it finishes, even if a newer set replaced it meanwhile.
 *
 * Where the support lives: the embeddings once, here (what exportSupport returns and
 * addSupport extends; an 'auto' GPU head keeps a reference to this same array for its
 * later GPU copy instead of a copy of its own), and the head's prepared form (native
 * memory; on a GPU also the device copy). addSupport prepares the whole, grown set again rather than
 * appending to the prepared one: the native prepared support packs all images' unit
 * vectors into one GEMM operand and holds per-class Gram matrices over all shots (docs/computation.md §4),
 * and it is read by classify calls in flight, so it is immutable; an append needs a native
 * "extend" that copies it and adds only the new images' rows (not there yet). The cost of
 * re-preparing grows with shots per class (the Gram is (K P)^2 per class): 5-way on the
 * default model, CPU, 2 threads, shared machine: 2.8 ms at 25 images, 26 ms at 100,
 * 570 ms at 500 (100 shots per class).
 */
import { DisposedError } from '../errors.js';
import type { ExplainedImage } from '../explain/explanation.js';
import type { EnginePreparedSupport } from './engine.js';
import { checkLabels, noSupportError } from './checks.js';
import { LabelMap, type Label } from './labels.js';
import type { EngineRuntime } from './runtime.js';
import { callTimings, since } from './timings.js';
import type { SupportSnapshot, SupportSummary } from './types.js';

/** One stored support set; `users` counts the classify calls scoring against it. */
export interface SupportState {
  readonly prepared: EnginePreparedSupport;
  /** N x C x P embeddings, owned by this state (never a caller's array). */
  readonly features: Float32Array;
  /** Class index of each row. */
  readonly labels: Int32Array;
  /** The image each row came from (path or bytes; undefined when only its embedding was given): for explanations. */
  readonly sources: readonly ExplainedImage[];
  readonly map: LabelMap;
  users: number;
  retired: boolean;
}

/** How a new support relates to the stored one. */
export type SupportMode = 'replace' | 'add';

export class SupportSet {
  readonly #runtime: EngineRuntime;
  #current: SupportState | undefined;
  #mutation: Promise<unknown> = Promise.resolve();

  constructor(runtime: EngineRuntime) {
    this.#runtime = runtime;
  }

  /** Labels in class-index order (empty before the first support set). */
  get labels(): readonly Label[] {
    return this.#current?.map.labels ?? [];
  }

  /** Throws the "no support set" error unless one is stored. */
  expectPresent(): void {
    if (!this.#current) throw noSupportError();
  }

  /**
   * Checks labels for `count` new images against what `mode` will extend, on a scratch map,
   * so a bad label fails before the expensive backbone run.
   */
  checkNewLabels(labels: unknown, count: number, mode: SupportMode): void {
    const base = mode === 'add' ? this.#current?.map : undefined;
    checkLabels(base ? base.clone() : new LabelMap(), labels, count);
  }

  /**
   * Stores `data` (N x C x P rows, owned by the caller no longer) with one label each, replacing
   * or extending the stored set, after every earlier mutation finished.
   */
  async store(
    data: Float32Array,
    labels: readonly Label[],
    mode: SupportMode,
    stageTimes: { decode: number; backbone: number; total: number },
    start: number,
    sources: readonly ExplainedImage[] = [],
  ): Promise<SupportSummary> {
    const rt = this.#runtime;
    const run = this.#mutation.then(async () => {
      rt.alive();
      const base = mode === 'add' ? this.#current : undefined;
      const map = base ? base.map.clone() : new LabelMap();
      const added = checkLabels(map, labels, labels.length);
      const features = base ? concat(base.features, data) : data;
      const indices = base ? concat(base.labels, added) : added;
      const rowSources = Array.from({ length: labels.length }, (_, i) => sources[i]);
      const allSources = base ? [...base.sources, ...rowSources] : rowSources;
      const headStart = performance.now();
      // `features` is this state's own array, never changed: the head need not copy it.
      const prepared = await rt.run(rt.engine.head.prepareSupport(features, indices, { stable: true }));
      const headMs = since(headStart);
      if (rt.disposed) {
        prepared.dispose();
        throw new DisposedError('FewShotClassifier');
      }
      const old = this.#current;
      this.#current = { prepared, features, labels: indices, sources: allSources, map, users: 0, retired: false };
      if (old) retire(old);
      const shotsPerClass = new Array<number>(map.size).fill(0);
      for (const k of indices) shotsPerClass[k]!++;
      return {
        way: map.size,
        size: indices.length,
        labels: [...map.labels],
        shotsPerClass,
        timings: callTimings(stageTimes, headMs, since(start)),
      };
    });
    this.#mutation = run.catch(() => undefined);
    return run;
  }

  /** Pins the stored set so that a concurrent setSupport cannot free it mid-score; pair with release(). */
  acquire(): SupportState {
    const state = this.#current;
    if (!state) throw noSupportError();
    state.users++;
    return state;
  }

  release(state: SupportState): void {
    state.users--;
    if (state.retired && state.users === 0) state.prepared.dispose();
  }

  /** The stored set as embeddings and labels (copies). */
  snapshot(): SupportSnapshot {
    const state = this.#current;
    if (!state) throw noSupportError();
    const [c, p] = this.#runtime.featureShape();
    return {
      features: state.features.slice(),
      dims: [state.labels.length, c, p],
      labels: Array.from(state.labels, (k) => state.map.label(k)),
    };
  }

  /** Drops the stored set (dispose): its prepared form is freed once no classify uses it. */
  clear(): void {
    if (this.#current) retire(this.#current);
    this.#current = undefined;
  }
}

function retire(state: SupportState): void {
  state.retired = true;
  if (state.users === 0) state.prepared.dispose();
}

function concat<T extends Float32Array | Int32Array>(a: T, b: T): T {
  const out = new (a.constructor as new (n: number) => T)(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
