/**
 * Head options and their one full check. Every head entry point (`new Head`, the GPU head's
 * `prepareCudaSupport`) validates here, once, at the TypeScript boundary; native code then
 * keeps only the type, length and finiteness checks that protect its memory.
 *
 * Limits: up to MAX_TAPS taps of 1..MAX_TAP_CHANNELS channels, featureSize 2..MAX_FEATURE_SIZE,
 * topK 1..featureSize^2, positive finite temperatures, finite matcherWeight, matcher weights
 * of the exact shapes and finite, threads 1..MAX_THREADS (validate.ts).
 */
import {
  expectAllFinite,
  expectFiniteNumber,
  expectFloat32Array,
  expectOptions,
  expectPositiveInteger,
  expectThreads,
  expectedMessage,
} from './validate.js';

/** Most taps a head takes (the backbone has 9 tap points; the native model reserves up to 64). */
export const MAX_TAPS = 64;
/** Most channels of one tap. */
export const MAX_TAP_CHANNELS = 65536;
/** Largest pooled map size F (P = F * F pixels per tap). */
export const MAX_FEATURE_SIZE = 64;

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
 * Options of {@link Head}. Defaults are the authors' (docs/computation.md §3).
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
   * Per-pixel-grid assignment solver of the GPU engine: 'exact' (default; shortest augmenting
   * paths, the CPU engine's optimum) or 'auction' (the auction-style GPU Hungarian: optimal for
   * costs quantized to 2^-29 relative steps, so a logit can differ where two assignments
   * nearly tie). The CPU engine always solves exactly. On the H200 the exact search was the
   * faster at every assignment size measured (benchmarks/RESULTS.md).
   */
  solver?: 'exact' | 'auction';
  /**
   * 'cpu': CPU engine only. 'cuda': GPU only; the constructor throws DeviceUnavailableError
   * (with the reason) without a CUDA build, a usable GPU, or for featureSize > 5.
   * 'auto' (default): the GPU when usable, per score() call from CUDA_AUTO_MIN_PAIRS
   * query x support pairs up (smaller episodes are faster on the CPU), else the CPU.
   * The rules live in src/device.ts.
   */
  device?: 'auto' | 'cpu' | 'cuda';
}

/** Head hyperparameters after checking, defaults filled in. */
export interface HeadConfig {
  readonly channels: readonly number[];
  readonly featureSize: number;
  readonly temperatureAttn: number;
  readonly temperature: number;
  readonly matcherWeight: number;
  readonly topK: number;
  readonly matcher: readonly MatcherWeights[] | undefined;
  /** Undefined: all hardware threads. */
  readonly threads: number | undefined;
  /** GPU per-pair solver. */
  readonly solver: 'exact' | 'auction';
  /** Floats per image: C x P. */
  readonly imageSize: number;
}

/**
 * Largest logit magnitude the options may allow. A logit is (g + M) / T with g a cosine and
 * |M| <= |matcherWeight| x topK (a sum of topK cosines), so |logit| <= (1 + |matcherWeight| x
 * topK) / T. Past float32's 3.4e38 it would be Infinity (temperature 1e-40 did that); 1e30
 * keeps softmax and differences of logits finite too.
 */
export const MAX_LOGIT_BOUND = 1e30;

function checkLogitBound(temperature: number, matcherWeight: number, topK: number, name: string): void {
  const bound = (1 + Math.abs(matcherWeight) * topK) / temperature;
  if (bound <= MAX_LOGIT_BOUND) return;
  throw new RangeError(
    `Expected ${name}.temperature of at least ${(1 + Math.abs(matcherWeight) * topK) / MAX_LOGIT_BOUND} for ${name}.matcherWeight ${matcherWeight} ` +
      `and ${name}.topK ${topK} (logits are at most (1 + |matcherWeight| x topK) / temperature, which must stay within ${MAX_LOGIT_BOUND} ` +
      `to be finite in float32) but received temperature ${temperature}, a logit bound of ${bound}`,
  );
}

function checkSolver(value: unknown, name: string): 'exact' | 'auction' {
  if (value === undefined || value === 'exact' || value === 'auction') return value ?? 'exact';
  throw new TypeError(expectedMessage("'exact' or 'auction'", name, value));
}

/**
 * Checks head options (the fields of HeadOptions except `device`) and fills in the authors'
 * defaults (docs/computation.md §3): featureSize 3, temperatureAttn 5, temperature 0.2, matcherWeight 0.25,
 * topK 1. Messages name `${name}.field`.
 */
