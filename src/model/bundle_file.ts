/**
 * Reads one file of a model bundle defensively: only a regular file within a size limit
 * (see src/regular_file.ts for why), with ModelBundleError naming the file otherwise.
 */
import { lstat } from 'node:fs/promises';
import { ModelBundleError } from '../errors.js';
import { FileCheckError, readRegularFile } from '../regular_file.js';

/** model.json is a few hundred bytes; 1 MiB leaves room for provenance without inviting abuse. */
export const MAX_MODEL_JSON_BYTES = 1 << 20;
/** ONNX models are single protobuf messages, which protobuf limits to 2 GiB. */
export const MAX_ONNX_BYTES = 2 ** 31 - 1;

/**
 * Reads `file` if it is a regular file (after following symlinks) of at most `maxBytes`
 * bytes; otherwise throws ModelBundleError naming the file and saying what it is.
 * @example const bytes = await readBundleFile(join(dir, 'model.json'), MAX_MODEL_JSON_BYTES);
 */
export async function readBundleFile(file: string, maxBytes: number): Promise<Buffer> {
  try {
    return await readRegularFile(file, maxBytes);
  } catch (e) {
    if (e instanceof FileCheckError) throw new ModelBundleError(file, e.problem, { cause: e.cause ?? e });
    throw e;
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
