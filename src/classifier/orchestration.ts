/**
 * The classify / classifyEpisode / embed data path: images -> backbone -> embeddings ->
 * head -> logits -> predictions, with unreadable images kept out of the head and reported
 * in their own slots.
 */
import type { EmbedBatch } from '../backbone/types.js';
import type { EnginePreparedSupport } from './engine.js';
import { checkLabels } from './checks.js';
import { asImageError, countInputs, describeSource, isTensorInput, type ImageInputs } from './inputs.js';
import { LabelMap, type Label } from './labels.js';
import type { EngineRuntime } from './runtime.js';
import { argmax, softmax } from './stats.js';
import { callTimings, since } from './timings.js';
import type { SupportSet } from './support_set.js';
import type { Classification, ClassifyResult, Embedding } from './types.js';

/** `embed`: backbone embeddings with per-image errors named after their inputs. */
export async function embedImages(rt: EngineRuntime, inputs: ImageInputs, signal?: AbortSignal): Promise<Embedding> {
  const start = performance.now();
  countInputs(inputs, 'inputs');
  const raw = await rt.embed(inputs, signal);
  rt.alive();
  return {
    data: raw.data,
    dims: raw.dims,
    errors: raw.errors.map((e, i) => (e ? asImageError(e, describeSource(inputs, i)) : null)),
    timings: callTimings(raw.timings, 0, since(start)),
  };
}

/** `classify`: queries against the stored support set, pinned for the duration of the head call. */
export async function classifyAgainst(
  rt: EngineRuntime,
  support: SupportSet,
  inputs: ImageInputs,
  signal?: AbortSignal,
): Promise<Classification> {
  const start = performance.now();
  countInputs(inputs, 'inputs');
  support.expectPresent();
  const raw = await rt.embed(inputs, signal);
  rt.alive();
  const state = support.acquire();
  try {
    return await scoreQueries(rt, state.prepared, state.map.labels, raw, inputs, 0, start);
  } finally {
    support.release(state);
  }
}

/** `classifyEpisode`: a one-off support set, prepared, used for the queries and freed. */
export async function classifyEpisode(
  rt: EngineRuntime,
  support: ImageInputs,
  labels: readonly Label[],
  queries: ImageInputs,
): Promise<Classification> {
  const start = performance.now();
  const supportCount = countInputs(support, 'support');
  countInputs(queries, 'queries');
  const map = new LabelMap();
  const indices = checkLabels(map, labels, supportCount);
  let supportRaw: EmbedBatch;
  let queryRaw: EmbedBatch;
  let queryOffset = 0;
  if (!isTensorInput(support) && !isTensorInput(queries)) {
    // One backbone batch for both: fewer, fuller worker jobs.
    const joint = await rt.embed([...support, ...queries]);
    supportRaw = joint;
    queryRaw = joint;
    queryOffset = supportCount;
  } else {
    supportRaw = await rt.embed(support);
    queryRaw = await rt.embed(queries);
  }
  rt.alive();
  throwFirstSupportError(supportRaw, support, supportCount);
  const headStart = performance.now();
  const prepared = await rt.run(rt.engine.head.prepareSupport(rows(supportRaw, 0, supportCount), indices, { stable: true }));
  const prepareMs = since(headStart);
  try {
    rt.alive();
    const result = await scoreQueries(rt, prepared, map.labels, queryRaw, queries, queryOffset, start);
    // Both embed calls and the prepare step belong to this call's stages (other = the rest).
    const embedded = queryRaw === supportRaw ? queryRaw.timings : sumEmbedTimings(supportRaw.timings, queryRaw.timings);
    result.timings = callTimings(embedded, result.timings.head + prepareMs, since(start));
    return result;
  } finally {
    prepared.dispose();
  }
}

/**
 * Scores the readable queries (rows offset.. of `raw`) against `prepared` and builds one result
 * per query: a prediction, or the error of an unreadable image.
 */
export async function scoreQueries(
  rt: EngineRuntime,
  prepared: EnginePreparedSupport,
  labels: readonly Label[],
  raw: EmbedBatch,
  inputs: ImageInputs,
  offset: number,
  start: number,
): Promise<Classification> {
  const n = isTensorInput(inputs) ? inputs.dims[0] : inputs.length;
  const [, c, p] = raw.dims;
  const stride = c * p;
  const good: number[] = [];
  for (let i = 0; i < n; i++) if (!raw.errors[offset + i]) good.push(i);
  // Only readable queries go to the head: NaN rows would be rejected there.
  let queries: Float32Array;
  if (good.length === n) {
    queries = rows(raw, offset, offset + n);
  } else {
    queries = new Float32Array(good.length * stride);
    good.forEach((i, k) => queries.set(raw.data.subarray((offset + i) * stride, (offset + i + 1) * stride), k * stride));
  }
  const headStart = performance.now();
  const logits = good.length > 0 ? await rt.run(rt.engine.head.score(prepared, queries)) : new Float32Array(0);
  const headMs = since(headStart);
  const way = prepared.way;
  const results: ClassifyResult[] = new Array(n);
  good.forEach((i, k) => {
    const row = Array.from(logits.subarray(k * way, (k + 1) * way));
    const index = argmax(row);
    results[i] = { label: labels[index]!, index, probabilities: softmax(row), logits: row };
  });
  for (let i = 0; i < n; i++) {
    const error = raw.errors[offset + i];
    if (error) results[i] = { error: asImageError(error, describeSource(inputs, i)) };
  }
  return Object.assign(results, {
    labels: [...labels],
    timings: callTimings(raw.timings, headMs, since(start)),
  });
}

function sumEmbedTimings(a: EmbedBatch['timings'], b: EmbedBatch['timings']): EmbedBatch['timings'] {
  return { decode: a.decode + b.decode, backbone: a.backbone + b.backbone, total: a.total + b.total };
}

/** Support images must all be readable: throws the first one's error. */
export function throwFirstSupportError(raw: EmbedBatch, inputs: ImageInputs, count: number): void {
  for (let i = 0; i < count; i++) {
    const error = raw.errors[i];
    if (error) throw asImageError(error, describeSource(inputs, i));
  }
}

/** Rows [from, to) of an N x C x P embedding, as a view (no copy). */
export function rows(raw: EmbedBatch, from: number, to: number): Float32Array {
  const stride = raw.dims[1] * raw.dims[2];
  return raw.data.subarray(from * stride, to * stride);
}
