/**
 * The GPU head as a typed handle: support prepared once on the device, query batches
 * scored asynchronously. The `Head` class uses this for `device: 'cuda'`; it is exported for
 * callers that manage devices themselves.
 */
import { native, type NativeCudaHeadConfig, type NativeCudaHeadHandle } from './binding.js';
import { toDeviceError } from './cuda.js';
import { DisposedError } from './errors.js';
import type { HeadOptions } from './head.js';
import { expectFiniteNumber, expectFloat32Array, expectPositiveInteger, expectedMessage } from './validate.js';

/**
 * Largest featureSize F the GPU head runs (P = F * F <= 25 pixels of per-thread scratch);
 * larger maps run on the CPU head only.
 * @example
 * const device = featureSize <= CUDA_HEAD_MAX_FEATURE_SIZE ? 'auto' : 'cpu';
 */
export const CUDA_HEAD_MAX_FEATURE_SIZE = 5;

/**
 * Most taps the GPU head takes (tap ids 0..8).
 * @example
 * if (channels.length > CUDA_HEAD_MAX_TAPS) console.log('CPU head only');
 */
export const CUDA_HEAD_MAX_TAPS = 9;

/**
 * Why the GPU head cannot run a head configuration the CPU head accepts, or undefined when it
 * can. Arguments are assumed already valid for the CPU head.
 * @example
 * cudaHeadLimitation({ channels: [512, 512], featureSize: 7 });
 * // 'the GPU head supports featureSize up to 5 but received 7'
 */
export function cudaHeadLimitation(options: { channels: readonly number[]; featureSize?: number; matcherWeight?: number }): string | undefined {
  const featureSize = options.featureSize ?? 3;
  if (featureSize > CUDA_HEAD_MAX_FEATURE_SIZE) {
    return `the GPU head supports featureSize up to ${CUDA_HEAD_MAX_FEATURE_SIZE} but received ${featureSize}`;
  }
  if (options.channels.length > CUDA_HEAD_MAX_TAPS) {
    return `the GPU head supports up to ${CUDA_HEAD_MAX_TAPS} taps but received ${options.channels.length}`;
  }
  if ((options.matcherWeight ?? 0.25) < 0) {
    return `the GPU head supports matcherWeight >= 0 but received ${options.matcherWeight}`;
  }
  return undefined;
}

/**
 * Head hyperparameters and matcher weights (SPEC §3): the same fields as the CPU head's options
 * (the GPU supports featureSize 2..5).
 * @example
 * const options: CudaHeadOptions = { channels: [512, 512], featureSize: 3 };
 */
export type CudaHeadOptions = Pick<HeadOptions, 'channels' | 'featureSize' | 'temperatureAttn' | 'temperature' | 'matcherWeight' | 'topK' | 'matcher'>;

/**
 * Support features prepared on the GPU. Call `dispose()` to free device memory early
 * (garbage collection frees it otherwise).
 * @example
 * const support = prepareCudaSupport({ channels: [512, 512] }, features, labels);
 * const logits = await support.score(queryFeatures); // Q x way
 * support.dispose();
 */
export class CudaSupport {
  #handle: NativeCudaHeadHandle | undefined;
  /** Number of classes. */
  readonly way: number;
  /** Floats per image (C * P). */
  readonly featureLength: number;

  /** @internal use prepareCudaSupport() */
  constructor(handle: NativeCudaHeadHandle, way: number, featureLength: number) {
    this.#handle = handle;
    this.way = way;
    this.featureLength = featureLength;
  }

