/**
 * Reads the ImageFolder layout (`root/<class>/<image>`) that torchvision and the
 * few-shot literature use. Classes and files are sorted by code unit so that a
 * seed gives the same episodes on every file system.
 */
import { readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { DatasetError } from './dataset_error.js';

/**
 * File extensions treated as images (case-insensitive): the raster formats that sharp's prebuilt
 * libvips decodes (`sharp.format[f].input.fileSuffix`). sharp does not decode BMP, HEIC, JPEG XL
 * or JPEG 2000 in its prebuilt binaries, so files with those extensions are reported as skipped
 * ({@link ImageFolder.skipped}) rather than failing later as unreadable.
 */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif'];

/** One class directory and its image files (absolute paths, sorted). */
export interface ImageFolderClass {
  name: string;
  files: string[];
}

/** A scanned dataset. */
export interface ImageFolder {
  root: string;
  classes: ImageFolderClass[];
  /** Files in class directories that were left out because they are not images sharp decodes (absolute paths, sorted). */
  skipped: string[];
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
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (err) {
    throw new DatasetError(abs, `${what} does not exist or cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: err,
    });
  }
  if (!isDir) throw new DatasetError(abs, `${what} is not a directory`);
  return abs;
}

/**
 * Sorted absolute paths of the image files directly inside `dir`. Other visible files are
 * appended to `skipped` when given (hidden files are never images and are not reported).
 */
export function listImages(dir: string, skipped?: string[]): string[] {
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byCodeUnit);
  if (skipped) for (const name of files) if (!isImageFile(name)) skipped.push(join(dir, name));
  return files.filter(isImageFile).map((name) => join(dir, name));
}

/**
 * One sentence about skipped files for a warning: how many, by extension, and a few examples.
 * @example
 * const folder = scanImageFolder('data');
 * if (folder.skipped.length > 0) console.warn(describeSkipped(folder.skipped));
 */
export function describeSkipped(skipped: readonly string[]): string {
  const byExt = new Map<string, number>();
  for (const f of skipped) {
    const ext = extname(f).toLowerCase() || '(no extension)';
    byExt.set(ext, (byExt.get(ext) ?? 0) + 1);
  }
  const kinds = [...byExt].map(([ext, n]) => `${n} ${ext}`).join(', ');
  const examples = skipped.slice(0, 3).join(', ') + (skipped.length > 3 ? ', ...' : '');
  return (
    `skipped ${skipped.length} ${skipped.length === 1 ? 'file that is not an image' : 'files that are not images'} sharp decodes (${kinds}): ${examples}. ` +
    `Supported: ${IMAGE_EXTENSIONS.join(' ')} (any case); convert other formats (e.g. BMP, HEIC) to PNG or JPEG to use them`
  );
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
  const skipped: string[] = [];
  const classes = readdirSync(abs, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (e.isSymbolicLink() && statSync(join(abs, e.name)).isDirectory())))
    .map((e) => e.name)
    .sort(byCodeUnit)
    .map((name) => ({ name, files: listImages(join(abs, name), skipped) }));
  if (classes.length === 0) {
    throw new DatasetError(abs, 'has no class subdirectories; expected the ImageFolder layout root/<class>/<image>');
  }
  return { root: abs, classes, skipped };
}
