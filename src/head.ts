/**
 * The LWFM-SPM head (docs/computation.md §3): turns backbone embeddings of support and query images into
 * per-class logits. `Head` checks arguments (head_options.ts) and owns the public objects; the
 * work runs off the event loop in one backend chosen at construction from the resolved device
 * (head_backend.ts, head_auto.ts; device.ts decides), so nothing here branches on the device.
 */
import { cudaInfo } from './cuda.js';
import { CUDA_AUTO_MIN_PAIRS, DEVICE_REQUESTS, resolveHeadDevice, type DeviceRequest, type Device } from './device.js';
import { DisposedError } from './errors.js';
import { arrangeTrace, type HeadExplanation } from './explain/terms.js';
import { AutoHeadBackend } from './head_auto.js';
import { CpuHeadBackend, CudaHeadBackend, type BackendSupport, type HeadBackend, type HeadStageTimings } from './head_backend.js';
import { checkHeadOptions, checkImageRows, checkSupportLabels, type HeadOptions } from './head_options.js';
import { expectOneOf, expectOptions, expectedMessage } from './validate.js';

export type { HeadOptions, MatcherWeights } from './head_options.js';
export type { HeadDeviceConfig } from './cuda_head.js';

/**
 * Device a Head may be asked for.
 * @example
 * const device: HeadDevice = 'auto';
 */
export type HeadDevice = DeviceRequest;

/**
 * Device a Head resolved to: 'cuda' when the GPU may be used (under 'auto' each score() call
 * still picks by size), 'cpu' when only the CPU engine runs.
 * @example
 * const used: ResolvedHeadDevice = new Head({ channels: [512] }).device; // 'cpu' without a GPU
 */
export type ResolvedHeadDevice = Device;

/**
 * Options of {@link Head.prepareSupport}.
 * @example
 * await head.prepareSupport(features, labels, { stable: true });
 */
export interface PrepareOptions {
  /**
   * You will not change `features` after this call. A head that may later copy the support to
   * the GPU ('auto') then keeps a reference instead of a private copy. Default false.
   */
  stable?: boolean;
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

/** What a PreparedSupport holds: its backend's prepared form and the Head that made it. */
interface SupportState {
  owner: Head;
  prepared: BackendSupport;
  /** Class index of each support image. */
  labels: Int32Array;
}

const supportStates = new WeakMap<PreparedSupport, SupportState>();

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
    supportStates.get(this)?.prepared.dispose();
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
  #backend: HeadBackend | undefined;

  constructor(options: HeadOptions) {
    const config = checkHeadOptions(options, 'options');
    const o = expectOptions(options, 'options');
    const requestedDevice = o.device === undefined ? 'auto' : expectOneOf(o.device, 'options.device', DEVICE_REQUESTS);
    // After every argument check, so a bad argument is reported as such, not as a device problem.
    this.device = resolveHeadDevice(requestedDevice, config);
    this.requestedDevice = requestedDevice;
    this.channels = config.channels;
    this.featureSize = config.featureSize;
    this.temperatureAttn = config.temperatureAttn;
    this.temperature = config.temperature;
    this.matcherWeight = config.matcherWeight;
    this.topK = config.topK;
    this.hasMatcher = config.matcher !== undefined;
    this.imageSize = config.imageSize;
    // The one place the device picks the engine; every call below goes to this backend.
    if (this.device === 'cpu') this.#backend = new CpuHeadBackend(config);
    else if (requestedDevice === 'cuda') this.#backend = new CudaHeadBackend(config);
    else this.#backend = new AutoHeadBackend(config);
  }

  /**
   * Prepares a support set once for any number of queries: centring, unit vectors, matcher MLP
   * and per-class Gram data. Rejects with RangeError on NaN/Infinity (naming image, channel, pixel).
   * @param features S x C x P floats (C = sum of channels, P = featureSize^2), image-major.
   * @param labels S class indices; every class 0..way-1 needs at least one image.
   * @example
   * const support = await head.prepareSupport(features, [0, 0, 1, 1, 2]);
   */
  async prepareSupport(features: Float32Array, labels: ArrayLike<number>, options?: PrepareOptions): Promise<PreparedSupport> {
    const backend = this.#live();
    const [packed, stable] = this.#checkSupport(features, labels, options);
    return new PreparedSupport({ owner: this, prepared: await backend.prepare(features, packed, stable), labels: packed }, packed);
  }

