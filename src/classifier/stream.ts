/**
 * classifyStream: classification of an unbounded sequence of images with memory bounded
 * by the batch size and the pipeline depth, not by the input count. Results come out in
 * input order, each with its input's index (`inputIndex`) and source.
 *
 * The pipeline keeps BACKBONE_DEPTH batches in the backbone while the head scores the
 * batch before them: batch k+1 decodes in the worker (sharp on libuv's pool) while batch
 * k runs in ONNX Runtime, and the head scores batch k-1 on the main thread's native call.
 * Inputs are pulled from the iterable only when a batch slot frees up, so a slow consumer
 * of the results holds the whole pipeline (and the input reading) back: backpressure.
 *
 * The support set is pinned when the stream starts: every result of one stream is scored
 * against the same support set, even if setSupport replaces it meanwhile.
 */
import type { ImageInput } from '../backbone/types.js';
import { BackboneError, ImageDecodeError } from '../errors.js';
import { expectOptions, expectPositiveInteger, expectedMessage } from '../validate.js';
import { checkSignal } from './abort.js';
import { scoreQueries } from './orchestration.js';
import type { EngineRuntime } from './runtime.js';
import type { SupportSet } from './support_set.js';
import type { ClassifyResult } from './types.js';

/**
 * Default images per batch: one ONNX Runtime batch of 80 (as the bare-session benchmark
 * runs), about 1.5 MB of embeddings. 80 measured 0.88x the bare session's images/s end to
 * end on 2 cores where 64 measured 0.73x (different load, same benchmark).
 */
export const DEFAULT_STREAM_BATCH = 80;
/** Batches in the backbone at once: one in the network, the next one decoding. */
const BACKBONE_DEPTH = 2;

/**
 * Options of `classifyStream`.
 * @example
 * const options: ClassifyStreamOptions = { batchSize: 64, signal: AbortSignal.timeout(60_000) };
 */
export interface ClassifyStreamOptions {
  /** Images per backbone batch (default 80): memory grows with it. */
  batchSize?: number;
  /** Stops the stream: the iteration rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * One result of `classifyStream`: a prediction or a failure, with `inputIndex`, the position of
 * its input in the input sequence, and `source` (the path, or `<buffer #inputIndex>`).
 * (`index` stays the predicted class's index, as in classify's results.)
 * @example
 * for await (const r of classifier.classifyStream(files)) console.log(r.inputIndex, r.source, r.error ? r.error.message : r.label);
 */
export type StreamedResult = ClassifyResult & { inputIndex: number; source: string };

interface Batch {
  start: number;
  items: ImageInput[];
  embed: ReturnType<EngineRuntime['embed']>;
}

function checkOptions(options: unknown): { batchSize: number; signal: AbortSignal | undefined } {
  const o = expectOptions(options, 'options');
  return {
    batchSize: o.batchSize === undefined ? DEFAULT_STREAM_BATCH : expectPositiveInteger(o.batchSize, 'options.batchSize', 4096),
    signal: checkSignal(o.signal, 'options.signal'),
  };
}

function iteratorOf(inputs: unknown): AsyncIterator<unknown> | Iterator<unknown> {
  if (inputs !== null && typeof inputs === 'object') {
    const asyncIt = (inputs as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator];
    if (typeof asyncIt === 'function') return asyncIt.call(inputs);
    const it = (inputs as Partial<Iterable<unknown>>)[Symbol.iterator];
    if (typeof it === 'function') return it.call(inputs);
  }
  if (typeof inputs === 'string')
    throw new TypeError(expectedMessage('iterable of images (an array of paths, a generator...), not a single string', 'inputs', inputs));
  throw new TypeError(expectedMessage('Iterable or AsyncIterable of image paths / Uint8Arrays', 'inputs', inputs));
}

function sourceOf(item: ImageInput, index: number): string {
  return typeof item === 'string' ? item : `<buffer #${index}>`;
}

/** The backbone names a failed buffer by its place in the batch; the stream names it by its place in the input. */
function renamed(error: ImageDecodeError | BackboneError, source: string): ImageDecodeError | BackboneError {
  if (error.source === source) return error;
  const backbone = error instanceof BackboneError;
  const prefix = backbone ? `Backbone worker failed while embedding ${error.source}: ` : `Cannot read image ${error.source}: `;
  const problem = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  if (backbone) return new BackboneError(source, problem, { cause: error.cause });
  return new ImageDecodeError(source, problem, { cause: error.cause, reason: error.reason });
}

/**
 * The stream behind `FewShotClassifier.classifyStream`. Arguments, the support set and the
 * signal are checked at once (the call throws); the inputs are read as results are consumed.
 */
export function streamClassify(
  rt: EngineRuntime,
  support: SupportSet,
  inputs: unknown,
  options?: unknown,
): AsyncGenerator<StreamedResult, void, undefined> {
  const { batchSize, signal } = checkOptions(options);
  const iterator = iteratorOf(inputs);
  rt.alive();
  support.expectPresent();
  signal?.throwIfAborted();
  return pipeline(rt, support, iterator, batchSize, signal);
}

async function* pipeline(
  rt: EngineRuntime,
  support: SupportSet,
  iterator: AsyncIterator<unknown> | Iterator<unknown>,
  batchSize: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<StreamedResult, void, undefined> {
  const state = support.acquire();
  const inFlight: Batch[] = [];
  let pulled = 0;
  let exhausted = false;

  const pullBatch = async (): Promise<ImageInput[]> => {
    const items: ImageInput[] = [];
    while (items.length < batchSize) {
      const r = await iterator.next();
      if (r.done) {
        exhausted = true;
        break;
      }
      const x = r.value;
      const at = pulled + items.length;
      if (typeof x === 'string' ? x.length === 0 : !(x instanceof Uint8Array)) {
        throw new TypeError(expectedMessage('non-empty image path or Uint8Array of encoded image bytes', `inputs[${at}]`, x));
      }
      items.push(x as ImageInput);
    }
    return items;
  };
  const refill = async (): Promise<void> => {
    while (!exhausted && inFlight.length < BACKBONE_DEPTH) {
      signal?.throwIfAborted();
      const items = await pullBatch();
      if (items.length === 0) break;
      // One worker job per batch: the stream overlaps whole batches, so ONNX Runtime gets the
      // full batch (measured about 10% more images/s than 16-image jobs, fp32, 2 cores).
      const embed = rt.embed(items, undefined, items.length);
      embed.catch(() => undefined); // awaited below; an early stop must not leave it unhandled
      inFlight.push({ start: pulled, items, embed });
      pulled += items.length;
    }
  };

  try {
    await refill();
    while (inFlight.length > 0) {
      const batch = inFlight.shift()!;
      const raw = await rt.run(batch.embed, signal);
      rt.alive();
      // Start the next batch's decode before the head runs on this one.
      await refill();
      const results = await scoreQueries(rt, state.prepared, state.map.labels, raw, batch.items, 0, performance.now());
      for (let i = 0; i < results.length; i++) {
        const index = batch.start + i;
        const source = sourceOf(batch.items[i]!, index);
        const r = results[i]!;
        yield r.error ? { error: renamed(r.error, source), inputIndex: index, source } : { ...r, inputIndex: index, source };
      }
    }
  } finally {
    support.release(state);
    // Stopped early (break, abort, error): close the input iterator as for-of would.
    if (!exhausted) await iterator.return?.();
  }
}
