/**
 * The LWFM-SPM head (SPEC.md §3): turns backbone embeddings of support and query images into
 * per-class logits. Heavy work runs in native code off the event loop, on the CPU engine or,
 * per `device`, the CUDA engine (cuda_head.ts).
 */
import { native, type NativeHandle } from './binding.js';
import { CUDA_AUTO_MIN_PAIRS, cudaInfo } from './cuda.js';
import { prepareCudaSupport, prepareCudaSupportAsync, type CudaHeadOptions, type CudaSupport } from './cuda_head.js';
import { DisposedError } from './errors.js';
import { arrangeTrace, type HeadExplanation } from './explain/terms.js';
import { headEngineForCall, resolveHeadDevice, type HeadDevice, type ResolvedHeadDevice } from './head_device.js';
import {
  expectFiniteNumber,
  expectFloat32Array,
  expectAllFinite,
  expectOneOf,
  expectOptions,
  expectPositiveInteger,
  expectThreads,
  expectedMessage,
} from './validate.js';

export type { HeadDevice, HeadDeviceConfig, ResolvedHeadDevice } from './head_device.js';

/**
 * One tap's matcher MLP g(z) = ReLU(W2 ReLU(W1 z)), PyTorch layout, row-major, no biases.
 * @example
 * const tap: MatcherWeights = { w1: new Float32Array(256 * 512), w2: new Float32Array(512 * 256) };
 */
export interface MatcherWeights {
  /** (C_l / 2) x C_l. */
  w1: Float32Array;
  /** C_l x (C_l / 2). */
  w2: Float32Array;
}

/**
 * Options of {@link Head}. Defaults are the authors' (SPEC §3).
 * @example
 * const options: HeadOptions = { channels: [512, 512], featureSize: 3, matcherWeight: 1, matcher: [tap7, tap8] };
 */
export interface HeadOptions {
  /** Channels C_l of each tap, in tap order, e.g. [512, 512] for taps [7, 8]. */
  channels: number[];
  /** Pooled map size F (P = F * F pixels); at least 2. Default 3. */
  featureSize?: number;
  /** Attention temperature T_attn. Default 5. */
  temperatureAttn?: number;
  /** Logit temperature T. Default 0.2. */
  temperature?: number;
  /** Weight of the semantic-pixel matching term; 0 skips matching. Default 0.25. */
  matcherWeight?: number;
  /** Number of best matched pixels summed per tap. Default 1. */
  topK?: number;
  /** One matcher MLP per tap, or none (matching then compares the attended vectors directly). */
  matcher?: MatcherWeights[];
  /** Worker threads for one call; default all hardware threads. */
  threads?: number;
  /**
   * 'cpu': CPU engine only. 'cuda': GPU only; the constructor throws DeviceUnavailableError
   * (with the reason) without a CUDA build, a usable GPU, or for featureSize > 5.
   * 'auto' (default): the GPU when usable, per score() call from CUDA_AUTO_MIN_PAIRS
   * query x support pairs up (smaller episodes are faster on the CPU), else the CPU.
   */
  device?: HeadDevice;
}

/**
 * What {@link Head.info} reports: the device asked for and resolved, which engine ran the
 * latest score call, and whether CUDA is compiled in and usable.
 * @example
 * const { device, lastDevice, cudaCompiled } = head.info();
 */
export interface HeadInfo {
  /** The `device` option as given ('auto' when omitted). */
  requested: HeadDevice;
  /** 'cuda' when the GPU may be used, else 'cpu' (same as `head.device`). */
  device: ResolvedHeadDevice;
  /** Engine of the latest score / scoreSync call; undefined before the first. */
  lastDevice: ResolvedHeadDevice | undefined;
  /** The loaded addon has the CUDA engine. */
  cudaCompiled: boolean;
  /** A usable GPU was found. */
  cudaAvailable: boolean;
  /** Why CUDA is not usable (absent when it is). */
  cudaReason?: string;
  /** Under 'auto', calls with at least this many query x support pairs run on the GPU. */
  autoMinPairs: number;
}

