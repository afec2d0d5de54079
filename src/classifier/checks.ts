/**
 * Argument checks of the classifier's public methods, done before any backbone or
 * head work so that a bad argument fails fast and names itself.
 */
import { LwfmError } from '../errors.js';
import { expectOneOf, expectOptions, expectPositiveInteger, expectThreads, expectWorkers, expectedMessage } from '../validate.js';
import type { LoadOptions } from './engine.js';
import { expectMaxImagePixels } from '../backbone/image_limits.js';
import type { LabelMap } from './labels.js';
import type { EvaluateOptions, SupportSnapshot } from './types.js';

/** Argument checks of `load`, shared with engine factories. */
export function checkLoadArgs(bundle: unknown, options: unknown): LoadOptions {
  if (bundle !== undefined && (typeof bundle !== 'string' || bundle.length === 0)) {
    throw new TypeError(expectedMessage('model bundle directory path or undefined', 'bundle', bundle));
  }
  const o = expectOptions(options, 'options');
  const out: LoadOptions = {};
  if (o.device !== undefined) out.device = expectOneOf(o.device, 'options.device', ['auto', 'cpu', 'cuda'] as const);
  const threads = expectThreads(o.threads, 'options.threads');
  if (threads !== undefined) out.threads = threads;
  const workers = expectWorkers(o.workers, 'options.workers');
  if (workers !== undefined) out.workers = workers;
  if (o.precision !== undefined) out.precision = expectOneOf(o.precision, 'options.precision', ['fp32', 'int8'] as const);
  if (o.maxImagePixels !== undefined) out.maxImagePixels = expectMaxImagePixels(o.maxImagePixels, 'options.maxImagePixels');
  return out;
}

/** The error of classify / exportSupport before any support set exists. */
export function noSupportError(): LwfmError {
  return new LwfmError('No support set: call setSupport(images, labels) before classify()', 'ERR_LWFM_NO_SUPPORT');
}

/** Checks one label per support image and maps them to class indices (adding new labels to `map`). */
export function checkLabels(map: LabelMap, labels: unknown, count: number): Int32Array {
  if (!Array.isArray(labels)) throw new TypeError(expectedMessage('array of labels', 'labels', labels));
  if (labels.length !== count) {
    throw new RangeError(expectedMessage(`array of ${count} labels (one per support image)`, 'labels', labels));
  }
  return map.indicesOf(labels);
}

/**
 * Checks an `importSupport` snapshot against this model's feature shape [C, P]; returns
 * the number of images. Labels are checked by the caller (on its label map).
 */
export function checkSnapshot(snapshot: unknown, c: number, p: number): { features: Float32Array; count: number; labels: unknown } {
  const o = expectOptions(snapshot, 'snapshot');
  const features = o.features;
  if (!(features instanceof Float32Array)) throw new TypeError(expectedMessage('Float32Array', 'snapshot.features', features));
  const dims = o.dims;
  if (!Array.isArray(dims) || dims.length !== 3 || dims[1] !== c || dims[2] !== p || !Number.isSafeInteger(dims[0]) || dims[0] < 1) {
    throw new RangeError(expectedMessage(`dims [N >= 1, ${c}, ${p}] (this model's channels and pixels)`, 'snapshot.dims', dims));
  }
  const count = dims[0] as number;
  if (features.length !== count * c * p) {
    throw new RangeError(expectedMessage(`${count * c * p} features (N x C x P)`, 'snapshot.features.length', features.length));
  }
  return { features, count, labels: (o as Partial<SupportSnapshot>).labels };
}

/** `evaluate`'s options with defaults filled in. */
export type CheckedEvaluateOptions = Required<Omit<EvaluateOptions, 'onProgress' | 'signal'>> &
  Pick<EvaluateOptions, 'onProgress' | 'signal'>;

/** Checks `evaluate`'s options and fills in the defaults (5-way 1-shot, 15 queries, 600 episodes, seed 0). */
export function checkEvaluateOptions(options: unknown): CheckedEvaluateOptions {
  const o = expectOptions(options, 'options');
  const seed = o.seed ?? 0;
  if (!(typeof seed === 'string' || (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0))) {
    throw new TypeError(expectedMessage('non-negative integer or string seed', 'options.seed', seed));
  }
  for (const key of ['onProgress', 'onWarning'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'function') throw new TypeError(expectedMessage('function', `options.${key}`, o[key]));
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal))
    throw new TypeError(expectedMessage('AbortSignal', 'options.signal', o.signal));
  return {
    way: expectPositiveInteger(o.way ?? 5, 'options.way', 100_000),
    shot: expectPositiveInteger(o.shot ?? 1, 'options.shot', 100_000),
    query: expectPositiveInteger(o.query ?? 15, 'options.query', 100_000),
    episodes: expectPositiveInteger(o.episodes ?? 600, 'options.episodes', 10_000_000),
    seed,
    onProgress: o.onProgress as EvaluateOptions['onProgress'],
    onWarning:
      (o.onWarning as EvaluateOptions['onWarning']) ?? ((message: string) => process.emitWarning(message, { code: 'LWFM_SKIPPED_IMAGE' })),
    signal: o.signal as AbortSignal | undefined,
  };
}