  /**
   * Synchronous {@link prepareSupport} (blocks the event loop; for scripts and benchmarks).
   * @example
   * const support = head.prepareSupportSync(features, labels);
   */
  prepareSupportSync(features: Float32Array, labels: ArrayLike<number>, options?: PrepareOptions): PreparedSupport {
    const backend = this.#live();
    const [packed, stable] = this.#checkSupport(features, labels, options);
    return new PreparedSupport({ owner: this, prepared: backend.prepareSync(features, packed, stable), labels: packed }, packed);
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
    const [backend, prepared, queries] = this.#checkScore(support, query);
    return backend.score(prepared, query, queries * support.size);
  }

  /**
   * Every term of one query's logits against `support` (docs/computation.md §3.2-3.4): per class the logit,
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
    const [backend, prepared, count] = this.#checkScore(support, query);
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new RangeError(expectedMessage(`query index in [0, ${count - 1}]`, 'index', index));
    }
    const one = query.subarray(index * this.imageSize, (index + 1) * this.imageSize);
    const trace = await backend.explain(prepared, one);
    const { channels, featureSize, temperature, matcherWeight, topK } = this;
    return arrangeTrace(trace, { channels, featureSize, temperature, matcherWeight, topK, labels: supportStates.get(support)!.labels });
  }

  /**
   * Synchronous {@link score}; same result, blocks the event loop. Always the CPU engine
   * (the GPU engine is asynchronous only), so a Head with device 'cuda' throws a TypeError.
   * @example
   * const logits = head.scoreSync(support, query);
   */
  scoreSync(support: PreparedSupport, query: Float32Array): Float32Array {
    const [backend, prepared] = this.#checkScore(support, query);
    return backend.scoreSync(prepared, query);
  }

  /**
   * Engine that ran the latest score / scoreSync call, undefined before the first.
   * @example
   * await head.score(support, query);
   * console.log(head.lastDevice); // 'cpu' for a 5-way episode even on a GPU machine
   */
  get lastDevice(): ResolvedHeadDevice | undefined {
    return this.#backend?.info().lastDevice ?? this.#lastDeviceAtDispose;
  }

  #lastDeviceAtDispose: ResolvedHeadDevice | undefined;

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
      lastDevice: this.lastDevice,
      cudaCompiled: cuda.compiled,
      cudaAvailable: cuda.available,
      autoMinPairs: CUDA_AUTO_MIN_PAIRS,
    };
    if (cuda.reason !== undefined) out.cudaReason = cuda.reason;
    return out;
  }

  /** True once {@link dispose} ran. */
  get disposed(): boolean {
    return this.#backend === undefined;
  }

  /**
   * Releases the native engine; calls in flight still finish. Later calls throw DisposedError.
   * @example
   * head.dispose();
   */
  dispose(): void {
    if (this.#backend === undefined) return;
    this.#lastDeviceAtDispose = this.#backend.info().lastDevice;
    this.#backend.dispose();
    this.#backend = undefined;
  }

  /** For `await using head = new Head(...)`. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }

  /** @internal Milliseconds per stage of the latest prepare / score call (benchmarks). */
  stageTimings(): HeadStageTimings {
    return this.#live().timings();
  }

  #live(): HeadBackend {
    if (this.#backend === undefined) throw new DisposedError('Head');
    return this.#backend;
  }

  #checkSupport(features: Float32Array, labels: ArrayLike<number>, options: PrepareOptions | undefined): [Int32Array, boolean] {
    const size = checkImageRows(features, this.imageSize, 'features');
    const packed = checkSupportLabels(labels, size);
    const o = expectOptions(options, 'options');
    if (o.stable !== undefined && typeof o.stable !== 'boolean')
      throw new TypeError(expectedMessage('boolean', 'options.stable', o.stable));
    return [packed, o.stable === true];
  }

  #checkScore(support: PreparedSupport, query: Float32Array): [HeadBackend, BackendSupport, number] {
    const backend = this.#live();
    const state = support instanceof PreparedSupport ? supportStates.get(support) : undefined;
    if (!state) throw new TypeError(expectedMessage('PreparedSupport from prepareSupport()', 'support', support));
    if (state.owner !== this)
      throw new TypeError('Expected a PreparedSupport made by this Head for support but received one from another Head');
    if (support.disposed) throw new DisposedError('PreparedSupport');
    return [backend, state.prepared, checkImageRows(query, this.imageSize, 'query')];
  }
}