/** Per PreparedSupport: its engines' copies of the support. */
interface SupportState {
  owner: Head;
  /** Class index of each support image (set by the PreparedSupport constructor). */
  labels?: Int32Array;
  /** CPU engine copy (absent for device 'cuda'). */
  cpu?: NativeHandle<'support'>;
  /** GPU copy: made at prepare time for 'cuda', on first GPU use for 'auto'. */
  gpu?: CudaSupport;
  /** 'auto' on a GPU-capable head: what the GPU copy is made from, until it is made. */
  pending?: { features: Float32Array; labels: Int32Array };
  /** The GPU copy being made (off the event loop); concurrent calls share it. */
  gpuPending?: Promise<CudaSupport>;
}

const supportStates = new WeakMap<PreparedSupport, SupportState>();

/** A failure of the GPU engine itself (as opposed to bad input), after which 'auto' uses the CPU. */
function isGpuFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_LWFM_CUDA' || code === 'ERR_LWFM_DEVICE_UNAVAILABLE';
}

/**
 * A support set prepared by {@link Head.prepareSupport}: everything each query reuses.
 * @example
 * const support = await head.prepareSupport(features, [0, 1, 2, 3, 4]);
 * console.log(support.way, support.size, support.shotsPerClass);
 * support.dispose();
 */
export class PreparedSupport {
  /** Number of classes (max label + 1). */
  readonly way: number;
  /** Number of support images S. */
  readonly size: number;
  /** Shots of each class 0..way-1. */
  readonly shotsPerClass: readonly number[];
  #disposed = false;

  /** @internal Created only by Head.prepareSupport; `labels` already checked. */
  constructor(state: SupportState, labels: Int32Array) {
    state.labels = labels;
    const shots: number[] = [];
    for (const k of labels) shots[k] = (shots[k] ?? 0) + 1;
    this.way = shots.length;
    this.size = labels.length;
    this.shotsPerClass = Object.freeze(shots);
    supportStates.set(this, state);
  }

  /** True once {@link dispose} ran. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Frees the native memory now, CPU and GPU copies both (otherwise the garbage collector
   * does it later). Calls in flight still finish.
   * @example
   * support.dispose();
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    const state = supportStates.get(this);
    if (!state) return;
    if (state.cpu) native.supportDispose(state.cpu);
    state.gpu?.dispose();
    // A GPU copy still being made is freed when it arrives, after the calls waiting for it
    // (they registered first) have started on it.
    void state.gpuPending?.then((gpu) => gpu.dispose(), () => undefined);
    delete state.pending;
  }

  /** Same as {@link dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * The LWFM-SPM head, on the CPU engine or the CUDA engine (`device` option).
 * @example
 * import { Head } from 'lwfm-spm';
 * const head = new Head({ channels: [512, 512], matcher }); // matcher: [{ w1, w2 }, { w1, w2 }]
 * const support = await head.prepareSupport(supportFeatures, labels); // S x 1024 x 9 floats
 * const logits = await head.score(support, queryFeatures);            // Q x way
 * console.log(head.device, head.lastDevice);                          // e.g. 'cuda' 'cpu'
 * head.dispose();
 */
export class Head {
  /** Resolved device: 'cuda' when the GPU may be used, 'cpu' when only the CPU engine runs. */
  readonly device: ResolvedHeadDevice;
  /** The `device` option as given ('auto' when omitted). */
  readonly requestedDevice: HeadDevice;
  /** Channels per tap. */
  readonly channels: readonly number[];
  readonly featureSize: number;
  readonly temperatureAttn: number;
  readonly temperature: number;
  readonly matcherWeight: number;
  readonly topK: number;
  /** Whether matcher MLPs were given. */
  readonly hasMatcher: boolean;
  /** Floats per image: C x P. */
  readonly imageSize: number;
  #handle: NativeHandle<'head'> | undefined;
  #cudaOptions: CudaHeadOptions;
  #lastDevice: ResolvedHeadDevice | undefined;
  #gpuFailureWarned = false;

