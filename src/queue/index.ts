/**
 * lwfm-spm/queue: distributed batch classification on Redis with BullMQ. Producers
 * store support sets and submit query images; workers (any number, on any number of
 * machines) load the model once and classify.
 * @packageDocumentation
 */
export { ClassificationQueue } from './producer.js';
export type { ClassificationQueueOptions, ClassifyHandle, ClassifyManyOptions, StoredSupport, SubmitOptions } from './producer.js';
export { startWorker } from './worker.js';
export type { QueueWorker, WorkerOptions } from './worker.js';
export { QueueJobError, DEFAULT_MAX_JOB_BYTES, MAX_JOB_IMAGES } from './protocol.js';
export type { QueueClassification } from './results.js';
export type { FailedJob, QueueStatus } from './status.js';
export type { QueueConnection } from './connection.js';
export { DEFAULT_PREFIX, DEFAULT_QUEUE } from './names.js';
