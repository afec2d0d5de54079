/**
 * Options of the Fastify plugin (and so of `lwfm-spm serve`), their checks and defaults.
 */
import type { FewShotClassifier } from '../classifier/classifier.js';
import {
  expectBoolean,
  expectNonNegativeInteger,
  expectOneOf,
  expectOptions,
  expectPositiveInteger,
  expectThreads,
  expectWorkers,
  expectedMessage,
} from '../validate.js';

/**
 * Options of `app.register(lwfmSpm, options)`.
 * @example
 * await app.register(lwfmSpm, { model: './my-model', maxConcurrent: 4, maxQueue: 32, auth: { apiKeys: [process.env.KEY!] } });
 */
export interface LwfmSpmPluginOptions {
  /** Model bundle directory (default: the embedded, untrained model). Ignored with `classifier`. */
  model?: string;
  /** A classifier you loaded yourself; the plugin uses it and does not dispose it. */
  classifier?: FewShotClassifier;
  device?: 'auto' | 'cpu' | 'cuda';
  threads?: number;
  workers?: number;
  /** Route prefix (Fastify's own register option), e.g. '/lwfm'. */
  prefix?: string;
  /** Requests doing model work at once (default 4). */
  maxConcurrent?: number;
  /** Requests waiting for a slot; beyond it 503 + Retry-After (default 32). */
  maxQueue?: number;
  /** Limit of one request, from arrival to reply, waiting included (default 30000 ms). */
  requestTimeoutMs?: number;
  /** Largest image part in bytes (default 10 MiB). */
  maxImageBytes?: number;
  /** Most image parts in one request (default 64). */
  maxImagesPerRequest?: number;
  /** Most pixels an image may declare, checked before decoding (default 40 megapixels). */
  maxImagePixels?: number;
  /** Most support sets held (default 1000). */
  maxSupportSets?: number;
  /** Most support images held over all sets (default 20000). */
  maxSupportImages?: number;
  /** Directory that persists support sets, one file per set (default: memory only). */
  store?: string;
  /** Bearer-token auth: accepted API keys (at least 16 characters each). Health routes stay open. */
  auth?: { apiKeys: string[] };
  /** Serve GET /metrics (default true). */
  metrics?: boolean;
}

/** The options with defaults filled in. */
export interface ResolvedOptions {
  model: string | undefined;
  classifier: FewShotClassifier | undefined;
  load: { device: 'auto' | 'cpu' | 'cuda'; threads?: number; workers?: number };
  limits: {
    maxConcurrent: number;
    maxQueue: number;
    requestTimeoutMs: number;
    maxImageBytes: number;
    maxImagesPerRequest: number;
    maxImagePixels: number;
    maxSupportSets: number;
    maxSupportImages: number;
  };
  store: string | undefined;
  apiKeys: string[] | undefined;
  metrics: boolean;
}

/**
 * Checks the plugin options (TypeError/RangeError naming the option) and fills in defaults.
 * @example
 * const o = resolveOptions({ maxConcurrent: 2 }); // o.limits.maxQueue === 32
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  const o = expectOptions(options, 'options');
  const int = (key: string, fallback: number, max: number): number =>
    o[key] === undefined ? fallback : expectPositiveInteger(o[key], `options.${key}`, max);
  if (o.model !== undefined && (typeof o.model !== 'string' || o.model.length === 0))
    throw new TypeError(expectedMessage('model bundle directory', 'options.model', o.model));
  if (o.store !== undefined && (typeof o.store !== 'string' || o.store.length === 0))
    throw new TypeError(expectedMessage('store directory', 'options.store', o.store));
  if (
    o.classifier !== undefined &&
    (o.classifier === null || typeof (o.classifier as { createSupportSet?: unknown }).createSupportSet !== 'function')
  ) {
    throw new TypeError(expectedMessage('FewShotClassifier', 'options.classifier', o.classifier));
  }
  let apiKeys: string[] | undefined;
  if (o.auth !== undefined && o.auth !== false && o.auth !== null) {
    const a = expectOptions(o.auth, 'options.auth');
    if (!Array.isArray(a.apiKeys) || a.apiKeys.length === 0 || !a.apiKeys.every((k) => typeof k === 'string' && k.length >= 16)) {
      throw new TypeError(expectedMessage('non-empty array of API keys of at least 16 characters', 'options.auth.apiKeys', a.apiKeys));
    }
    apiKeys = [...(a.apiKeys as string[])];
  }
  const load: ResolvedOptions['load'] = {
    device: o.device === undefined ? 'auto' : expectOneOf(o.device, 'options.device', ['auto', 'cpu', 'cuda'] as const),
  };
  const threads = expectThreads(o.threads, 'options.threads');
  if (threads !== undefined) load.threads = threads;
  const workers = expectWorkers(o.workers, 'options.workers');
  if (workers !== undefined) load.workers = workers;
  return {
    model: o.model as string | undefined,
    classifier: o.classifier as FewShotClassifier | undefined,
    load,
    limits: {
      maxConcurrent: int('maxConcurrent', 4, 4096),
      maxQueue: o.maxQueue === undefined ? 32 : expectNonNegativeInteger(o.maxQueue, 'options.maxQueue', 1_000_000),
      requestTimeoutMs: int('requestTimeoutMs', 30_000, 3_600_000),
      maxImageBytes: int('maxImageBytes', 10 * 1024 * 1024, 1024 * 1024 * 1024),
      maxImagesPerRequest: int('maxImagesPerRequest', 64, 100_000),
      maxImagePixels: int('maxImagePixels', 40_000_000, 1_000_000_000),
      maxSupportSets: int('maxSupportSets', 1000, 10_000_000),
      maxSupportImages: int('maxSupportImages', 20_000, 100_000_000),
    },
    store: o.store as string | undefined,
    apiKeys,
    metrics: o.metrics === undefined ? true : expectBoolean(o.metrics, 'options.metrics'),
  };
}
