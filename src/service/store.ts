/**
 * Support sets on disk: one file per set, `<id>.lwfmsup`, in the support codec's
 * format. Writes are atomic and durable: a temporary file in the same directory is
 * written and fsynced, renamed over the old one, and the directory is fsynced, so a
 * crash leaves either the old set or the new one, never a torn file. Ids are checked
 * against SUPPORT_SET_ID before they become file names, so no request can name a path.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeSupportSnapshot, encodeSupportSnapshot, type SupportModelIdentity } from '../classifier/support_codec.js';
import type { SupportSnapshot } from '../classifier/classifier.js';
import { LwfmError } from '../errors.js';
import { KeyedSerial } from './keyed_serial.js';

/**
 * Support set ids: 1-64 characters of letters, digits, '.', '_' and '-', starting with a
 * letter or digit (so never '.', '..' or a hidden file).
 * @example
 * SUPPORT_SET_ID.test('cats-v2'); // true
 */
export const SUPPORT_SET_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const SUFFIX = '.lwfmsup';

/** A stored set as loaded at startup. */
export interface StoredSet {
  id: string;
  snapshot: SupportSnapshot;
  /** Milliseconds since the epoch of the last write. */
  updatedAt: number;
}

/**
 * The directory store.
 * @example
 * const store = await SupportStore.open('/var/lib/lwfm', classifier.info().model);
 * await store.write('cats', classifier.exportSupport());
 */
export class SupportStore {
  readonly dir: string;
  readonly #model: SupportModelIdentity;
  /** Two writes of one id land in call order. */
  readonly #serial = new KeyedSerial();

  private constructor(dir: string, model: SupportModelIdentity) {
    this.dir = dir;
    this.#model = model;
  }

  /** Creates the directory if needed. */
  static async open(dir: string, model: SupportModelIdentity): Promise<SupportStore> {
    await mkdir(dir, { recursive: true });
    return new SupportStore(dir, model);
  }

  /**
   * Every readable set of this model. Files that fail to decode or belong to another model
   * are reported through `onSkip` and left in place (an operator may still want them).
   */
  async loadAll(onSkip: (file: string, reason: string) => void): Promise<StoredSet[]> {
    const out: StoredSet[] = [];
    const entries = await readdir(this.dir, { withFileTypes: true });
    for (const e of entries) {
      if (!e.isFile()) continue;
      if (e.name.startsWith('.tmp-')) {
        await rm(join(this.dir, e.name), { force: true }); // left by a crash mid-write
        continue;
      }
      if (!e.name.endsWith(SUFFIX)) continue;
      const id = e.name.slice(0, -SUFFIX.length);
      if (!SUPPORT_SET_ID.test(id)) {
        onSkip(e.name, 'file name is not a valid support set id');
        continue;
      }
      const file = join(this.dir, e.name);
      try {
        const bytes = await readFile(file);
        const { snapshot } = decodeSupportSnapshot(bytes, { expect: this.#model });
        const { mtimeMs } = await stat(file);
        out.push({ id, snapshot, updatedAt: Math.round(mtimeMs) });
      } catch (err) {
        onSkip(e.name, err instanceof Error ? err.message : String(err));
      }
    }
    return out;
  }

  /** Writes (creates or replaces) the set `id` durably. */
  async write(id: string, snapshot: SupportSnapshot): Promise<void> {
    const file = join(this.dir, `${checkId(id)}${SUFFIX}`);
    const bytes = encodeSupportSnapshot(snapshot, this.#model);
    return this.#chain(id, () => this.#writeAtomic(file, bytes));
  }

  /** Removes the set `id` (no error if it was not stored). */
  async remove(id: string): Promise<void> {
    const file = join(this.dir, `${checkId(id)}${SUFFIX}`);
    return this.#chain(id, async () => {
      await unlink(file).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
      await this.#syncDir();
    });
  }

  /** Resolves when every write and removal started so far has finished. */
  flush(): Promise<void> {
    return this.#serial.drain();
  }

  #chain(id: string, op: () => Promise<void>): Promise<void> {
    return this.#serial.run(id, op).catch((err: unknown) => {
      throw new LwfmError(`Cannot write support set '${id}' to the store: ${(err as Error).message}`, 'ERR_LWFM_STORE', { cause: err });
    });
  }

  async #writeAtomic(file: string, bytes: Buffer): Promise<void> {
    const tmp = join(this.dir, `.tmp-${randomBytes(6).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await this.#syncDir();
  }

  /** fsync of the directory makes the rename (or unlink) itself durable. */
  async #syncDir(): Promise<void> {
    const fh = await open(this.dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}

function checkId(id: string): string {
  if (!SUPPORT_SET_ID.test(id))
    throw new RangeError(`Expected a support set id matching ${SUPPORT_SET_ID} but received ${JSON.stringify(id).slice(0, 80)}`);
  return id;
}
