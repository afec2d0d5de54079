/**
 * The head's engines behind one interface, so that `Head` checks arguments and keeps the
 * public objects while a backend, chosen once at construction (device.ts decides which),
 * does the work: CpuHeadBackend (native CPU engine), CudaHeadBackend (GPU only, for
 * 'cuda'), AutoHeadBackend (head_auto.ts: CPU, plus the GPU for large calls, for 'auto').
 * Backends receive checked arguments and check nothing again.
 */
import { native, type NativeHandle } from './binding.js';
import { prepareCheckedCudaSupport, prepareCheckedCudaSupportSync, type CudaSupport } from './cuda_head.js';
import type { Device } from './device.js';
import type { NativeTrace } from './explain/terms.js';
import type { HeadConfig } from './head_options.js';

/** A support set as one backend prepared it. */
export interface BackendSupport {
  /** Frees its native / device memory now (calls in flight still finish). */
  dispose(): void;
}

/** Stage timings of the latest native prepare / score call (benchmarks). */
export type HeadStageTimings = { prepare: Record<string, number>; score: Record<string, number> };

/** How a backend runs. */
export interface HeadBackendInfo {
  /** 'cuda' when the GPU may be used, else 'cpu'. */
  device: Device;
  /** Engine of the latest score call; undefined before the first. */
  lastDevice: Device | undefined;
}

/** One head engine (or a combination) behind the Head class. */
export interface HeadBackend<S extends BackendSupport = BackendSupport> {
  /**
   * Prepares checked support. `stable`: the caller promises not to change `features`
   * afterwards, so a backend that needs them later may keep the array instead of a copy.
   */
  prepare(features: Float32Array, labels: Int32Array, stable: boolean): Promise<S>;
  prepareSync(features: Float32Array, labels: Int32Array, stable: boolean): S;
  /** Q x way logits; `pairs` = queries x support images, for backends that pick an engine by size. */
  score(support: S, query: Float32Array, pairs: number): Promise<Float32Array>;
  /** Synchronous score: the CPU engine only (throws TypeError on a GPU-only backend). */
  scoreSync(support: S, query: Float32Array): Float32Array;
  /** The CPU engine's recorded terms of one query (throws TypeError on a GPU-only backend). */
  explain(support: S, query: Float32Array): Promise<NativeTrace>;
  info(): HeadBackendInfo;
  timings(): HeadStageTimings;
  /** Releases the engine (calls in flight still finish). */
  dispose(): void;
}

/** A support set prepared by the CPU engine. */
export class CpuSupport implements BackendSupport {
  constructor(readonly handle: NativeHandle<'support'>) {}
  dispose(): void {
    native.supportDispose(this.handle);
  }
}

/** The native CPU engine. */
export class CpuHeadBackend implements HeadBackend<CpuSupport> {
  readonly #handle: NativeHandle<'head'>;
  #used = false;

  constructor(config: HeadConfig) {
    const { channels, featureSize, temperatureAttn, temperature, matcherWeight, topK, matcher, threads } = config;
    // The native engine copies the matcher weights: the caller may reuse its arrays afterwards.
    this.#handle = native.headCreate({
      channels: [...channels],
      featureSize,
      temperatureAttn,
      temperature,
      matcherWeight,
      topK,
      matcher: matcher === undefined ? undefined : [...matcher],
      threads: threads ?? 0,
    });
  }

  async prepare(features: Float32Array, labels: Int32Array): Promise<CpuSupport> {
    return new CpuSupport(await native.headPrepareSupport(this.#handle, features, labels));
  }

  prepareSync(features: Float32Array, labels: Int32Array): CpuSupport {
    return new CpuSupport(native.headPrepareSupportSync(this.#handle, features, labels));
  }

  score(support: CpuSupport, query: Float32Array): Promise<Float32Array> {
    this.#used = true;
    return native.headScore(this.#handle, support.handle, query);
  }

  scoreSync(support: CpuSupport, query: Float32Array): Float32Array {
    this.#used = true;
    return native.headScoreSync(this.#handle, support.handle, query);
  }

  explain(support: CpuSupport, query: Float32Array): Promise<NativeTrace> {
    return native.headExplain(this.#handle, support.handle, query);
  }

  info(): HeadBackendInfo {
    return { device: 'cpu', lastDevice: this.#used ? 'cpu' : undefined };
  }

  timings(): HeadStageTimings {
    return native.headTimings(this.#handle);
  }

  dispose(): void {
    native.headDispose(this.#handle);
  }
}

/** The GPU engine alone (device 'cuda'): every call runs there; no CPU engine is created. */
export class CudaHeadBackend implements HeadBackend<CudaSupport> {
  readonly #config: HeadConfig;
  #used = false;

  constructor(config: HeadConfig) {
    // Supports are prepared later, from these weights: keep private copies, as the CPU engine does.
    this.#config = { ...config, matcher: config.matcher?.map(({ w1, w2 }) => ({ w1: w1.slice(), w2: w2.slice() })) };
  }

  prepare(features: Float32Array, labels: Int32Array): Promise<CudaSupport> {
    return prepareCheckedCudaSupport(this.#config, features, labels);
  }

  prepareSync(features: Float32Array, labels: Int32Array): CudaSupport {
    return prepareCheckedCudaSupportSync(this.#config, features, labels);
  }

  score(support: CudaSupport, query: Float32Array): Promise<Float32Array> {
    this.#used = true;
    return support.score(query);
  }

  scoreSync(): Float32Array {
    throw new TypeError("Expected score() for a Head with device 'cuda' but received scoreSync(): the GPU engine has no synchronous path");
  }

  explain(): Promise<NativeTrace> {
    throw new TypeError(
      "Expected a support prepared by a Head with device 'cpu' or 'auto' for explain() but received one prepared on the GPU only (device 'cuda'): explanations come from the CPU engine",
    );
  }

  info(): HeadBackendInfo {
    return { device: 'cuda', lastDevice: this.#used ? 'cuda' : undefined };
  }

  timings(): HeadStageTimings {
    // The GPU engine reports no per-stage CPU timings.
    return { prepare: {}, score: {} };
  }

  dispose(): void {
    // Nothing engine-wide: each CudaSupport owns its device memory.
  }
}
