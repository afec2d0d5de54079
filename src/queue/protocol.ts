/**
 * What travels through Redis between producers and workers: job names, the job
 * payload (and its checks, run again by the worker because a queue is shared and a
 * job may come from anyone), size limits, and the error codes a failed job carries.
 * A job's failure reason is `[CODE] message`, so the dead-letter view can show the
 * code without parsing free text.
 */
import { LwfmError } from '../errors.js';
import { describeValue, expectedMessage } from '../validate.js';

/** Payload format version; a worker fails jobs of another version permanently. */
export const PAYLOAD_VERSION = 1;

/** Job names on the queue. */
export const JOB_CLASSIFY = 'classify';
export const JOB_SUPPORT = 'support';

/**
 * Default cap on the encoded image bytes of one job (producer and worker). BullMQ keeps
 * the payload in Redis as JSON until the job is removed, base64 adds a third.
 * @example
 * new ClassificationQueue({ connection, maxJobBytes: 4 * DEFAULT_MAX_JOB_BYTES });
 */
export const DEFAULT_MAX_JOB_BYTES = 16 * 1024 * 1024;
/**
 * Most images one job may hold.
 * @example
 * await q.classify('set', files.slice(0, MAX_JOB_IMAGES));
 */
export const MAX_JOB_IMAGES = 4096;
const MAX_PATH_LENGTH = 4096;
const ID_PATTERN = /^[A-Za-z0-9._:@-]{1,200}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The payload of a `classify` job (images as base64, or paths with `shared`). */
export interface ClassifyPayload {
  v: number;
  supportSetId: string;
  images?: string[];
  paths?: string[];
}

/** The payload of a `support` job: embed these images on a worker and store the set. */
export interface SupportPayload extends ClassifyPayload {
  labels: (string | number)[];
}

/**
 * A queue job that failed, or a queue call that could not be made; `code` says why.
 * @example
 * try { await (await q.classify('set', files)).result(); }
 * catch (e) { if (e instanceof QueueJobError) console.error(e.code, e.jobId); }
 */
export class QueueJobError extends LwfmError {
  /** The job, when there is one. */
  readonly jobId: string | undefined;
  constructor(message: string, code: string, jobId?: string, options?: { cause?: unknown }) {
    super(message, code, options);
    this.jobId = jobId;
  }
}

/** Renders an error as a job's failure reason: `[CODE] message`. */
export function failureReason(code: string, message: string): string {
  return `[${code}] ${message}`;
}

/** Splits a failure reason back into code and message (jobs failed by BullMQ itself get ERR_LWFM_QUEUE_FAILED). */
export function parseFailure(reason: string | undefined): { code: string; message: string } {
  const m = /^\[([A-Z0-9_]+)\] ([\s\S]*)$/.exec(reason ?? '');
  if (m) return { code: m[1]!, message: m[2]! };
  return { code: 'ERR_LWFM_QUEUE_FAILED', message: reason || 'job failed without a reason' };
}

/** Checks a support set id (used in Redis key names and job payloads). */
export function expectSupportSetId(value: unknown, name = 'supportSetId'): string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
    throw new TypeError(expectedMessage('support set id of 1-200 characters [A-Za-z0-9._:@-]', name, value));
  }
  return value;
}

/** A malformed job: the worker fails it permanently with this code. */
export function badJob(problem: string): QueueJobError {
  return new QueueJobError(`Malformed queue job: ${problem}`, 'ERR_LWFM_QUEUE_JOB');
}

/** Too many image bytes for one job. */
export function tooLarge(bytes: number, limit: number, where: string): QueueJobError {
  return new QueueJobError(
    `Job payload holds ${bytes} bytes of images, over the ${limit}-byte limit of ${where}; split it into smaller jobs (classifyMany does) or raise maxJobBytes`,
    'ERR_LWFM_QUEUE_PAYLOAD_TOO_LARGE',
  );
}

/** The images of a validated payload: Buffers, or paths for a shared filesystem. */
export type JobImages = { kind: 'bytes'; images: Buffer[] } | { kind: 'paths'; images: string[] };

/**
 * Validates a job payload from Redis and decodes its images. Throws QueueJobError
 * (ERR_LWFM_QUEUE_JOB, ERR_LWFM_QUEUE_PAYLOAD_TOO_LARGE, ERR_LWFM_QUEUE_SHARED_DISABLED).
 */
export function decodePayload(
  data: unknown,
  limits: { maxJobBytes: number; shared: boolean },
  withLabels: boolean,
): { supportSetId: string; images: JobImages; labels?: (string | number)[] } {
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw badJob(`expected a payload object, received ${describeValue(data)}`);
  const d = data as Record<string, unknown>;
  if (d.v !== PAYLOAD_VERSION) throw badJob(`payload version ${describeValue(d.v)}, this worker reads version ${PAYLOAD_VERSION}`);
  if (typeof d.supportSetId !== 'string' || !ID_PATTERN.test(d.supportSetId))
    throw badJob(`bad supportSetId ${describeValue(d.supportSetId)}`);
  const hasImages = d.images !== undefined;
  const hasPaths = d.paths !== undefined;
  if (hasImages === hasPaths) throw badJob('exactly one of images (base64) and paths must be given');
  const list = hasImages ? d.images : d.paths;
  if (!Array.isArray(list) || list.length < 1 || list.length > MAX_JOB_IMAGES) {
    throw badJob(`expected 1..${MAX_JOB_IMAGES} ${hasImages ? 'images' : 'paths'}, received ${describeValue(list)}`);
  }
  let images: JobImages;
  if (hasImages) {
    let bytes = 0;
    for (const [i, s] of list.entries()) {
      if (typeof s !== 'string' || s.length % 4 !== 0 || !BASE64.test(s))
        throw badJob(`images[${i}] is not a base64 string: ${describeValue(s)}`);
      bytes += (s.length / 4) * 3;
    }
    if (bytes > limits.maxJobBytes + 2 * list.length) throw tooLarge(bytes, limits.maxJobBytes, 'this worker');
    images = { kind: 'bytes', images: (list as string[]).map((s) => Buffer.from(s, 'base64')) };
  } else {
    if (!limits.shared) {
      throw new QueueJobError(
        'Job names image paths but this worker was not started with shared: true (--shared): it reads no files a job names',
        'ERR_LWFM_QUEUE_SHARED_DISABLED',
      );
    }
    for (const [i, p] of list.entries()) {
      if (typeof p !== 'string' || p.length === 0 || p.length > MAX_PATH_LENGTH || p.includes('\0')) badPath(i, p);
    }
    images = { kind: 'paths', images: list as string[] };
  }
  if (!withLabels) return { supportSetId: d.supportSetId, images };
  const labels = d.labels;
  if (!Array.isArray(labels) || labels.length !== list.length)
    throw badJob(`expected ${list.length} labels, received ${describeValue(labels)}`);
  labels.forEach((l, i) => {
    if (!(typeof l === 'string' || (typeof l === 'number' && Number.isFinite(l))))
      throw badJob(`labels[${i}] is not a string or finite number: ${describeValue(l)}`);
  });
  return { supportSetId: d.supportSetId, images, labels: labels as (string | number)[] };
}

function badPath(i: number, p: unknown): never {
  throw badJob(`paths[${i}] is not a usable file path: ${describeValue(p)}`);
}