export function checkHeadOptions(options: unknown, name = 'options'): HeadConfig {
  if (options === undefined) throw new TypeError(expectedMessage('options object', name, options));
  const o = expectOptions(options, name);
  if (!Array.isArray(o.channels) || o.channels.length === 0) {
    throw new TypeError(expectedMessage('non-empty array of channel counts', `${name}.channels`, o.channels));
  }
  if (o.channels.length > MAX_TAPS) throw new RangeError(expectedMessage(`at most ${MAX_TAPS} taps`, `${name}.channels`, o.channels));
  const channels = (o.channels as unknown[]).map((c, i) => expectPositiveInteger(c, `${name}.channels[${i}]`, MAX_TAP_CHANNELS));
  const featureSize = o.featureSize === undefined ? 3 : expectPositiveInteger(o.featureSize, `${name}.featureSize`, MAX_FEATURE_SIZE);
  if (featureSize < 2) {
    throw new RangeError(
      expectedMessage('integer >= 2 (the attention uses an unbiased variance over F*F pixels)', `${name}.featureSize`, featureSize),
    );
  }
  const pixels = featureSize * featureSize;
  const temperature = o.temperature === undefined ? 0.2 : expectFiniteNumber(o.temperature, `${name}.temperature`, 'positive');
  const matcherWeight = o.matcherWeight === undefined ? 0.25 : expectFiniteNumber(o.matcherWeight, `${name}.matcherWeight`);
  const topK = o.topK === undefined ? 1 : expectPositiveInteger(o.topK, `${name}.topK`, pixels);
  checkLogitBound(temperature, matcherWeight, topK, name);
  return {
    channels: Object.freeze(channels),
    featureSize,
    temperatureAttn: o.temperatureAttn === undefined ? 5 : expectFiniteNumber(o.temperatureAttn, `${name}.temperatureAttn`, 'positive'),
    temperature,
    matcherWeight,
    topK,
    matcher: o.matcher === undefined ? undefined : checkMatcher(o.matcher, channels, `${name}.matcher`, `${name}.channels`),
    threads: expectThreads(o.threads, `${name}.threads`),
    solver: checkSolver(o.solver, `${name}.solver`),
    imageSize: channels.reduce((a, b) => a + b, 0) * pixels,
  };
}

function checkMatcher(value: unknown, channels: readonly number[], name: string, channelsName: string): MatcherWeights[] {
  if (!Array.isArray(value)) throw new TypeError(expectedMessage('array of { w1, w2 } (one per tap)', name, value));
  if (value.length !== channels.length) {
    throw new RangeError(expectedMessage(`array of ${channels.length} matcher entries (one per tap)`, name, value));
  }
  return (value as unknown[]).map((entry, l) => {
    const e = expectOptions(entry, `${name}[${l}]`);
    const cl = channels[l]!;
    if (cl % 2 !== 0) throw new RangeError(expectedMessage('even channel count (the matcher halves it)', `${channelsName}[${l}]`, cl));
    const want = (cl / 2) * cl;
    const w1 = expectFloat32Array(e.w1, `${name}[${l}].w1`, want, `${cl / 2} x ${cl}`);
    const w2 = expectFloat32Array(e.w2, `${name}[${l}].w2`, want, `${cl} x ${cl / 2}`);
    expectAllFinite(w1, `${name}[${l}].w1`);
    expectAllFinite(w2, `${name}[${l}].w2`);
    return { w1, w2 };
  });
}

/** Checks `n x imageSize` floats (n >= 1) and returns n. */
export function checkImageRows(features: unknown, imageSize: number, name: string): number {
  const f = expectFloat32Array(features, name);
  if (f.length === 0 || f.length % imageSize !== 0) {
    throw new RangeError(expectedMessage(`Float32Array of length n x ${imageSize} (n images x C x P) with n >= 1`, name, f));
  }
  return f.length / imageSize;
}

/**
 * Checks support labels: `size` integer class indices covering 0..way-1, each class at least
 * once. Returns them packed (a fresh Int32Array, so later changes by the caller do not matter).
 */
export function checkSupportLabels(labels: unknown, size: number, name = 'labels'): Int32Array {
  if (labels === null || typeof labels !== 'object' || typeof (labels as ArrayLike<number>).length !== 'number') {
    throw new TypeError(expectedMessage('array of class indices', name, labels));
  }
  const list = labels as ArrayLike<unknown>;
  if (list.length !== size) throw new RangeError(expectedMessage(`${size} labels (one per support image)`, name, labels));
  const out = new Int32Array(size);
  let way = 0;
  for (let i = 0; i < size; i++) {
    const v = list[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(expectedMessage('integer class index', `${name}[${i}]`, v));
    if (v < 0 || v >= size) throw new RangeError(expectedMessage(`class index in [0, ${size - 1}]`, `${name}[${i}]`, v));
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
