/**
 * The producer side of distributed classification: support sets into Redis, query
 * images into jobs, results back. Job ids are idempotent: adding an id that exists
 * returns the existing job (and, once done, its stored result), so a producer may
 * resend after a lost reply without work being done or stored twice.
 */
import { randomUUID } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { FewShotClassifier, type ClassifyResult } from '../classifier/classifier.js';
import type { ImageInput } from '../backbone/types.js';
import { ImageDecodeError } from '../errors.js';
import { expectOptions, expectPositiveInteger, expectedMessage } from '../validate.js';
import { closeConnection, openConnection, type QueueConnection } from './connection.js';
import { prepareImages } from './job_images.js';
import { JobWaiter } from './job_waiter.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE, expectQueueName, modelIdentity } from './names.js';
import { DEFAULT_MAX_JOB_BYTES, JOB_CLASSIFY, JOB_SUPPORT, PAYLOAD_VERSION, QueueJobError, expectSupportSetId } from './protocol.js';
import { fromWire, type QueueClassification } from './results.js';
import { readQueueStatus, type QueueStatus } from './status.js';
import { putSupport, supportKey } from './support_store.js';

/**
 * Options of `new ClassificationQueue`.
 * @example
 * const q = new ClassificationQueue({ connection: 'redis://127.0.0.1:6379', queue: 'lwfm-spm' });
 */
export interface ClassificationQueueOptions {
  connection: QueueConnection;
  /** Queue name (default 'lwfm-spm'); workers must use the same. */
  queue?: string;
  /** BullMQ key prefix (default 'bull'). */
  prefix?: string;
  /** When given, support sets are embedded here instead of by a worker job. */
  classifier?: FewShotClassifier;
  /** Largest encoded image bytes per job (default 16 MiB). */
  maxJobBytes?: number;
  /** Tries per job for transient failures (default 5), with exponential backoff from `backoffMs` (default 1000). */
  attempts?: number;
  backoffMs?: number;
  /** Completed jobs (and their images) are removed after this many seconds (default 3600). */
  keepCompletedS?: number;
}

/**
 * Options of one submission.
 * @example
 * await q.classify('pets', ['/mnt/share/q1.jpg'], { shared: true, jobId: 'batch-7' });
 */
export interface SubmitOptions {
  /** Send paths instead of bytes: workers read them from a shared filesystem (workers need `shared: true` too). */
  shared?: boolean;
  /** Idempotent job id (default: a random UUID); `[A-Za-z0-9._@-]`, not all digits. */
  jobId?: string;
}

/**
 * Options of `classifyMany`.
 * @example
 * for await (const r of q.classifyMany('pets', files, { batchSize: 16, window: 8 })) console.log(r.label);
 */
export interface ClassifyManyOptions {
  /** Images per job (default 16). */
  batchSize?: number;
  /** Jobs in flight at once (default 8): memory stays within window x batchSize images. */
  window?: number;
  shared?: boolean;
  /** Prefix of the job ids (default: random); rerunning with the same runId reuses finished jobs. */
  runId?: string;
  /** Per-job wait limit (default 10 minutes). */
  timeoutMs?: number;
}

/**
 * A submitted job.
 * @example
 * const handle = await q.classify('pets', files);
 * const results = await handle.result();
 */
export interface ClassifyHandle {
  readonly jobId: string;
  /** Waits for the job; rejects with QueueJobError (its `code` says why) if it failed. */
  result(options?: { timeoutMs?: number }): Promise<QueueClassification>;
  /** Removes the job and its stored result from Redis. */
  remove(): Promise<void>;
}

/**
 * What `putSupportSet` reports.
 * @example
 * const { version } = await q.putSupportSet('pets', files, labels);
 */
export interface StoredSupport {
  supportSetId: string;
  /** Increases by one with every put of this id; workers reload when it changes. */
  version: number;
  size: number;
}

const DEFAULT_TIMEOUT_MS = 600_000;
const JOB_ID = /^[A-Za-z0-9._@-]{1,200}$/;

/**
 * Producer of a distributed classification queue on Redis (BullMQ).
 * @example
 * import { ClassificationQueue } from 'lwfm-spm/queue';
 * const q = new ClassificationQueue({ connection: 'redis://127.0.0.1:6379' });
 * await q.putSupportSet('pets', ['cat1.jpg', 'dog1.jpg'], ['cat', 'dog']);
 * const results = await (await q.classify('pets', ['unknown.jpg'])).result();
 * await q.close();
 */
export class ClassificationQueue {
  readonly #queue: Queue;
  readonly #redis: Redis;
  readonly #owned: boolean;
  readonly #waiter: JobWaiter;
  readonly #classifier: FewShotClassifier | undefined;
  readonly #maxJobBytes: number;
  readonly #jobOptions: JobsOptions;
  readonly #prefix: string;
  #closed = false;

