#!/usr/bin/env node
// The new user's install, end to end: `npm pack` (prepack makes the CPU prebuild), then
// `npm install <tarball>` in an empty temporary project, then `npx lwfm-spm demo` there.
// Fails when the install compiles anything (node-gyp output, or a build/ directory appears in
// the installed package), when the demo fails, or when the CLI did not load the prebuild.
//
//   node scripts/check-pack.mjs [--tarball FILE] [--keep]     (npm run pack:check)
//
// Needs the npm registry (or npm's cache: the install runs with --prefer-offline) for the
// dependencies. ONNXRUNTIME_NODE_INSTALL=skip keeps onnxruntime-node from downloading its CUDA
// binaries. Takes about a minute: packing recompiles the TypeScript, and the install copies
// sharp's and onnxruntime's binaries.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const keep = argv.includes('--keep');
const tarballArg = argv.includes('--tarball') ? argv[argv.indexOf('--tarball') + 1] : undefined;
const env = {
  ...process.env,
  ONNXRUNTIME_NODE_INSTALL: 'skip',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
  npm_config_update_notifier: 'false',
};
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const work = mkdtempSync(join(tmpdir(), 'lwfm-pack-'));
const failures = [];

function step(name, cmd, args, cwd) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  console.log(`[pack:check] ${name}: exit ${r.status} in ${seconds} s`);
  if (r.status !== 0) {
    process.stdout.write(output);
    failures.push(`${name} exited with ${r.status ?? r.signal}`);
  }
  return output;
}

try {
  let tarball = tarballArg && resolve(tarballArg);
  if (!tarball) {
    const out = execFileSync(npm, ['pack', '--json', '--pack-destination', work], {
      cwd: root,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const info = JSON.parse(out.slice(out.indexOf('[')))[0];
    tarball = join(work, info.filename);
    console.log(`[pack:check] packed ${info.filename}: ${info.entryCount} files, ${(info.size / 1024).toFixed(0)} KiB`);
  }
  const project = join(work, 'project');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'lwfm-first-hour', private: true, type: 'module' }, null, 2));

  const install = step('npm install <tarball>', npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project);
  const installed = join(project, 'node_modules', 'lwfm-spm');
  if (/gyp info|CXX\(target\)|node-gyp rebuild|compiling the native addon/.test(install))
    failures.push('npm install compiled the addon (node-gyp output above) although the tarball carries a prebuild');
  if (existsSync(join(installed, 'build')))
    failures.push(`${join(installed, 'build')} exists: the install compiled instead of using the prebuild`);
  if (install.trim()) console.log(install.trim().replace(/^/gm, '  | '));

  const demo = step('npx lwfm-spm demo', npm, ['exec', '--', 'lwfm-spm', 'demo'], project);
  if (!/accuracy/i.test(demo)) failures.push('the demo printed no accuracy line');
  else console.log(demo.trim().split('\n').slice(-4).join('\n').replace(/^/gm, '  | '));

  const infoOut = step('npx lwfm-spm info --json', npm, ['exec', '--', 'lwfm-spm', 'info', '--json'], project);
  try {
    const info = JSON.parse(infoOut.slice(infoOut.indexOf('{')));
    const origin = info.native?.origin;
    console.log(`[pack:check] addon loaded from ${info.native?.path} (${origin})`);
    if (origin !== 'prebuild') failures.push(`the installed CLI loaded the addon from "${origin}", expected the prebuild`);
  } catch (err) {
    failures.push(`lwfm-spm info --json printed no JSON (${err.message})`);
  }
} finally {
  if (keep) console.log(`[pack:check] kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

if (failures.length > 0) {
  for (const f of failures) console.error(`[pack:check] FAIL: ${f}`);
  process.exit(1);
}
console.log('[pack:check] ok: installed from the tarball without compiling, demo and info work');
