/**
 * Producer side of a job's images: bytes (files are read here, so workers need no
 * shared filesystem) or, when the caller opts in with `shared`, absolute paths.
 * Size limits are checked before anything is sent, with an error naming the sizes.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ImageInput } from '../backbone/types.js';
import { countInputs } from '../classifier/inputs.js';
import { expectedMessage } from '../validate.js';
import { MAX_JOB_IMAGES, tooLarge } from './protocol.js';

const READ_AHEAD = 16;

/** A job's images ready for the payload, and how to name each one in results. */
export interface PreparedImages {
  payload: { images: string[] } | { paths: string[] };
  /** The caller's path for each input (undefined for in-memory bytes). */
  sources: (string | undefined)[];
  /** Files this producer could not read: their slots report this error. */
  readErrors: Map<number, Error>;
}

/** Checks and encodes the images of one job. */
export async function prepareImages(images: unknown, name: string, shared: boolean, maxJobBytes: number): Promise<PreparedImages> {
  if (!Array.isArray(images))
    throw new TypeError(expectedMessage('array of image paths or Buffers (tensors do not travel through the queue)', name, images));
  const n = countInputs(images, name);
  if (n === 0) throw new RangeError(expectedMessage('at least one image', name, images));
  if (n > MAX_JOB_IMAGES) throw new RangeError(expectedMessage(`at most ${MAX_JOB_IMAGES} images per job`, name, images));
  const list = images as ImageInput[];
  const sources = list.map((s) => (typeof s === 'string' ? s : undefined));
  if (shared) {
    list.forEach((s, i) => {
      if (typeof s !== 'string')
        throw new TypeError(expectedMessage('file path (shared: true sends paths, not bytes)', `${name}[${i}]`, s));
    });
    return { payload: { paths: list.map((s) => resolve(s as string)) }, sources, readErrors: new Map() };
  }
  const readErrors = new Map<number, Error>();
  // At most READ_AHEAD files open at once: a 4096-image job must not hit EMFILE.
  const bytes: Uint8Array[] = new Array<Uint8Array>(list.length);
  let next = 0;
  let oversized: number | undefined;
  const reader = async (): Promise<void> => {
    while (next < list.length) {
      const i = next++;
      const s = list[i]!;
      if (typeof s !== 'string') {
        bytes[i] = s;
        continue;
      }
      try {
        // A file over the whole job's limit is refused before it is read into memory.
        const size = (await stat(s)).size;
        if (size > maxJobBytes) oversized = size;
        else bytes[i] = await readFile(s);
      } catch (err) {
        // An unreadable image is a result, as in-process: its slot carries the error.
        readErrors.set(i, err as Error);
        bytes[i] = new Uint8Array(0);
      }
      if (oversized !== undefined) return;
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_AHEAD, list.length) }, reader));
  if (oversized !== undefined) throw tooLarge(oversized, maxJobBytes, 'this producer (maxJobBytes)');
  const total = bytes.reduce((a, b) => a + b.byteLength, 0);
  if (total > maxJobBytes) throw tooLarge(total, maxJobBytes, 'this producer (maxJobBytes)');
  return {
    payload: { images: bytes.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')) },
    sources,
    readErrors,
  };
}
