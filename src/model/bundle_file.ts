/**
 * Reads one file of a model bundle defensively. A bundle path may name anything: a
 * symlink to /dev/zero (readFile would read until memory runs out), a FIFO (readFile
 * would wait for a writer forever), a directory, or a file far larger than any model.
 * So the file is opened without blocking, the opened descriptor is fstat'ed (not the
 * path, which could be swapped between a stat and the open), and only a regular file
 * within `maxBytes` is read, and then only the size fstat reported.
 */
import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { ModelBundleError } from '../errors.js';

/** model.json is a few hundred bytes; 1 MiB leaves room for provenance without inviting abuse. */
export const MAX_MODEL_JSON_BYTES = 1 << 20;
/** ONNX models are single protobuf messages, which protobuf limits to 2 GiB. */
export const MAX_ONNX_BYTES = 2 ** 31 - 1;

function kindOf(s: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/**
 * Reads `file` if it is a regular file (after following symlinks) of at most `maxBytes`
 * bytes; otherwise throws ModelBundleError naming the file and saying what it is.
 * @example const bytes = await readBundleFile(join(dir, 'model.json'), MAX_MODEL_JSON_BYTES);
 */
export async function readBundleFile(file: string, maxBytes: number): Promise<Buffer> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT' ? 'file is missing' : code === 'ELOOP' ? 'is a symlink loop' : `cannot be opened (${code ?? (e as Error).message})`;
    throw new ModelBundleError(file, problem, { cause: e });
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new ModelBundleError(file, `is ${kindOf(st)}, expected a regular file`);
    if (st.size > maxBytes) throw new ModelBundleError(file, `is ${st.size} bytes, more than the ${maxBytes} bytes allowed for this file`);
    const out = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < st.size) {
      const { bytesRead } = await handle.read(out, got, st.size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    // A file that shrank while being read is reported rather than parsed half-read.
    if (got !== st.size) throw new ModelBundleError(file, `changed while being read (${got} of ${st.size} bytes)`);
    return out;
  } catch (e) {
    if (e instanceof ModelBundleError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelBundleError(file, `cannot be read (${code ?? (e as Error).message})`, { cause: e });
  } finally {
    await handle.close();
  }
}

/**
 * Whether anything exists at `file` (a dangling symlink counts, so that it is reported
 * by readBundleFile instead of silently treated as absent).
 * @example if (await bundleEntryExists(join(dir, 'matcher.safetensors'))) { ... }
 */
export async function bundleEntryExists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}