  constructor(options: ClassificationQueueOptions) {
    const o = expectOptions(options, 'options') as Partial<ClassificationQueueOptions>;
    if (o.connection === undefined)
      throw new TypeError(expectedMessage('Redis connection (URL, ioredis options or client)', 'options.connection', o.connection));
    if (o.classifier !== undefined && !(o.classifier instanceof FewShotClassifier))
      throw new TypeError(expectedMessage('FewShotClassifier', 'options.classifier', o.classifier));
    const name = expectQueueName(o.queue ?? DEFAULT_QUEUE, 'options.queue');
    this.#prefix = expectQueueName(o.prefix ?? DEFAULT_PREFIX, 'options.prefix');
    this.#maxJobBytes = expectPositiveInteger(o.maxJobBytes ?? DEFAULT_MAX_JOB_BYTES, 'options.maxJobBytes', 512 * 1024 * 1024);
    this.#jobOptions = {
      attempts: expectPositiveInteger(o.attempts ?? 5, 'options.attempts', 100),
      backoff: { type: 'exponential', delay: expectPositiveInteger(o.backoffMs ?? 1000, 'options.backoffMs', 3_600_000) },
      removeOnComplete: { age: expectPositiveInteger(o.keepCompletedS ?? 3600, 'options.keepCompletedS') },
      // The dead-letter view: failed jobs stay a week (at most 10000 of them).
      removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
    };
    this.#classifier = o.classifier;
    const { redis, owned } = openConnection(o.connection, 'options.connection');
    this.#redis = redis;
    this.#owned = owned;
    this.#queue = new Queue(name, { connection: redis, prefix: this.#prefix });
    this.#queue.on('error', () => undefined); // reconnects are ioredis'; commands wait for them
    this.#waiter = new JobWaiter(this.#queue, redis);
  }

  /** The queue name. */
  get name(): string {
    return this.#queue.name;
  }

  /**
   * Embeds a support set once and stores its embeddings in Redis as a new version;
   * every worker scores against it from its next job on. Embeds here when the queue
   * was given a classifier, else as a job on a worker. Every image must be readable.
   * @example
   * const { version } = await q.putSupportSet('pets', ['c1.jpg', 'c2.jpg', 'd1.jpg'], ['cat', 'cat', 'dog']);
   */
  async putSupportSet(
    supportSetId: string,
    images: readonly ImageInput[],
    labels: readonly (string | number)[],
    options: SubmitOptions = {},
  ): Promise<StoredSupport> {
    this.#alive();
    const id = expectSupportSetId(supportSetId);
    const o = checkSubmit(options);
    if (!Array.isArray(labels) || labels.length !== (Array.isArray(images) ? images.length : -1)) {
      throw new RangeError(
        expectedMessage(`array of ${Array.isArray(images) ? images.length : 'N'} labels (one per support image)`, 'labels', labels),
      );
    }
    const c = this.#classifier;
    if (c) {
      const embedded = await c.embed(images);
      const bad = embedded.errors.find((e) => e !== null);
      if (bad) throw bad;
      const version = await putSupport(
        this.#redis,
        supportKey(this.#prefix, this.#queue.name, id),
        { features: embedded.data, dims: embedded.dims, labels: [...labels] },
        modelIdentity(c),
      );
      return { supportSetId: id, version, size: embedded.dims[0] };
    }
    const prepared = await prepareImages(images, 'images', o.shared, this.#maxJobBytes);
    const first = prepared.readErrors.entries().next();
    if (!first.done) throw new ImageDecodeError(prepared.sources[first.value[0]]!, first.value[1].message, { cause: first.value[1] });
    const jobId = o.jobId ?? randomUUID();
    await this.#queue.add(
      JOB_SUPPORT,
      { v: PAYLOAD_VERSION, supportSetId: id, ...prepared.payload, labels: [...labels] },
      { ...this.#jobOptions, jobId },
    );
    const outcome = await this.#waiter.wait(jobId, DEFAULT_TIMEOUT_MS);
    if (outcome.state === 'failed') throw new QueueJobError(outcome.message, outcome.code, jobId);
    const v = outcome.value as { supportVersion: number; size: number };
    return { supportSetId: id, version: v.supportVersion, size: v.size };
  }

  /**
   * Submits one job: `images` (paths or Buffers) against support set `supportSetId`.
   * Resolves once the job is in Redis; `handle.result()` waits for its results.
   * @example
   * const handle = await q.classify('pets', ['q1.jpg', 'q2.jpg']);
   * for (const r of await handle.result()) console.log(r.error ? r.error.message : r.label);
   */
  async classify(supportSetId: string, images: readonly ImageInput[], options: SubmitOptions = {}): Promise<ClassifyHandle> {
    this.#alive();
    const id = expectSupportSetId(supportSetId);
    const o = checkSubmit(options);
    const prepared = await prepareImages(images, 'images', o.shared, this.#maxJobBytes);
    const jobId = o.jobId ?? randomUUID();
    await this.#queue.add(JOB_CLASSIFY, { v: PAYLOAD_VERSION, supportSetId: id, ...prepared.payload }, { ...this.#jobOptions, jobId });
    return {
      jobId,
      result: async (opts = {}) => {
        const timeoutMs = expectPositiveInteger(expectOptions(opts, 'options').timeoutMs ?? DEFAULT_TIMEOUT_MS, 'options.timeoutMs');
        const outcome = await this.#waiter.wait(jobId, timeoutMs);
        if (outcome.state === 'failed') throw new QueueJobError(`Job ${jobId} failed: ${outcome.message}`, outcome.code, jobId);
        const result = fromWire(outcome.value, jobId, prepared.sources);
        for (const [i, err] of prepared.readErrors)
          result[i] = { error: new ImageDecodeError(prepared.sources[i]!, err.message, { cause: err }) };
        return result;
      },
      remove: async () => {
        await this.#queue.remove(jobId);
      },
    };
  }

  /**
   * Classifies a stream of images in jobs of `batchSize`, at most `window` jobs in flight,
   * and yields one result per image in input order. Consumed jobs are removed from Redis.
   * @example
   * let i = 0;
   * for await (const r of q.classifyMany('pets', listFiles('./incoming'))) console.log(i++, r.error ? 'unreadable' : r.label);
   */
  async *classifyMany(
    supportSetId: string,
    images: AsyncIterable<ImageInput> | Iterable<ImageInput>,
    options: ClassifyManyOptions = {},
  ): AsyncGenerator<ClassifyResult, void, undefined> {
    this.#alive();
    const id = expectSupportSetId(supportSetId);
    const o = expectOptions(options, 'options') as ClassifyManyOptions;
    const batchSize = expectPositiveInteger(o.batchSize ?? 16, 'options.batchSize', 4096);
    const window = expectPositiveInteger(o.window ?? 8, 'options.window', 10_000);
    const timeoutMs = expectPositiveInteger(o.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'options.timeoutMs');
    const runId = o.runId === undefined ? randomUUID() : checkJobId(o.runId, 'options.runId');
    const shared = checkSubmit({ shared: o.shared }).shared;
    if (images === null || typeof images !== 'object' || !(Symbol.asyncIterator in images || Symbol.iterator in images)) {
      throw new TypeError(expectedMessage('iterable or async iterable of images', 'images', images));
    }
    const pending: ClassifyHandle[] = [];
    let batch: ImageInput[] = [];
    let jobs = 0;
    const submit = async (): Promise<void> => {
      pending.push(await this.classify(id, batch, { shared, jobId: `${runId}.${jobs++}` }));
      batch = [];
    };
    const drainOne = async function* (): AsyncGenerator<ClassifyResult> {
      const handle = pending.shift()!;
      const results = await handle.result({ timeoutMs });
      await handle.remove();
      yield* results;
    };
    try {
      for await (const image of images as AsyncIterable<ImageInput>) {
        batch.push(image);
        if (batch.length === batchSize) {
          await submit();
          while (pending.length >= window) yield* drainOne();
        }
      }
      if (batch.length > 0) await submit();
      while (pending.length > 0) yield* drainOne();
    } finally {
      // The caller stopped early or a job failed: withdraw the jobs not consumed (best
      // effort; one a worker holds just completes and expires with keepCompletedS).
      await Promise.all(pending.map((h) => h.remove().catch(() => undefined)));
    }
  }

  /**
   * Job counts by state, registered workers and the newest failed jobs with their codes.
   * @example
   * const { counts, failed } = await q.status();
   */
  async status(options: { failedLimit?: number } = {}): Promise<QueueStatus> {
    this.#alive();
    const limit = expectOptions(options, 'options').failedLimit ?? 20;
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0 || limit > 10_000) {
      throw new RangeError(expectedMessage('integer 0..10000', 'options.failedLimit', limit));
    }
    return readQueueStatus(this.#queue, limit);
  }

  /**
   * Closes the queue's Redis connections (the ones it opened).
   * @example
   * await q.close();
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#waiter.close();
    await this.#queue.close();
    if (this.#owned) await closeConnection(this.#redis);
  }

  #alive(): void {
    if (this.#closed) throw new QueueJobError('ClassificationQueue was used after close()', 'ERR_LWFM_DISPOSED');
  }
}

function checkJobId(value: unknown, name: string): string {
  if (typeof value !== 'string' || !JOB_ID.test(value) || /^\d+$/.test(value)) {
    throw new TypeError(expectedMessage('job id of 1-200 characters [A-Za-z0-9._@-], not all digits', name, value));
  }
  return value;
}

function checkSubmit(options: unknown): { shared: boolean; jobId: string | undefined } {
  const o = expectOptions(options, 'options');
  if (o.shared !== undefined && typeof o.shared !== 'boolean') throw new TypeError(expectedMessage('boolean', 'options.shared', o.shared));
  return { shared: o.shared === true, jobId: o.jobId === undefined ? undefined : checkJobId(o.jobId, 'options.jobId') };
}
