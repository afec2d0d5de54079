/** Where the CLI finds package files, from src/cli (tsx) or dist/cli (published) alike. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';

/** Package root (two levels above this file). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The bundled sample ImageFolder used by `lwfm-spm demo`. */
export const samplesDir = resolve(packageRoot, 'samples');

/** Package version from package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(resolve(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}