  /**
   * Scores `queries` (Q x C x P) against the support: resolves to Q x way logits.
   * @example
   * const logits = await support.score(queries);
   */
  async score(queries: Float32Array): Promise<Float32Array> {
    if (!this.#handle) throw new DisposedError('CudaSupport');
    expectFloat32Array(queries, 'queries');
    if (queries.length === 0 || queries.length % this.featureLength !== 0) {
      throw new RangeError(expectedMessage(`Float32Array of length a positive multiple of C * P = ${this.featureLength}`, 'queries', queries));
    }
    try {
      return await native.cudaHeadScore(this.#handle, queries);
    } catch (err) {
      throw toDeviceError(err);
    }
  }

  /**
   * Frees the device memory (after running scores finish). Idempotent.
   * @example
   * support.dispose();
   */
  dispose(): void {
    if (this.#handle) native.cudaHeadDispose(this.#handle);
    this.#handle = undefined;
  }
}

/** Checked arguments of a GPU support preparation. */
function supportArgs(options: CudaHeadOptions, features: Float32Array, labels: ArrayLike<number>): { config: NativeCudaHeadConfig; labelArray: Int32Array; way: number; featureLength: number } {
  if (options === null || typeof options !== 'object') throw new TypeError(expectedMessage('options object', 'options', options));
  if (!Array.isArray(options.channels) || options.channels.length === 0) {
    throw new TypeError(expectedMessage('non-empty array of channel counts', 'channels', options.channels));
  }
  options.channels.forEach((c, l) => expectPositiveInteger(c, `channels[${l}]`, 65536));
  const featureSize = expectPositiveInteger(options.featureSize ?? 3, 'featureSize', CUDA_HEAD_MAX_FEATURE_SIZE);
  const C = options.channels.reduce((a, b) => a + b, 0);
  const P = featureSize * featureSize;
  expectFloat32Array(features, 'features');
  if (features.length === 0 || features.length % (C * P) !== 0) {
    throw new RangeError(expectedMessage(`Float32Array of length a positive multiple of C * P = ${C * P}`, 'features', features));
  }
  const S = features.length / (C * P);
  if (labels === null || typeof labels !== 'object' || typeof (labels as { length?: unknown }).length !== 'number') {
    throw new TypeError(expectedMessage('array of labels', 'labels', labels));
  }
  if (labels.length !== S) throw new RangeError(expectedMessage(`${S} labels (one per support image)`, 'labels', labels));
  const labelArray = Int32Array.from({ length: S }, (_, s) => {
    const v = labels[s];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new RangeError(expectedMessage('non-negative integer label', `labels[${s}]`, v));
    return v;
  });
  const way = labelArray.reduce((m, v) => Math.max(m, v + 1), 0);
  const config: NativeCudaHeadConfig = {
    channels: options.channels,
    featureSize,
    way,
    temperatureAttn: expectFiniteNumber(options.temperatureAttn ?? 5, 'temperatureAttn', 'positive'),
    temperature: expectFiniteNumber(options.temperature ?? 0.2, 'temperature', 'positive'),
    matcherWeight: expectFiniteNumber(options.matcherWeight ?? 0.25, 'matcherWeight', 'nonNegative'),
    topK: expectPositiveInteger(options.topK ?? 1, 'topK', P),
  };
  if (options.matcher !== undefined) config.matcher = options.matcher;
  return { config, labelArray, way, featureLength: C * P };
}

/**
 * Prepares support features (S x C x P, labels 0..way-1 with every class present) on the GPU,
 * synchronously: it blocks the event loop for the upload and preparation (and, on a process's
 * first GPU call, the CUDA context creation); services should use
 * {@link prepareCudaSupportAsync}. Throws DeviceUnavailableError without a usable GPU.
 * @example
 * import { prepareCudaSupport } from 'lwfm-spm';
 * const support = prepareCudaSupport({ channels: [512, 512], matcher }, features, [0, 1, 2, 3, 4]);
 */
export function prepareCudaSupport(options: CudaHeadOptions, features: Float32Array, labels: ArrayLike<number>): CudaSupport {
  const { config, labelArray, way, featureLength } = supportArgs(options, features, labels);
  try {
    return new CudaSupport(native.cudaHeadPrepare(config, features, labelArray), way, featureLength);
  } catch (err) {
    throw toDeviceError(err);
  }
}

/**
 * {@link prepareCudaSupport} off the event loop: arguments are checked at once (a bad one
 * rejects with its TypeError / RangeError), the GPU work runs on a worker thread. Rejects with
 * DeviceUnavailableError without a usable GPU. The arrays must not change until it settles.
 * @example
 * import { prepareCudaSupportAsync } from 'lwfm-spm';
 * const support = await prepareCudaSupportAsync({ channels: [512, 512], matcher }, features, [0, 1, 2, 3, 4]);
 */
export async function prepareCudaSupportAsync(options: CudaHeadOptions, features: Float32Array, labels: ArrayLike<number>): Promise<CudaSupport> {
  const { config, labelArray, way, featureLength } = supportArgs(options, features, labels);
  try {
    return new CudaSupport(await native.cudaHeadPrepareAsync(config, features, labelArray), way, featureLength);
  } catch (err) {
    throw toDeviceError(err);
  }
}
