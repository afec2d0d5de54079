/** Names shared by producers, workers and the CLI: defaults, checks, the model identity. */
import type { FewShotClassifier } from '../classifier/classifier.js';
import type { SupportModelIdentity } from '../classifier/support_codec.js';
import { expectedMessage } from '../validate.js';

/**
 * Default queue name.
 * @example
 * new ClassificationQueue({ connection, queue: DEFAULT_QUEUE });
 */
export const DEFAULT_QUEUE = 'lwfm-spm';
/**
 * Default BullMQ key prefix. For Redis Cluster give a hash tag, e.g. `'{lwfm}'`, so that
 * all of a queue's keys share one slot.
 * @example
 * new ClassificationQueue({ connection, prefix: '{lwfm}' });
 */
export const DEFAULT_PREFIX = 'bull';

/** A queue name or key prefix: letters, digits, `._-` and braces (no ':', BullMQ's separator). */
export function expectQueueName(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9._{}-]{1,100}$/.test(value)) {
    throw new TypeError(expectedMessage('name of 1-100 characters [A-Za-z0-9._{}-]', name, value));
  }
  return value;
}

/** The identity a support set's bytes record: which model made the embeddings. */
export function modelIdentity(classifier: FewShotClassifier): SupportModelIdentity {
  const m = classifier.info().model;
  return { channels: m.channels, featureSize: m.featureSize, crop: m.crop, fingerprint: m.fingerprint };
}
