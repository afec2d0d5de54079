/** The dead-letter view: job counts by state and the failed jobs with their error codes. */
import type { Queue } from 'bullmq';
import { parseFailure } from './protocol.js';

/**
 * A failed job as the dead-letter view lists it.
 * @example
 * for (const f of (await q.status()).failed) console.log(f.id, f.code, f.message);
 */
export interface FailedJob {
  id: string;
  name: string;
  /** Error code, e.g. `ERR_LWFM_QUEUE_JOB` (malformed) or `ERR_LWFM_QUEUE_TRANSIENT` (retries exhausted). */
  code: string;
  message: string;
  attemptsMade: number;
  /** When it failed for good (ms since the epoch). */
  finishedOn: number | undefined;
}

/**
 * What `queue status` shows.
 * @example
 * const { counts, workers, failed } = await q.status();
 * console.log(counts.waiting, counts.active, counts.failed, workers);
 */
export interface QueueStatus {
  queue: string;
  counts: Record<'waiting' | 'active' | 'delayed' | 'completed' | 'failed' | 'prioritized' | 'waiting-children', number>;
  /** Worker connections registered with the queue. */
  workers: number;
  /** The newest failed jobs (at most `failedLimit`). */
  failed: FailedJob[];
}

/** Reads a queue's status. */
export async function readQueueStatus(queue: Queue, failedLimit: number): Promise<QueueStatus> {
  const states = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;
  const [raw, workers, jobs] = await Promise.all([
    queue.getJobCounts(...states),
    queue.getWorkersCount(),
    failedLimit > 0 ? queue.getFailed(0, failedLimit - 1) : Promise.resolve([]),
  ]);
  const counts = Object.fromEntries(states.map((s) => [s, raw[s] ?? 0])) as QueueStatus['counts'];
  const failed = jobs
    .filter((j) => j !== undefined && j !== null)
    .map((j) => {
      const { code, message } = parseFailure(j.failedReason);
      return { id: String(j.id), name: j.name, code, message, attemptsMade: j.attemptsMade, finishedOn: j.finishedOn };
    });
  return { queue: queue.name, counts, workers, failed };
}
