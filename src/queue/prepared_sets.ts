/**
 * A worker's prepared support sets: one `createSupportSet()` handle per set version,
 * all sharing the worker's backbone and head. A handle is filled once with its
 * version's embeddings and never changed, so a job holding it is scored against
 * exactly that version even while a newer one arrives; concurrent jobs on different
 * versions run side by side. A superseded or least recently used handle is disposed
 * once no job uses it any more (classify reads the set after embedding, so a handle
 * must outlive every job that took it).
 */
import type { FewShotClassifier } from '../classifier/classifier.js';
import type { SupportSetHandle } from '../classifier/support_handle.js';
import type { VersionedSupport } from './support_store.js';

interface Entry {
  version: number;
  ready: Promise<SupportSetHandle>;
  users: number;
  retired: boolean;
}

/** Prepared support set handles by id and version, with reference counts. */
export class PreparedSets {
  readonly #classifier: FewShotClassifier;
  readonly #limit: number;
  /** Newest version per id, in least-recently-used order. */
  readonly #current = new Map<string, Entry>();

  constructor(classifier: FewShotClassifier, limit = 32) {
    this.#classifier = classifier;
    this.#limit = limit;
  }

  /** Runs `work` with the handle of `set`'s version, preparing it on first use. */
  async use<T>(set: VersionedSupport, work: (handle: SupportSetHandle) => Promise<T>): Promise<T> {
    let entry = this.#current.get(set.id);
    if (entry && entry.version === set.version) {
      this.#current.delete(set.id);
      this.#current.set(set.id, entry);
    } else if (entry && entry.version > set.version) {
      // A job that read the counter before a newer version was prepared: give it its own.
      entry = this.#prepare(set, true);
    } else {
      if (entry) this.#retire(entry);
      entry = this.#prepare(set, false);
      this.#current.delete(set.id);
      this.#current.set(set.id, entry);
      if (this.#current.size > this.#limit) {
        const [oldest, old] = this.#current.entries().next().value!;
        this.#current.delete(oldest);
        this.#retire(old);
      }
    }
    entry.users++;
    try {
      return await work(await entry.ready);
    } catch (err) {
      // A set that failed to prepare must not be reused by later jobs.
      if (this.#current.get(set.id) === entry) {
        this.#current.delete(set.id);
        entry.retired = true;
      }
      throw err;
    } finally {
      entry.users--;
      if (entry.retired && entry.users === 0) void dispose(entry);
    }
  }

  /** A new entry; `retired` ones (kept out of the map) go as soon as their job is done. */
  #prepare(set: VersionedSupport, retired: boolean): Entry {
    const handle = this.#classifier.createSupportSet();
    const ready = handle.importSupport(set.snapshot).then(
      () => handle,
      (err: unknown) => {
        handle.dispose();
        throw err;
      },
    );
    ready.catch(() => undefined);
    return { version: set.version, ready, users: 0, retired };
  }

  #retire(entry: Entry): void {
    entry.retired = true;
    if (entry.users === 0) void dispose(entry);
  }
}

async function dispose(entry: Entry): Promise<void> {
  try {
    (await entry.ready).dispose();
  } catch {
    // It never became a handle: nothing to free.
  }
}
