/** Options and help of `lwfm-spm worker` and `lwfm-spm queue` (distributed classification on Redis). */
import { MODEL_OPTIONS, MODEL_OPTIONS_HELP, type CommandSpec } from './args.js';

const EXIT_CODES = `Exit codes: 0 success, 1 failure (Redis unreachable, failed jobs, ...), 2 usage error.`;

const QUEUE_OPTIONS_HELP = `  -r, --redis URL     Redis to use, redis://HOST:PORT (required)
      --queue NAME    queue name (default lwfm-spm)
      --prefix P      BullMQ key prefix (default bull; for Redis Cluster a hash tag: {lwfm})`;

export const workerSpec: CommandSpec = {
  name: 'worker',
  summary: 'classify jobs from a Redis queue (run any number, on any number of machines)',
  options: {
    ...MODEL_OPTIONS,
    redis: { type: 'string', short: 'r' },
    queue: { type: 'string' },
    prefix: { type: 'string' },
    concurrency: { type: 'string' },
    shared: { type: 'boolean' },
    'lock-ms': { type: 'string' },
    'max-job-bytes': { type: 'string' },
  },
  help: `Usage: lwfm-spm worker --redis redis://HOST:PORT [options]

Loads the model once and classifies jobs from a BullMQ queue on Redis until stopped
(SIGINT/SIGTERM: running jobs finish first). Producers use ClassificationQueue from
'lwfm-spm/queue' or 'lwfm-spm queue classify'. Every worker must load the model the
support sets were embedded with (checked by fingerprint). A worker that dies loses
nothing: its jobs are taken over by another once their lock lapses (--lock-ms).
Malformed jobs fail with an error code (see 'lwfm-spm queue status'); the worker goes on.

Options:
${QUEUE_OPTIONS_HELP}
      --concurrency N jobs at once (default 2)
      --shared        accept jobs naming image paths on a shared filesystem
      --lock-ms MS    job lock duration; a dead worker's jobs are retaken after
                      about this long (default 30000)
      --max-job-bytes B  largest encoded images per job (default 16777216)
${MODEL_OPTIONS_HELP}
  -h, --help          show this help

${EXIT_CODES}`,
};

export const queueSpec: CommandSpec = {
  name: 'queue',
  summary: 'queue status (counts, failed jobs) or classify a folder through the queue',
  positionals: true,
  options: {
    redis: { type: 'string', short: 'r' },
    queue: { type: 'string' },
    prefix: { type: 'string' },
    failed: { type: 'string' },
    support: { type: 'string', short: 's' },
    'support-set': { type: 'string' },
    query: { type: 'string', short: 'q', multiple: true },
    'batch-size': { type: 'string' },
    shared: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  help: `Usage: lwfm-spm queue status --redis URL [--failed N] [--json]
       lwfm-spm queue classify --redis URL --support DIR --query DIR|FILE... [options]

status    job counts by state, registered workers, and the newest failed jobs
          (the dead-letter view) with their error codes.
classify  stores the support folder (DIR/<class>/<image>) as a support set, embedded
          by a worker, then classifies the query images through the queue in jobs of
          --batch-size and prints one line per image in input order (JSON lines with --json).

Options:
${QUEUE_OPTIONS_HELP}
      --failed N      failed jobs to list (default 20)
  -s, --support DIR   support images, DIR/<class>/<image>
      --support-set ID  name to store the support set under (default: the folder name)
  -q, --query PATH    query image or directory; repeatable
      --batch-size N  images per job (default 16)
      --shared        send paths instead of bytes (workers started with --shared)
      --json          JSON output
  -h, --help          show this help

${EXIT_CODES}`,
};
