#!/usr/bin/env node
// Makes prebuilds/<platform>-<arch>/node.napi.node, the CPU addon the npm tarball carries, from
// the node-gyp build that already exists (build/Release/lwfm_spm.node): a copy with symbols
// stripped, which is what prebuildify would produce, without compiling everything a second time.
// node-gyp-build (and so src/binding.ts and scripts/install.mjs) finds it by that name.
//
//   node scripts/prebuild.mjs          (pretest) copy when the build is newer than the prebuild;
//                                      compile only when there is no build at all
//   node scripts/prebuild.mjs --pack   (prepack) bring the build up to date first (node-gyp's
//                                      incremental build: nothing to do when sources are
//                                      unchanged), check that it is the CPU build, and clear
//                                      dist/ so that `prepare` packs freshly compiled JavaScript
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileAddon, nodeGypQuiet } from './install.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'build', 'Release', 'lwfm_spm.node');
const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const target = join(dir, 'node.napi.node');
const pack = process.argv.includes('--pack');

if (pack) {
  // node-gyp's incremental build: nothing to compile when the sources are unchanged. A build/
  // configured elsewhere (other Node headers, other machine) cannot be reused: rebuild then.
  const configured = existsSync(join(root, 'build', 'Makefile')) || existsSync(join(root, 'build', 'binding.sln'));
  const started = Date.now();
  const incremental = configured ? await nodeGypQuiet(['build']) : { code: 1, log: '' };
  if (incremental.code === 0) console.log(`prebuild: node-gyp build (incremental) done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  else await compileAddon(configured ? 'the existing build/ cannot be updated in place' : 'packing without a configured build/');
} else if (!existsSync(built)) {
  await compileAddon(`${built} does not exist`);
}

const stale = !existsSync(target) || statSync(target).mtimeMs < statSync(built).mtimeMs;
if (stale) {
  mkdirSync(dir, { recursive: true });
  const tmp = `${target}.tmp`;
  copyFileSync(built, tmp);
  // prebuildify strips the same way; a missing `strip` only costs size, so it is not fatal.
  if (process.platform === 'linux' || process.platform === 'darwin') {
    const r = spawnSync('strip', process.platform === 'darwin' ? ['-Sx', tmp] : ['--strip-all', tmp], { stdio: 'inherit' });
    if (r.status !== 0) console.warn(`prebuild: strip failed (${r.error?.message ?? `exit ${r.status}`}); packing the unstripped addon`);
  }
  renameSync(tmp, target);
  console.log(`prebuild: ${target} (${(statSync(target).size / 1024).toFixed(0)} KiB) from ${built}`);
}

if (pack) {
  // The tarball must carry the CPU addon: it loads without a GPU and without the CUDA runtime.
  const info = JSON.parse(
    execFileSync(process.execPath, ['-e', `process.stdout.write(JSON.stringify(require(${JSON.stringify(target)}).buildInfo()))`], {
      encoding: 'utf8',
    }),
  );
  if (info.cuda) {
    console.error(`prebuild: ${built} is a CUDA build; the package carries the CPU addon. Run npx node-gyp rebuild and pack again.`);
    process.exit(1);
  }
  rmSync(join(root, 'dist'), { recursive: true, force: true });
}
