/**
 * A queue worker: loads the model once, takes `classify` and `support` jobs from a
 * BullMQ queue and stores each result in its job. Delivery is at-least-once: a job
 * whose worker dies is found stalled after its lock lapses and run again elsewhere;
 * BullMQ only accepts a completion from the lock's holder, so a job's result is
 * stored once. Failures are sorted: bad input fails the job at once with its error
 * code (retrying cannot help); anything else (Redis gone, a backbone worker crashed)
 * is retried with backoff. No job, however malformed, can crash the worker.
 */
import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { FewShotClassifier } from '../classifier/classifier.js';
import { ImageDecodeError, LwfmError } from '../errors.js';
import { expectOneOf, expectOptions, expectPositiveInteger, expectedMessage } from '../validate.js';
import { closeConnection, openConnection, type QueueConnection } from './connection.js';
import { DEFAULT_MAX_JOB_BYTES, JOB_CLASSIFY, JOB_SUPPORT, QueueJobError, decodePayload, failureReason } from './protocol.js';
import { toWire } from './results.js';
import { PreparedSets } from './prepared_sets.js';
import { SupportCache, putSupport, supportKey } from './support_store.js';
import { DEFAULT_PREFIX, DEFAULT_QUEUE, expectQueueName, modelIdentity } from './names.js';

/**
 * Options of `startWorker`.
 * @example
 * await startWorker({ connection: 'redis://127.0.0.1:6379', queue: 'lwfm-spm', concurrency: 2, model: './my-model' });
 */
export interface WorkerOptions {
  connection: QueueConnection;
  /** Queue name (default 'lwfm-spm'). */
  queue?: string;
  /** BullMQ key prefix (default 'bull'). */
  prefix?: string;
  /** Jobs run at once (default 2: one embeds while the next one's data is fetched). */
  concurrency?: number;
  /** Model bundle directory (default: the embedded default model). */
  model?: string;
  device?: 'auto' | 'cpu' | 'cuda';
  threads?: number;
  /** Backbone worker threads. */
  workers?: number;
  /** A classifier to use instead of loading one (it is not disposed on close). */
  classifier?: FewShotClassifier;
  /** Accept jobs that name image paths on a filesystem shared with the producers (default false). */
  shared?: boolean;
  /** Largest encoded image bytes per job (default 16 MiB); larger jobs fail with ERR_LWFM_QUEUE_PAYLOAD_TOO_LARGE. */
  maxJobBytes?: number;
  /** How long a job's lock lasts without renewal (default 30000 ms): a dead worker's jobs are retaken after about this long. */
  lockDurationMs?: number;
  /** Gets one line per notable event (job failed, Redis error). Default: none. */
  onLog?: (line: string) => void;
}

/**
 * A running worker.
 * @example
 * const worker = await startWorker({ connection: 'redis://127.0.0.1:6379' });
 * process.on('SIGTERM', () => void worker.close());
 */
export interface QueueWorker {
  /** `host:pid`, as recorded in each result. */
  readonly id: string;
  /** Jobs completed and failed (each attempt) by this worker so far. */
  readonly completed: number;
  readonly failed: number;
  /** Stops taking jobs, waits for the running ones, closes Redis and the model. */
  close(): Promise<void>;
}

/**
 * Starts a worker for a classification queue. Every worker (any number, on any
 * number of machines) must load the same model as the producers' support sets.
 * @example
 * import { startWorker } from 'lwfm-spm/queue';
 * const worker = await startWorker({ connection: 'redis://10.0.0.5:6379', model: './my-model', concurrency: 2 });
 */
export async function startWorker(options: WorkerOptions): Promise<QueueWorker> {
  const o = checkWorkerOptions(options);
  const { redis, owned } = openConnection(o.connection, 'options.connection');
  let classifier: FewShotClassifier | undefined;
  try {
    classifier = o.classifier ?? (await FewShotClassifier.load(o.model, { device: o.device, threads: o.threads, workers: o.workers }));
    return await runWorker(o, redis, classifier, !o.classifier, owned);
  } catch (err) {
    if (classifier && !o.classifier) await classifier.dispose();
    if (owned) await closeConnection(redis);
    throw err;
  }
}

type Checked = Required<Pick<WorkerOptions, 'queue' | 'prefix' | 'concurrency' | 'shared' | 'maxJobBytes' | 'lockDurationMs' | 'device'>> &
  WorkerOptions;

