#!/usr/bin/env node
// Runs before `npm test`: the tests that run the package as users do (README examples, the packed
// tarball) use the compiled dist/, so it is recompiled when a src/ file is newer than it (one
// tsc run, about 20 s); when dist/ is up to date this does nothing.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function newest(dir, suffix) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith(suffix)) t = Math.max(t, statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs);
  }
  return t;
}

const dist = join(root, 'dist');
const reason = !existsSync(join(dist, 'index.js'))
  ? 'dist/ is missing'
  : newest(join(root, 'src'), '.ts') > newest(dist, '.js')
    ? 'src/ is newer than dist/'
    : undefined;
if (reason) {
  console.log(`[pretest] ${reason}: compiling the TypeScript (tsc -p tsconfig.json)`);
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
}
