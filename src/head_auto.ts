/**
 * The head backend for device 'auto' on a machine where the GPU head is usable: every support
 * is prepared on the CPU engine; its GPU copy is made on the first call large enough for the
 * GPU (device.ts: CUDA_AUTO_MIN_PAIRS), so small episodes never pay for an upload. A GPU
 * failure at run time runs that call on the CPU with one LWFM_CUDA_RUNTIME_FALLBACK warning
 * per Head: 'auto' never fails where the CPU would succeed.
 */
import type { CudaSupport } from './cuda_head.js';
import { prepareCheckedCudaSupport } from './cuda_head.js';
import { WARNING_CODES, headEngineForCall, type Device } from './device.js';
import { CudaError, DeviceUnavailableError } from './errors.js';
import {
  CpuHeadBackend,
  type BackendSupport,
  type CpuSupport,
  type HeadBackend,
  type HeadBackendInfo,
  type HeadStageTimings,
} from './head_backend.js';
import type { NativeTrace } from './explain/terms.js';
import type { HeadConfig } from './head_options.js';

/** A support on the CPU engine, with what its GPU copy is (or will be) made from. */
class AutoSupport implements BackendSupport {
  readonly cpu: CpuSupport;
  /** Until the GPU copy exists: the support's features and labels (the caller's array only when stable). */
  pending: { features: Float32Array; labels: Int32Array } | undefined;
  gpu: CudaSupport | undefined;
  /** The GPU copy being made (off the event loop); concurrent calls share it. */
  gpuPending: Promise<CudaSupport> | undefined;

  constructor(cpu: CpuSupport, features: Float32Array, labels: Int32Array) {
    this.cpu = cpu;
    this.pending = { features, labels };
  }

  dispose(): void {
    this.cpu.dispose();
    this.gpu?.dispose();
    // A GPU copy still being made is freed when it arrives, after the calls waiting for it
    // (they registered first) have started on it.
    void this.gpuPending?.then(
      (gpu) => gpu.dispose(),
      () => undefined,
    );
    this.pending = undefined;
  }
}

export class AutoHeadBackend implements HeadBackend<AutoSupport> {
  readonly #cpu: CpuHeadBackend;
  readonly #config: HeadConfig;
  #lastDevice: Device | undefined;
  #gpuFailureWarned = false;

  constructor(config: HeadConfig) {
    this.#cpu = new CpuHeadBackend(config);
    // The GPU copies are made later from these weights, while the CPU engine copied them just
    // now: keep private copies so both use the same values even if the caller reuses its arrays.
    this.#config = { ...config, matcher: config.matcher?.map(({ w1, w2 }) => ({ w1: w1.slice(), w2: w2.slice() })) };
  }

  async prepare(features: Float32Array, labels: Int32Array, stable: boolean): Promise<AutoSupport> {
    const kept = stable ? features : features.slice();
    return new AutoSupport(await this.#cpu.prepare(features, labels), kept, labels);
  }

  prepareSync(features: Float32Array, labels: Int32Array, stable: boolean): AutoSupport {
    const kept = stable ? features : features.slice();
    return new AutoSupport(this.#cpu.prepareSync(features, labels), kept, labels);
  }

  async score(support: AutoSupport, query: Float32Array, pairs: number): Promise<Float32Array> {
    if (headEngineForCall(pairs) === 'cpu') {
      this.#lastDevice = 'cpu';
      return this.#cpu.score(support.cpu, query);
    }
    this.#lastDevice = 'cuda';
    // The GPU path reaches native code only after an await (the support's GPU copy; the CPU
    // fallback): snapshot the query now, so the caller may reuse its array once score() returns.
    query = query.slice();
    try {
      return await (await this.#gpuCopy(support)).score(query);
    } catch (err) {
      // Input errors (RangeError, TypeError) are the caller's; only a GPU failure falls back.
      if (!(err instanceof CudaError || err instanceof DeviceUnavailableError)) throw err;
      if (!this.#gpuFailureWarned) {
        this.#gpuFailureWarned = true;
        process.emitWarning(`lwfm-spm: the GPU head failed (${err.message}); this call and later failing ones run on the CPU`, {
          code: WARNING_CODES.cudaRuntimeFallback,
        });
      }
      this.#lastDevice = 'cpu';
      return this.#cpu.score(support.cpu, query);
    }
  }

  scoreSync(support: AutoSupport, query: Float32Array): Float32Array {
    this.#lastDevice = 'cpu';
    return this.#cpu.scoreSync(support.cpu, query);
  }

  explain(support: AutoSupport, query: Float32Array): Promise<NativeTrace> {
    return this.#cpu.explain(support.cpu, query);
  }

  info(): HeadBackendInfo {
    return { device: 'cuda', lastDevice: this.#lastDevice };
  }

  timings(): HeadStageTimings {
    return this.#cpu.timings();
  }

  dispose(): void {
    this.#cpu.dispose();
  }

  // The GPU copy, made off the event loop on first use. Returns the shared promise itself (not
  // an async wrapper) so that callers awaiting it resume before a dispose() that came later.
  #gpuCopy(support: AutoSupport): CudaSupport | Promise<CudaSupport> {
    if (support.gpu !== undefined) return support.gpu;
    if (support.gpuPending === undefined) {
      const { features, labels } = support.pending!;
      support.gpuPending = prepareCheckedCudaSupport(this.#config, features, labels).then(
        (gpu) => {
          support.gpu = gpu;
          support.pending = undefined;
          support.gpuPending = undefined;
          return gpu;
        },
        (err: unknown) => {
          support.gpuPending = undefined; // a later call may try again
          throw err;
        },
      );
    }
    return support.gpuPending;
  }
}