async function runWorker(
  o: Checked,
  redis: Redis,
  classifier: FewShotClassifier,
  ownsClassifier: boolean,
  ownsRedis: boolean,
): Promise<QueueWorker> {
  const id = `${hostname()}:${process.pid}`;
  const log = o.onLog ?? (() => undefined);
  const model = modelIdentity(classifier);
  const keyOf = (set: string): string => supportKey(o.prefix, o.queue, set);
  const cache = new SupportCache(redis, keyOf, model);
  const prepared = new PreparedSets(classifier);
  const limits = { maxJobBytes: o.maxJobBytes, shared: o.shared };
  let completed = 0;
  let failed = 0;

  const classify = async (job: Job): Promise<unknown> => {
    const p = decodePayload(job.data, limits, false);
    const set = await cache.get(p.supportSetId);
    return prepared.use(set, async (handle) => toWire(await handle.classify(p.images.images), set.id, set.version, id));
  };

  const support = async (job: Job): Promise<unknown> => {
    const p = decodePayload(job.data, limits, true);
    const embedded = await classifier.embed(p.images.images);
    const bad = embedded.errors.find((e) => e !== null);
    if (bad) throw bad;
    const version = await putSupport(
      redis,
      keyOf(p.supportSetId),
      { features: embedded.data, dims: embedded.dims, labels: p.labels! },
      model,
    );
    return { v: 1, supportSetId: p.supportSetId, supportVersion: version, size: embedded.dims[0], worker: id };
  };

  const worker = new Worker(
    o.queue,
    async (job: Job) => {
      try {
        if (job.name === JOB_CLASSIFY) return await classify(job);
        if (job.name === JOB_SUPPORT) return await support(job);
        throw new QueueJobError(
          `Unknown job name ${JSON.stringify(String(job.name).slice(0, 40))}: expected '${JOB_CLASSIFY}' or '${JOB_SUPPORT}'`,
          'ERR_LWFM_QUEUE_JOB',
        );
      } catch (err) {
        throw asJobFailure(err);
      }
    },
    {
      connection: redis,
      prefix: o.prefix,
      concurrency: o.concurrency,
      lockDuration: o.lockDurationMs,
      stalledInterval: o.lockDurationMs,
      // A job may be orphaned by several crashed workers before one finishes it.
      maxStalledCount: 5,
      autorun: true,
    },
  );
  worker.on('completed', () => void completed++);
  worker.on('failed', (job, err) => {
    failed++;
    log(`job ${job?.id ?? '?'} failed (attempt ${job?.attemptsMade ?? '?'}): ${err.message}`);
  });
  // Without an 'error' listener an emitted error would be thrown and end the process.
  worker.on('error', (err) => log(`worker error: ${err.message}`));
  redis.on('error', (err: Error) => log(`redis: ${err.message}`));
  await worker.waitUntilReady();

  let closing: Promise<void> | undefined;
  return {
    id,
    get completed() {
      return completed;
    },
    get failed() {
      return failed;
    },
    close() {
      closing ??= (async () => {
        await worker.close();
        if (ownsClassifier) await classifier.dispose();
        if (ownsRedis) await closeConnection(redis);
      })();
      return closing;
    },
  };
}

/**
 * Bad input fails the job for good, with its code; the rest (Redis, a crashed backbone
 * worker, shutting down) is thrown as a plain error so BullMQ retries it with backoff.
 */
function asJobFailure(err: unknown): Error {
  const code =
    err instanceof LwfmError
      ? err.code
      : err instanceof TypeError || err instanceof RangeError
        ? 'ERR_LWFM_QUEUE_BAD_INPUT'
        : 'ERR_LWFM_QUEUE_TRANSIENT';
  const message = err instanceof Error ? err.message : String(err);
  const permanent =
    err instanceof QueueJobError || err instanceof ImageDecodeError || err instanceof TypeError || err instanceof RangeError;
  return permanent ? new UnrecoverableError(failureReason(code, message)) : new Error(failureReason(code, message));
}

function checkWorkerOptions(options: unknown): Checked {
  const o = expectOptions(options, 'options') as Partial<WorkerOptions>;
  if (o.connection === undefined)
    throw new TypeError(expectedMessage('Redis connection (URL, ioredis options or client)', 'options.connection', o.connection));
  if (o.classifier !== undefined && !(o.classifier instanceof FewShotClassifier))
    throw new TypeError(expectedMessage('FewShotClassifier', 'options.classifier', o.classifier));
  if (o.onLog !== undefined && typeof o.onLog !== 'function') throw new TypeError(expectedMessage('function', 'options.onLog', o.onLog));
  if (o.model !== undefined && (typeof o.model !== 'string' || o.model === ''))
    throw new TypeError(expectedMessage('model bundle directory', 'options.model', o.model));
  if (o.shared !== undefined && typeof o.shared !== 'boolean') throw new TypeError(expectedMessage('boolean', 'options.shared', o.shared));
  return {
    ...o,
    connection: o.connection,
    queue: expectQueueName(o.queue ?? DEFAULT_QUEUE, 'options.queue'),
    prefix: expectQueueName(o.prefix ?? DEFAULT_PREFIX, 'options.prefix'),
    concurrency: expectPositiveInteger(o.concurrency ?? 2, 'options.concurrency', 1024),
    device: expectOneOf(o.device ?? 'auto', 'options.device', ['auto', 'cpu', 'cuda'] as const),
    shared: o.shared ?? false,
    maxJobBytes: expectPositiveInteger(o.maxJobBytes ?? DEFAULT_MAX_JOB_BYTES, 'options.maxJobBytes', 512 * 1024 * 1024),
    lockDurationMs: expectPositiveInteger(o.lockDurationMs ?? 30_000, 'options.lockDurationMs', 3_600_000),
  };
}
