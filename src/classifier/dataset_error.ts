import { LwfmError } from '../errors.js';

/**
 * A dataset directory cannot be used: missing, not in ImageFolder layout
 * (`root/<class>/<image>`), too few classes, or a class with too few images for
 * the requested episodes. The message names the directory and what is missing.
 * @example
 * try { await classifier.evaluate('./data', { way: 5, shot: 5, query: 15 }); }
 * catch (e) { if (e instanceof DatasetError) console.error(e.message); }
 */
export class DatasetError extends LwfmError {
  /** The directory (or class directory) at fault. */
  readonly path: string;
  constructor(path: string, problem: string, options?: { cause?: unknown }) {
    super(`Dataset ${path}: ${problem}`, 'ERR_LWFM_DATASET', options);
    this.path = path;
  }
}
