/**
 * Tests that run the compiled package (dist/) check first that it is not older than src/
 * (`npm test` recompiles it first: scripts/fresh-dist.mjs).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

function newestMtime(dir: string, suffix: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(suffix))
      newest = Math.max(newest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

/** Why dist/ cannot stand for the sources (missing or older than a src/ file), or undefined when it can. */
export function staleDist(): string | undefined {
  const dist = join(repoRoot, 'dist');
  if (!existsSync(join(dist, 'index.js'))) return 'dist/ is missing: run npm run build:ts';
  if (newestMtime(join(repoRoot, 'src'), '.ts') > newestMtime(dist, '.js')) return 'dist/ is older than src/: run npm run build:ts';
  return undefined;
}
