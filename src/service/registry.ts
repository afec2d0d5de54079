/**
 * The service's support sets: id -> embeddings, labels and a prepared support on the
 * shared classifier (createSupportSet), optionally mirrored to a SupportStore. Sets are
 * kept as embeddings, never images: PATCH embeds only the added images.
 *
 * Concurrency: mutations of one id run one after another (two PATCHes never drop each
 * other's images); a classify that started on a set finishes on it even if the set is
 * replaced or deleted meanwhile (its handle is disposed when the last user leaves).
 * Memory is bounded by `maxSupportSets` and `maxSupportImages` (over all sets).
 */
import type { FewShotClassifier, SupportSnapshot } from '../classifier/classifier.js';
import type { Classification } from '../classifier/types.js';
import type { SupportSetHandle } from '../classifier/support_handle.js';
import type { ImageInputs } from '../classifier/inputs.js';
import type { Label } from '../classifier/labels.js';
import { HttpError } from './http_errors.js';
import { KeyedSerial } from './keyed_serial.js';
import { SUPPORT_SET_ID, type SupportStore } from './store.js';

/**
 * What the API reports about a set.
 * @example
 * const { id, way, shots, labels } = registry.get('cats');
 */
export interface SupportSetInfo {
  id: string;
  way: number;
  /** Support images per class, in label order. */
  shots: number[];
  labels: Label[];
  /** Support images in all. */
  size: number;
  createdAt: string;
  updatedAt: string;
}

interface Entry {
  id: string;
  /** Holds the only copy of the embeddings (exportSupport when a PATCH needs them). */
  handle: SupportSetHandle;
  info: SupportSetInfo;
  users: number;
  /** Replaced or deleted: dispose the handle when the last user leaves. */
  retired: boolean;
}

/** How a write relates to an existing set. */
export type WriteMode = 'create' | 'replace' | 'add';

/** Registry limits. */
export interface RegistryLimits {
  maxSupportSets: number;
  maxSupportImages: number;
}

/**
 * The registry.
 * @example
 * const registry = new SupportRegistry(classifier, { maxSupportSets: 100, maxSupportImages: 10_000 });
 * await registry.write('cats', 'create', snapshot);
 */
export class SupportRegistry {
  readonly #classifier: FewShotClassifier;
  readonly #store: SupportStore | undefined;
  readonly #limits: RegistryLimits;
  readonly #entries = new Map<string, Entry>();
  readonly #serial = new KeyedSerial();
  #images = 0;

