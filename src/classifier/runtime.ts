/**
 * The classifier's guarded access to its engine: every backbone / head call goes
 * through here so that work cut short by dispose() reports DisposedError (not the
 * part's own error), and so that the backbone is never asked to embed nothing.
 * Shared by the support set, the classify/episode orchestration and evaluate.
 */
import type { EmbedBatch } from '../backbone/types.js';
import { DisposedError, LwfmError } from '../errors.js';
import type { Engine } from './engine.js';
import { isTensorInput, type ImageInputs } from './inputs.js';
import { abortable } from './abort.js';

export class EngineRuntime {
  readonly engine: Engine;
  #disposed = false;

  constructor(engine: Engine) {
    this.engine = engine;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Marks the runtime disposed; returns false when it already was. */
  markDisposed(): boolean {
    if (this.#disposed) return false;
    this.#disposed = true;
    return true;
  }

  /** Throws DisposedError once dispose() ran. */
  alive(): void {
    if (this.#disposed) throw new DisposedError('FewShotClassifier');
  }

  /**
   * Awaits backbone/head work; if dispose() ran meanwhile, reports that rather than the part's
   * own error. An abort of `signal` rejects at once with its reason (see abort.ts).
   */
  async run<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await abortable(work, signal);
    } catch (err) {
      if (this.#disposed) throw new DisposedError('FewShotClassifier');
      throw err;
    }
  }

  /** C (sum of tap channels) and P (pixels) of one embedding. */
  featureShape(): [number, number] {
    const { channels, featureSize } = this.engine.model;
    return [channels.reduce((a, b) => a + b, 0), featureSize ** 2];
  }

  /** Backbone embeddings of `inputs`, checked to hold one row and one status per image. */
  async embed(inputs: ImageInputs, signal?: AbortSignal, jobImages?: number): Promise<EmbedBatch> {
    signal?.throwIfAborted();
    const n = isTensorInput(inputs) ? inputs.dims[0] : inputs.length;
    if (n === 0) {
      // Nothing to run; the backbone need not handle empty batches.
      const [c, p] = this.featureShape();
      return { data: new Float32Array(0), dims: [0, c, p], errors: [], timings: { decode: 0, backbone: 0, total: 0 } };
    }
    const raw = await this.run(this.engine.backbone.embed(inputs, jobImages === undefined ? undefined : { jobImages }), signal);
    if (raw.errors.length !== n || raw.dims[0] !== n) {
      throw new LwfmError(
        `Backbone returned ${raw.dims[0]} embeddings and ${raw.errors.length} statuses for ${n} images`,
        'ERR_LWFM_INTERNAL',
      );
    }
    return raw;
  }
}
