/**
 * Reads a file only if it is what it claims to be. A path may name anything: a symlink to
 * /dev/zero (reading would run until memory runs out), a FIFO (reading would wait for a
 * writer forever), a directory, or a file far larger than anything legitimate. So the
 * file is opened without blocking, the opened descriptor is fstat'ed (not the path, which
 * could be swapped between a stat and the open), and only a regular file within
 * `maxBytes` is read, and then only the size fstat reported. Used for model bundle files
 * and for image paths.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Why a file was not read: `kind` is stable, `problem` is a phrase for an error message. */
export class FileCheckError extends Error {
  constructor(
    readonly kind: 'missing' | 'unreadable' | 'not-a-file' | 'too-large' | 'changed',
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(problem, options);
  }
}

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
 * bytes; otherwise throws FileCheckError saying what it is.
 * @example const bytes = await readRegularFile('cat.jpg', 64 << 20);
 */
export async function readRegularFile(file: string, maxBytes: number): Promise<Buffer> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new FileCheckError('missing', 'file is missing', { cause: e });
    if (code === 'ELOOP') throw new FileCheckError('unreadable', 'is a symlink loop', { cause: e });
    throw new FileCheckError('unreadable', `cannot be opened (${code ?? (e as Error).message})`, { cause: e });
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new FileCheckError('not-a-file', `is ${kindOf(st)}, expected a regular file`);
    if (st.size > maxBytes)
      throw new FileCheckError('too-large', `is ${st.size} bytes, more than the ${maxBytes} bytes allowed for this file`);
    const out = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < st.size) {
      const { bytesRead } = await handle.read(out, got, st.size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    // A file that shrank while being read is reported rather than parsed half-read.
    if (got !== st.size) throw new FileCheckError('changed', `changed while being read (${got} of ${st.size} bytes)`);
    return out;
  } catch (e) {
    if (e instanceof FileCheckError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileCheckError('unreadable', `cannot be read (${code ?? (e as Error).message})`, { cause: e });
  } finally {
    await handle.close();
  }
}