  constructor(options: HeadOptions) {
    const o = expectOptions(options, 'options');
    if (options === undefined) throw new TypeError(expectedMessage('options object', 'options', options));
    if (!Array.isArray(o.channels) || o.channels.length === 0) {
      throw new TypeError(expectedMessage('non-empty array of channel counts', 'options.channels', o.channels));
    }
    const channels = (o.channels as unknown[]).map((c, i) => expectPositiveInteger(c, `options.channels[${i}]`, 65536));
    const featureSize = o.featureSize === undefined ? 3 : expectPositiveInteger(o.featureSize, 'options.featureSize', 64);
    if (featureSize < 2) {
      throw new RangeError(
        expectedMessage('integer >= 2 (the attention uses an unbiased variance over F*F pixels)', 'options.featureSize', featureSize),
      );
    }
    const temperatureAttn = o.temperatureAttn === undefined ? 5 : expectFiniteNumber(o.temperatureAttn, 'options.temperatureAttn', 'positive');
    const temperature = o.temperature === undefined ? 0.2 : expectFiniteNumber(o.temperature, 'options.temperature', 'positive');
    const matcherWeight = o.matcherWeight === undefined ? 0.25 : expectFiniteNumber(o.matcherWeight, 'options.matcherWeight');
    const pixels = featureSize * featureSize;
    const topK = o.topK === undefined ? 1 : expectPositiveInteger(o.topK, 'options.topK', pixels);
    const threads = expectThreads(o.threads, 'options.threads');
    const requestedDevice = o.device === undefined ? 'auto' : expectOneOf(o.device, 'options.device', ['auto', 'cpu', 'cuda'] as const);
    let matcher: MatcherWeights[] | undefined;
    if (o.matcher !== undefined) {
      if (!Array.isArray(o.matcher)) throw new TypeError(expectedMessage('array of { w1, w2 } (one per tap)', 'options.matcher', o.matcher));
      if (o.matcher.length !== channels.length) {
        throw new RangeError(expectedMessage(`array of ${channels.length} matcher entries (one per tap)`, 'options.matcher', o.matcher));
      }
      matcher = (o.matcher as unknown[]).map((entry, l) => {
        const e = expectOptions(entry, `options.matcher[${l}]`);
        const cl = channels[l]!;
        if (cl % 2 !== 0) throw new RangeError(expectedMessage('even channel count (the matcher halves it)', `options.channels[${l}]`, cl));
        const want = (cl / 2) * cl;
        const w1 = expectFloat32Array(e.w1, `options.matcher[${l}].w1`, want, `${cl / 2} x ${cl}`);
        const w2 = expectFloat32Array(e.w2, `options.matcher[${l}].w2`, want, `${cl} x ${cl / 2}`);
        expectAllFinite(w1, `options.matcher[${l}].w1`);
        expectAllFinite(w2, `options.matcher[${l}].w2`);
        return { w1, w2 };
      });
    }
    // After every argument check, so a bad argument is reported as such, not as a device problem.
    this.device = resolveHeadDevice(requestedDevice, { channels, featureSize, matcherWeight });
    this.requestedDevice = requestedDevice;
    this.#cudaOptions = { channels, featureSize, temperatureAttn, temperature, matcherWeight, topK };
    // The GPU copy is made later (first large 'auto' call, each 'cuda' prepareSupport), while the
    // CPU engine copied the weights just now: keep private copies so both use these values
    // even if the caller reuses or transfers its arrays.
    if (matcher !== undefined && this.device === 'cuda') {
      this.#cudaOptions.matcher = matcher.map(({ w1, w2 }) => ({ w1: w1.slice(), w2: w2.slice() }));
    }
    this.channels = Object.freeze(channels);
    this.featureSize = featureSize;
    this.temperatureAttn = temperatureAttn;
    this.temperature = temperature;
    this.matcherWeight = matcherWeight;
    this.topK = topK;
    this.hasMatcher = matcher !== undefined;
    this.imageSize = channels.reduce((a, b) => a + b, 0) * pixels;
    this.#handle = native.headCreate({ channels, featureSize, temperatureAttn, temperature, matcherWeight, topK, matcher, threads: threads ?? 0 });
  }