  constructor(classifier: FewShotClassifier, limits: RegistryLimits, store?: SupportStore) {
    this.#classifier = classifier;
    this.#limits = limits;
    this.#store = store;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Support images held over all sets. */
  get images(): number {
    return this.#images;
  }

  /** Loads the store's sets (startup); returns how many were loaded. */
  async loadStored(onSkip: (file: string, reason: string) => void): Promise<number> {
    if (!this.#store) return 0;
    const sets = await this.#store.loadAll(onSkip);
    for (const s of sets) {
      if (this.#entries.size >= this.#limits.maxSupportSets || this.#images + s.snapshot.dims[0] > this.#limits.maxSupportImages) {
        onSkip(`${s.id}.lwfmsup`, 'the server holds its maximum number of support sets or images');
        continue;
      }
      await this.#install(s.id, s.snapshot, new Date(s.updatedAt).toISOString(), new Date(s.updatedAt).toISOString());
    }
    return sets.length;
  }

  list(): SupportSetInfo[] {
    return [...this.#entries.values()].map((e) => e.info).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: string): SupportSetInfo {
    return this.#entry(id).info;
  }

  /**
   * Creates, replaces or extends the set `id` with embedded images. `create` fails with 409
   * if it exists; `add` with 404 if it does not.
   */
  async write(id: string, mode: WriteMode, added: SupportSnapshot): Promise<SupportSetInfo> {
    checkId(id);
    return this.#serial.run(id, async () => {
      const old = this.#entries.get(id);
      if (mode === 'create' && old)
        throw new HttpError(409, 'ERR_LWFM_CONFLICT', `Support set '${id}' already exists; PUT replaces it, PATCH adds images`);
      if (mode === 'add' && !old) throw notFound(id);
      const n = added.dims[0];
      const base = mode === 'add' && old ? old.handle.exportSupport() : undefined;
      const features = base ? concat(base.features, added.features) : added.features;
      const rows = base ? [...base.labels, ...added.labels] : [...added.labels];
      const total = this.#images - (old?.info.size ?? 0) + rows.length;
      if (!old && this.#entries.size >= this.#limits.maxSupportSets) {
        throw new HttpError(
          507,
          'ERR_LWFM_CAPACITY',
          `The server holds its limit of ${this.#limits.maxSupportSets} support sets; delete one first`,
        );
      }
      if (total > this.#limits.maxSupportImages) {
        throw new HttpError(
          507,
          'ERR_LWFM_CAPACITY',
          `Adding ${n} support images would hold ${total}, over the server's limit of ${this.#limits.maxSupportImages} over all sets`,
        );
      }
      const snapshot: SupportSnapshot = { features, dims: [rows.length, added.dims[1], added.dims[2]], labels: rows };
      const now = new Date().toISOString();
      // Prepare first (validates labels), persist second, publish last: a failure leaves the old set.
      const entry = await this.#prepare(id, snapshot, old?.info.createdAt ?? now, now);
      try {
        await this.#store?.write(id, snapshot);
      } catch (err) {
        entry.handle.dispose();
        throw err;
      }
      this.#publish(entry, old);
      return entry.info;
    });
  }

  /** Deletes the set `id` (404 if absent). */
  async remove(id: string): Promise<void> {
    checkId(id);
    return this.#serial.run(id, async () => {
      const old = this.#entries.get(id);
      if (!old) throw notFound(id);
      await this.#store?.remove(id);
      this.#entries.delete(id);
      this.#images -= old.info.size;
      this.#retire(old);
    });
  }

  /** Classifies `images` against the set `id`. */
  async classify(id: string, images: ImageInputs): Promise<Classification> {
    const entry = this.#entry(id);
    entry.users++;
    try {
      return await entry.handle.classify(images);
    } finally {
      entry.users--;
      if (entry.retired && entry.users === 0) entry.handle.dispose();
    }
  }

  /** Waits for every mutation started so far, then for the store's writes. */
  async flush(): Promise<void> {
    await this.#serial.drain();
    await this.#store?.flush();
  }

  #entry(id: string): Entry {
    const e = typeof id === 'string' ? this.#entries.get(id) : undefined;
    if (!e) throw notFound(id);
    return e;
  }

  async #install(id: string, snapshot: SupportSnapshot, createdAt: string, updatedAt: string): Promise<void> {
    this.#publish(await this.#prepare(id, snapshot, createdAt, updatedAt), undefined);
  }

  async #prepare(id: string, snapshot: SupportSnapshot, createdAt: string, updatedAt: string): Promise<Entry> {
    const handle = this.#classifier.createSupportSet();
    try {
      const summary = await handle.importSupport(snapshot);
      const info: SupportSetInfo = {
        id,
        way: summary.way,
        shots: summary.shotsPerClass,
        labels: [...summary.labels],
        size: summary.size,
        createdAt,
        updatedAt,
      };
      return { id, handle, info, users: 0, retired: false };
    } catch (err) {
      handle.dispose();
      throw err;
    }
  }

  #publish(entry: Entry, old: Entry | undefined): void {
    this.#entries.set(entry.id, entry);
    this.#images += entry.info.size - (old?.info.size ?? 0);
    if (old) this.#retire(old);
  }

  #retire(entry: Entry): void {
    entry.retired = true;
    if (entry.users === 0) entry.handle.dispose();
  }
}

function checkId(id: string): void {
  if (typeof id !== 'string' || !SUPPORT_SET_ID.test(id)) {
    throw new HttpError(
      400,
      'ERR_LWFM_BAD_REQUEST',
      `Support set ids are 1-64 characters of letters, digits, '.', '_' and '-', starting with a letter or digit`,
    );
  }
}

function notFound(id: string): HttpError {
  return new HttpError(404, 'ERR_LWFM_NOT_FOUND', `No support set '${String(id).slice(0, 64)}'`);
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
