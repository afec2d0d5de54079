#!/usr/bin/env node
// Builds the test addon (test/native/addon/build/Release/lwfm_spm_test.node): the test hooks
// (CPU runs of the GPU solvers' and GPU head's code, the exact solver's totals) that the
// package's own addon does not carry. Small: the hooks plus the eight assignment/CPU-feature/
// thread-pool sources of native/core. Skipped when the addon is newer than every source it
// depends on. Run by vitest's globalSetup (test/global_setup.ts), so `npm test` and a plain
// `npx vitest run test/x.test.ts` both find it; node-gyp builds incrementally after the first time.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeGypQuiet } from './install.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'test', 'native', 'addon');
export const testAddonPath = join(dir, 'build', 'Release', 'lwfm_spm_test.node');

function newestSource() {
  let newest = 0;
  const scan = (d, test) => {
    for (const name of readdirSync(d)) if (test(name)) newest = Math.max(newest, statSync(join(d, name)).mtimeMs);
  };
  scan(dir, (n) => /\.(cc|gyp)$/.test(n));
  scan(join(root, 'native', 'bindings'), (n) => /\.h$/.test(n));
  scan(join(root, 'native', 'core'), (n) => /\.(cc|h)$/.test(n));
  scan(join(root, 'cuda'), (n) => /\.(h|cuh)$/.test(n));
  return newest;
}

/** Builds the test addon unless it is up to date; throws with node-gyp's log on failure. */
export async function buildTestAddon() {
  if (existsSync(testAddonPath) && statSync(testAddonPath).mtimeMs >= newestSource()) return;
  const configured = existsSync(join(dir, 'build', 'Makefile'));
  const started = Date.now();
  let result = configured ? await nodeGypQuiet(['build', '-j', '2'], dir) : { code: 1, log: '' };
  if (result.code !== 0) result = await nodeGypQuiet(['rebuild', '-j', '2'], dir);
  if (result.code !== 0) throw new Error(`building the test addon failed (node-gyp exit ${result.code}):\n${result.log}`);
  console.log(`test addon: built ${testAddonPath} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildTestAddon();
