/**
 * Where the package lives and its version, from src/ (tsx) and dist/ (published) alike:
 * both are one level below the package root.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Package root (the directory holding package.json). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

let version: string | undefined;

/** Package version from package.json (read once). */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(resolve(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
