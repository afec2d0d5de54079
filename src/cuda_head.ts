/**
 * The GPU head as a typed handle: support prepared once on the device, query batches
 * scored asynchronously. The `Head` class uses it (through its CUDA backends) for
 * `device: 'cuda'` and large 'auto' calls; it is exported for callers that manage devices
 * themselves. Also says which head configurations the GPU head can run.
 */
import { native, type NativeCudaHeadConfig, type NativeCudaHeadHandle } from './binding.js';
import { DisposedError } from './errors.js';
import { checkHeadOptions, checkImageRows, checkSupportLabels, type HeadConfig, type HeadOptions } from './head_options.js';
import { expectFloat32Array, expectedMessage } from './validate.js';

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
 * The parts of a head configuration that decide whether the GPU head can run it.
 * @example
 * const config: HeadDeviceConfig = { channels: [512, 512], featureSize: 3 };
 */
export interface HeadDeviceConfig {
  channels: readonly number[];
  featureSize?: number;
  matcherWeight?: number;
}

/**
 * Why the GPU head cannot run a head configuration the CPU head accepts, or undefined when it
 * can. Arguments are assumed already valid for the CPU head.
 * @example
 * cudaHeadLimitation({ channels: [512, 512], featureSize: 7 });
 * // 'the GPU head supports featureSize up to 5 but received 7'
 */
export function cudaHeadLimitation(options: HeadDeviceConfig): string | undefined {
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
 * Head hyperparameters and matcher weights (docs/computation.md §3): the same fields as the CPU head's options
 * (the GPU supports featureSize 2..5).
 * @example
 * const options: CudaHeadOptions = { channels: [512, 512], featureSize: 3 };
 */
export type CudaHeadOptions = Pick<
  HeadOptions,
  'channels' | 'featureSize' | 'temperatureAttn' | 'temperature' | 'matcherWeight' | 'topK' | 'matcher' | 'solver'
>;

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
      throw new RangeError(
        expectedMessage(`Float32Array of length a positive multiple of C * P = ${this.featureLength}`, 'queries', queries),
      );
    }
    return native.cudaHeadScore(this.#handle, queries); // named device errors: src/native_errors.ts
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

/** The native GPU head's configuration for a checked head config and support labels. */
function nativeConfig(config: HeadConfig, way: number): NativeCudaHeadConfig {
  const out: NativeCudaHeadConfig = {
    channels: [...config.channels],
    featureSize: config.featureSize,
    way,
    temperatureAttn: config.temperatureAttn,
    temperature: config.temperature,
    matcherWeight: config.matcherWeight,
    topK: config.topK,
    solver: config.solver,
  };
  if (config.matcher !== undefined) out.matcher = [...config.matcher];
  return out;
}

function wayOf(labels: Int32Array): number {
  return labels.reduce((m, v) => Math.max(m, v + 1), 0);
}

/**
 * @internal Prepares already checked support on the GPU (the Head's backends): no argument is
 * checked again. Rejects with DeviceUnavailableError without a usable GPU.
 */
export async function prepareCheckedCudaSupport(config: HeadConfig, features: Float32Array, labels: Int32Array): Promise<CudaSupport> {
  const way = wayOf(labels);
  return new CudaSupport(await native.cudaHeadPrepareAsync(nativeConfig(config, way), features, labels), way, config.imageSize);
}

/** @internal Synchronous {@link prepareCheckedCudaSupport}. */
export function prepareCheckedCudaSupportSync(config: HeadConfig, features: Float32Array, labels: Int32Array): CudaSupport {
  const way = wayOf(labels);
  return new CudaSupport(native.cudaHeadPrepare(nativeConfig(config, way), features, labels), way, config.imageSize);
}

/** The public entry points' one check: head options (as Head checks them), GPU limits, support. */
function checkedArgs(
  options: CudaHeadOptions,
  features: Float32Array,
  labels: ArrayLike<number>,
): { config: HeadConfig; labels: Int32Array } {
  const config = checkHeadOptions(options, 'options');
  const limitation = cudaHeadLimitation(config);
  if (limitation !== undefined) throw new RangeError(`Expected a configuration the GPU head runs but ${limitation}`);
  const size = checkImageRows(features, config.imageSize, 'features');
  return { config, labels: checkSupportLabels(labels, size) };
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
  const args = checkedArgs(options, features, labels);
  return prepareCheckedCudaSupportSync(args.config, features, args.labels);
}

/**
 * {@link prepareCudaSupport} off the event loop: arguments are checked at once (a bad one
 * rejects with its TypeError / RangeError), the GPU work runs on a worker thread. Rejects with
 * DeviceUnavailableError without a usable GPU. The arrays are copied before it returns, so the
 * caller may reuse or transfer them at once.
 * @example
 * import { prepareCudaSupportAsync } from 'lwfm-spm';
 * const support = await prepareCudaSupportAsync({ channels: [512, 512], matcher }, features, [0, 1, 2, 3, 4]);
 */
export async function prepareCudaSupportAsync(
  options: CudaHeadOptions,
  features: Float32Array,
  labels: ArrayLike<number>,
): Promise<CudaSupport> {
  const args = checkedArgs(options, features, labels);
  return prepareCheckedCudaSupport(args.config, features, args.labels);
}
