#!/usr/bin/env node
// Makes prebuilds/<platform>-<arch>-cuda/node.napi.node, the prebuilt CUDA variant the npm
// tarball carries next to the CPU prebuild, from the cmake-js CUDA build (build-cuda/, made by
// `npm run build:cuda`: static CUDA runtime, SASS for sm_75/80/86/89/90 and PTX for newer GPUs,
// see cuda/cuda.cmake): a stripped copy, checked to be a CUDA build. src/native_variant.ts
// decides at load time whether a host uses it (installed + NVIDIA driver >= 580.65.06).
//
//   node scripts/prebuild-cuda.mjs          copy build-cuda/ when present; say so and exit 0 when not
//   node scripts/prebuild-cuda.mjs --build  also run `npm run build:cuda` first when nvcc exists
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'build-cuda', 'Release', 'lwfm_spm.node');
const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}-cuda`);
const target = join(dir, 'node.napi.node');

if (process.argv.includes('--build') && spawnSync('nvcc', ['--version']).status === 0) {
  const r = spawnSync('npm', ['run', 'build:cuda'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
if (!existsSync(built)) {
  console.log(`prebuild-cuda: no CUDA build at ${built} (needs nvcc: npm run build:cuda); the package carries the CPU build only`);
  process.exit(0);
}
const info = JSON.parse(
  execFileSync(process.execPath, ['-e', `process.stdout.write(JSON.stringify(require(${JSON.stringify(built)}).buildInfo()))`], {
    encoding: 'utf8',
  }),
);
if (!info.cuda) {
  console.error(`prebuild-cuda: ${built} has no CUDA engine compiled in (was nvcc found when it was built?)`);
  process.exit(1);
}
mkdirSync(dir, { recursive: true });
const tmp = `${target}.tmp`;
copyFileSync(built, tmp);
const strip = spawnSync('strip', ['--strip-unneeded', tmp], { stdio: 'inherit' });
if (strip.status !== 0)
  console.warn(`prebuild-cuda: strip failed (${strip.error?.message ?? `exit ${strip.status}`}); packing it unstripped`);
renameSync(tmp, target);
console.log(`prebuild-cuda: ${target} (${(statSync(target).size / 2 ** 20).toFixed(1)} MiB) from ${built}`);
