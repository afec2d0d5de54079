/**
 * Waiting for a job to finish. Queue events (a Redis stream) wake waiters at once; a
 * poll every second backs them up, because events sent while a producer was
 * disconnected (a Redis restart) may never reach it. Either way the job's state in
 * Redis is what counts.
 */
import { QueueEvents, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QueueJobError, parseFailure } from './protocol.js';

const POLL_MS = 1000;

/** The outcome of a finished job. */
export type JobOutcome = { state: 'completed'; value: unknown } | { state: 'failed'; code: string; message: string };

/** Wakes the waiters of a queue's jobs. One per producer, started on first use. */
export class JobWaiter {
  readonly #queue: Queue;
  readonly #redis: Redis;
  readonly #wakers = new Map<string, Set<() => void>>();
  #events: QueueEvents | undefined;

  constructor(queue: Queue, redis: Redis) {
    this.#queue = queue;
    this.#redis = redis;
  }

  /** Resolves with the job's outcome once it is completed or failed for good. */
  async wait(jobId: string, timeoutMs: number): Promise<JobOutcome> {
    this.#listen();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Armed before the state is read, so a completion in between is not missed.
      const woken = this.#arm(jobId, Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
      const outcome = await this.#read(jobId);
      if (outcome) {
        woken.cancel();
        return outcome;
      }
      if (Date.now() >= deadline) {
        woken.cancel();
        throw new QueueJobError(
          `Job ${jobId} did not finish within ${timeoutMs} ms (is a worker running?)`,
          'ERR_LWFM_QUEUE_TIMEOUT',
          jobId,
        );
      }
      await woken.promise;
    }
  }

  async close(): Promise<void> {
    await this.#events?.close();
    this.#events = undefined;
  }

  async #read(jobId: string): Promise<JobOutcome | undefined> {
    const state = await this.#queue.getJobState(jobId);
    if (state === 'unknown')
      throw new QueueJobError(
        `No job ${jobId} in queue ${this.#queue.name} (removed, expired or never added)`,
        'ERR_LWFM_QUEUE_NO_JOB',
        jobId,
      );
    if (state !== 'completed' && state !== 'failed') return undefined;
    // Only the fields needed: the job hash also holds its images.
    const [value, reason] = await this.#redis.hmget(this.#queue.toKey(jobId), 'returnvalue', 'failedReason');
    if (state === 'failed') return { state, ...parseFailure(reason ?? undefined) };
    let parsed: unknown;
    try {
      parsed = JSON.parse(value ?? 'null');
    } catch {
      parsed = null;
    }
    return { state, value: parsed };
  }

  #arm(jobId: string, ms: number): { promise: Promise<void>; cancel: () => void } {
    let wake!: () => void;
    const promise = new Promise<void>((resolve) => (wake = resolve));
    const timer = setTimeout(() => done(), ms);
    const set = this.#wakers.get(jobId) ?? new Set();
    this.#wakers.set(jobId, set);
    const done = (): void => {
      clearTimeout(timer);
      set.delete(done);
      if (set.size === 0 && this.#wakers.get(jobId) === set) this.#wakers.delete(jobId);
      wake();
    };
    set.add(done);
    return { promise, cancel: done };
  }

  #listen(): void {
    if (this.#events) return;
    const events = new QueueEvents(this.#queue.name, { connection: this.#redis, prefix: this.#queue.opts.prefix });
    const wake = ({ jobId }: { jobId: string }): void => {
      for (const done of [...(this.#wakers.get(jobId) ?? [])]) done();
    };
    events.on('completed', wake);
    events.on('failed', wake);
    // Reconnects are BullMQ's; the poll covers what is missed meanwhile.
    events.on('error', () => undefined);
    this.#events = events;
  }
}
