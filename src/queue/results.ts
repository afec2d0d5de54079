/**
 * A classify job's result as BullMQ stores it (JSON in the job's hash), and back.
 * Numbers survive JSON exactly (JavaScript prints the shortest string that reads
 * back to the same double), so a result through the queue equals in-process
 * `classify`, logits and probabilities included.
 */
import { ImageDecodeError } from '../errors.js';
import type { Classification, ClassifyResult } from '../classifier/classifier.js';
import type { Label } from '../classifier/labels.js';
import type { StageTimings } from '../classifier/timings.js';
import { QueueJobError } from './protocol.js';

/** One slot as stored: a prediction, or the unreadable image's source and message. */
type WireSlot = { label: Label; index: number; probabilities: number[]; logits: number[] } | { error: { source: string; message: string } };

/** A classify job's return value. */
export interface WireResult {
  v: 1;
  supportSetId: string;
  supportVersion: number;
  labels: Label[];
  results: WireSlot[];
  timings: StageTimings;
  /** `host:pid` of the worker that produced it. */
  worker: string;
}

/**
 * What `handle.result()` resolves to: exactly what in-process `classify` returns, plus
 * the job id, the support set version every query of the job was scored against, and
 * the worker that ran it.
 * @example
 * const r = await (await q.classify('pets', files)).result();
 * console.log(r[0].label, r.supportVersion, r.worker);
 */
export type QueueClassification = Classification & { jobId: string; supportVersion: number; worker: string };

/** Worker side: a Classification as the job's return value. */
export function toWire(result: Classification, supportSetId: string, supportVersion: number, worker: string): WireResult {
  return {
    v: 1,
    supportSetId,
    supportVersion,
    labels: [...result.labels],
    results: result.map((r): WireSlot =>
      r.error
        ? { error: { source: r.error.source, message: r.error.message } }
        : { label: r.label, index: r.index, probabilities: r.probabilities, logits: r.logits },
    ),
    timings: result.timings,
    worker,
  };
}

/**
 * Producer side: a stored return value as a QueueClassification. `sources` names the
 * inputs as the caller gave them (paths), so a failed slot names the same image that
 * in-process classify would.
 */
export function fromWire(value: unknown, jobId: string, sources: readonly (string | undefined)[] | undefined): QueueClassification {
  const w = value as WireResult | null;
  if (!w || typeof w !== 'object' || w.v !== 1 || !Array.isArray(w.results) || !Array.isArray(w.labels)) {
    throw new QueueJobError(`Job ${jobId} completed without a readable result`, 'ERR_LWFM_QUEUE_RESULT', jobId);
  }
  const results = w.results.map((slot, i): ClassifyResult => {
    if ('error' in slot) {
      const workerSource = slot.error.source;
      const source = sources?.[i] ?? workerSource;
      const prefix = `Cannot read image ${workerSource}: `;
      const problem = slot.error.message.startsWith(prefix) ? slot.error.message.slice(prefix.length) : slot.error.message;
      return { error: new ImageDecodeError(source, problem) };
    }
    return { label: slot.label, index: slot.index, probabilities: slot.probabilities, logits: slot.logits };
  });
  return Object.assign(results, { labels: w.labels, timings: w.timings, jobId, supportVersion: w.supportVersion, worker: w.worker });
}