  /**
   * Prepares a support set once for any number of queries: centring, unit vectors, matcher MLP
   * and per-class Gram data. Rejects with RangeError on NaN/Infinity (naming image, channel, pixel).
   * @param features S x C x P floats (C = sum of channels, P = featureSize^2), image-major.
   * @param labels S class indices; every class 0..way-1 needs at least one image.
   * @example
   * const support = await head.prepareSupport(features, [0, 0, 1, 1, 2]);
   */
  async prepareSupport(features: Float32Array, labels: ArrayLike<number>): Promise<PreparedSupport> {
    const handle = this.#live();
    const packedLabels = this.#checkSupport(features, labels);
    if (this.requestedDevice === 'cuda') {
      const gpu = await prepareCudaSupportAsync(this.#cudaOptions, features, packedLabels);
      return new PreparedSupport({ owner: this, gpu }, packedLabels);
    }
    const pending = this.#pendingGpuCopy(features, packedLabels);
    const cpu = await native.headPrepareSupport(handle, features, packedLabels);
    return new PreparedSupport({ owner: this, cpu, ...pending }, packedLabels);
  }

  /**
   * Synchronous {@link prepareSupport} (blocks the event loop; for scripts and benchmarks).
   * @example
   * const support = head.prepareSupportSync(features, labels);
   */
  prepareSupportSync(features: Float32Array, labels: ArrayLike<number>): PreparedSupport {
    const handle = this.#live();
    const packedLabels = this.#checkSupport(features, labels);
    if (this.requestedDevice === 'cuda') return this.#prepareOnGpu(features, packedLabels);
    const pending = this.#pendingGpuCopy(features, packedLabels);
    const cpu = native.headPrepareSupportSync(handle, features, packedLabels);
    return new PreparedSupport({ owner: this, cpu, ...pending }, packedLabels);
  }

  #prepareOnGpu(features: Float32Array, labels: Int32Array): PreparedSupport {
    return new PreparedSupport({ owner: this, gpu: prepareCudaSupport(this.#cudaOptions, features, labels) }, labels);
  }

  // 'auto' with a usable GPU: keep a private copy of the features (the caller may reuse its
  // array) to make the GPU copy from on the first call large enough for the GPU.
  #pendingGpuCopy(features: Float32Array, labels: Int32Array): Pick<SupportState, 'pending'> {
    return this.device === 'cuda' ? { pending: { features: features.slice(), labels } } : {};
  }

  /**
   * Logits of each query for each class of `support`, Q x way row-major: logit(q, k) =
   * (global cosine + matching term) / temperature. Runs off the event loop. With device
   * 'auto' on a GPU-capable head, Q x support.size >= CUDA_AUTO_MIN_PAIRS runs on the GPU
   * (the first such call prepares the support's GPU copy; a GPU failure there runs the call on
   * the CPU with one `LWFM_CUDA_RUNTIME_FALLBACK` warning per Head); {@link lastDevice} says
   * which ran.
   * @param query Q x C x P floats.
   * @example
   * const logits = await head.score(support, query);
   * const predicted = Array.from({ length: logits.length / support.way }, (_, q) => {
   *   const row = logits.subarray(q * support.way, (q + 1) * support.way);
   *   return row.indexOf(Math.max(...row));
   * });
   */
  async score(support: PreparedSupport, query: Float32Array): Promise<Float32Array> {
    const [handle, state] = this.#checkScore(support, query);
    const pairs = (query.length / this.imageSize) * support.size;
    const engine = state.cpu === undefined ? 'cuda' : headEngineForCall(this.requestedDevice, this.device, pairs);
    this.#lastDevice = engine;
    if (engine === 'cpu') return native.headScore(handle, state.cpu!, query);
    if (state.cpu === undefined) return (await this.#gpuCopy(state)).score(query);
    try {
      return await (await this.#gpuCopy(state)).score(query);
    } catch (err) {
      // 'auto' never fails where the CPU would succeed: a GPU failure (out of memory, a
      // driver error) runs the call on the CPU. Input errors (RangeError, TypeError) do not.
      if (!isGpuFailure(err)) throw err;
      if (!this.#gpuFailureWarned) {
        this.#gpuFailureWarned = true;
        process.emitWarning(`lwfm-spm: the GPU head failed (${(err as Error).message}); this call and later failing ones run on the CPU`, {
          code: 'LWFM_CUDA_RUNTIME_FALLBACK',
        });
      }
      this.#lastDevice = 'cpu';
      return native.headScore(this.#live(), state.cpu, query);
    }
  }

  /**
   * Every term of one query's logits against `support` (SPEC §3.2-3.4): per class the logit,
   * the global term g and the matching term M (logit = (g + M) / temperature), and per
   * support image and tap the attention weights, the pixel assignment and the matched
   * similarities. The numbers come from the CPU engine's own score code, recording as it
   * goes; `score` itself is unchanged. Runs off the event loop.
   * @param query Q x C x P floats; `index` picks the query to explain (default 0).
   * @example
   * const terms = await head.explain(support, queryFeatures);
   * for (const c of terms.classes) console.log(c.index, c.logit, c.global, c.matching);
   */
  async explain(support: PreparedSupport, query: Float32Array, index = 0): Promise<HeadExplanation> {
    const [handle, state] = this.#checkScore(support, query);
    const count = query.length / this.imageSize;
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new RangeError(expectedMessage(`query index in [0, ${count - 1}]`, 'index', index));
    }
    if (state.cpu === undefined) {
      throw new TypeError(
        "Expected a support prepared by a Head with device 'cpu' or 'auto' for explain() but received one prepared on the GPU only (device 'cuda'): explanations come from the CPU engine",
      );
    }
    const one = query.subarray(index * this.imageSize, (index + 1) * this.imageSize);
    const trace = await native.headExplain(handle, state.cpu, one);
    const { channels, featureSize, temperature, matcherWeight, topK } = this;
    return arrangeTrace(trace, { channels, featureSize, temperature, matcherWeight, topK, labels: state.labels! });
  }

  /**
   * Synchronous {@link score}; same result, blocks the event loop. Always the CPU engine
   * (the GPU engine is asynchronous only), so a Head with device 'cuda' throws a TypeError.
   * @example
   * const logits = head.scoreSync(support, query);
   */
  scoreSync(support: PreparedSupport, query: Float32Array): Float32Array {
    const [handle, state] = this.#checkScore(support, query);
    if (state.cpu === undefined) {
      throw new TypeError("Expected score() for a Head with device 'cuda' but received scoreSync(): the GPU engine has no synchronous path");
    }
    this.#lastDevice = 'cpu';
    return native.headScoreSync(handle, state.cpu, query);
  }

  /**
   * Engine that ran the latest score / scoreSync call, undefined before the first.
   * @example
   * await head.score(support, query);
   * console.log(head.lastDevice); // 'cpu' for a 5-way episode even on a GPU machine
   */
  get lastDevice(): ResolvedHeadDevice | undefined {
    return this.#lastDevice;
  }

  /**
   * Device report: requested and resolved device, the latest call's engine, and whether CUDA
   * is compiled in and usable (with the reason when not).
   * @example
   * const info = head.info();
   * if (!info.cudaAvailable) console.log(`CPU only: ${info.cudaReason}`);
   */
  info(): HeadInfo {
    const cuda = cudaInfo();
    const out: HeadInfo = {
      requested: this.requestedDevice,
      device: this.device,
      lastDevice: this.#lastDevice,
      cudaCompiled: cuda.compiled,
      cudaAvailable: cuda.available,
      autoMinPairs: CUDA_AUTO_MIN_PAIRS,
    };
    if (cuda.reason !== undefined) out.cudaReason = cuda.reason;
    return out;
  }

  // The GPU copy, made off the event loop on first use. Returns the shared promise itself (not
  // an async wrapper) so that callers awaiting it resume before a dispose() that came later.
  #gpuCopy(state: SupportState): CudaSupport | Promise<CudaSupport> {
    if (state.gpu !== undefined) return state.gpu;
    if (state.gpuPending === undefined) {
      const { features, labels } = state.pending!;
      state.gpuPending = prepareCudaSupportAsync(this.#cudaOptions, features, labels).then(
        (gpu) => {
          state.gpu = gpu;
          delete state.pending;
          delete state.gpuPending;
          return gpu;
        },
        (err: unknown) => {
          delete state.gpuPending; // a later call may try again
          throw err;
        },
      );
    }
    return state.gpuPending;
  }

  /** True once {@link dispose} ran. */
  get disposed(): boolean {
    return this.#handle === undefined;
  }

  /**
   * Releases the native engine; calls in flight still finish. Later calls throw DisposedError.
   * @example
   * head.dispose();
   */
  dispose(): void {
    if (this.#handle === undefined) return;
    native.headDispose(this.#handle);
    this.#handle = undefined;
  }

  /** For `await using head = new Head(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }

  /** @internal Milliseconds per stage of the latest prepare / score call (benchmarks). */
  stageTimings(): { prepare: Record<string, number>; score: Record<string, number> } {
    return native.headTimings(this.#live());
  }

  #live(): NativeHandle<'head'> {
    if (this.#handle === undefined) throw new DisposedError('Head');
    return this.#handle;
  }

  #checkImages(features: unknown, name: string): number {
    const f = expectFloat32Array(features, name);
    if (f.length === 0 || f.length % this.imageSize !== 0) {
      throw new RangeError(expectedMessage(`Float32Array of length n x ${this.imageSize} (n images x C x P) with n >= 1`, name, f));
    }
    return f.length / this.imageSize;
  }

  #checkSupport(features: Float32Array, labels: ArrayLike<number>): Int32Array {
    const size = this.#checkImages(features, 'features');
    if (labels === null || typeof labels !== 'object' || typeof (labels as ArrayLike<number>).length !== 'number') {
      throw new TypeError(expectedMessage('array of class indices', 'labels', labels));
    }
    if (labels.length !== size) {
      throw new RangeError(expectedMessage(`${size} labels (one per support image)`, 'labels', labels));
    }
    const out = new Int32Array(size);
    let way = 0;
    for (let i = 0; i < size; i++) {
      const v = labels[i];
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(expectedMessage('integer class index', `labels[${i}]`, v));
      if (v < 0 || v >= size) throw new RangeError(expectedMessage(`class index in [0, ${size - 1}]`, `labels[${i}]`, v));
      out[i] = v;
      way = Math.max(way, v + 1);
    }
    const counts = new Int32Array(way);
    for (const v of out) counts[v]!++;
    const empty = counts.indexOf(0);
    if (empty >= 0) {
      throw new RangeError(
        `Expected at least one support image of every class 0..${way - 1} but class ${empty} has none (labels must be 0..way-1)`,
      );
    }
    return out;
  }

  #checkScore(support: PreparedSupport, query: Float32Array): [NativeHandle<'head'>, SupportState] {
    const handle = this.#live();
    const state = support instanceof PreparedSupport ? supportStates.get(support) : undefined;
    if (!state) throw new TypeError(expectedMessage('PreparedSupport from prepareSupport()', 'support', support));
    if (state.owner !== this) throw new TypeError('Expected a PreparedSupport made by this Head for support but received one from another Head');
    if (support.disposed) throw new DisposedError('PreparedSupport');
    this.#checkImages(query, 'query');
    return [handle, state];
  }
}
