/**
 * Reads the ImageFolder layout (`root/<class>/<image>`) that torchvision and the
 * few-shot literature use. Classes and files are sorted by code unit so that a
 * seed gives the same episodes on every file system.
 */
import { readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { DatasetError } from './dataset_error.js';

/** File extensions treated as images (case-insensitive). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif'];

/** One class directory and its image files (absolute paths, sorted). */
export interface ImageFolderClass {
  name: string;
  files: string[];
}

/** A scanned dataset. */
export interface ImageFolder {
  root: string;
  classes: ImageFolderClass[];
}

/** True when `name` has an image extension and is not a hidden file. */
export function isImageFile(name: string): boolean {
  return !name.startsWith('.') && IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Throws DatasetError unless `dir` exists and is a directory; returns its absolute path. */
export function expectDirectory(dir: string, what = 'directory'): string {
  const abs = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (err) {
    throw new DatasetError(abs, `${what} does not exist or cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  if (!isDir) throw new DatasetError(abs, `${what} is not a directory`);
  return abs;
}

/** Sorted absolute paths of the image files directly inside `dir`. */
export function listImages(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && isImageFile(e.name))
    .map((e) => e.name)
    .sort(byCodeUnit)
    .map((name) => join(dir, name));
}

/**
 * Scans `root/<class>/<image>`. Hidden directories are ignored; a class directory
 * with no images is kept (with no files) so that size checks can name it.
 * @example
 * const folder = scanImageFolder('samples');
 * folder.classes.map((c) => `${c.name}: ${c.files.length}`);
 */
export function scanImageFolder(root: string): ImageFolder {
  const abs = expectDirectory(root, 'dataset directory');
  const classes = readdirSync(abs, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (e.isSymbolicLink() && statSync(join(abs, e.name)).isDirectory())))
    .map((e) => e.name)
    .sort(byCodeUnit)
    .map((name) => ({ name, files: listImages(join(abs, name)) }));
  if (classes.length === 0) {
    throw new DatasetError(abs, 'has no class subdirectories; expected the ImageFolder layout root/<class>/<image>');
  }
  return { root: abs, classes };
}
