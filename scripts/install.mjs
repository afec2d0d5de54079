#!/usr/bin/env node
// npm "install" hook of lwfm-spm. When a build or prebuild of the addon loads on this machine
// (node-gyp-build's search: build/Release, then prebuilds/<platform>-<arch>/), it prints nothing
// and compiles nothing. Otherwise it compiles the addon with node-gyp, printing one line before
// and one after instead of node-gyp's ~90 lines of "gyp info"; the full log is printed only when
// the build fails. Set LWFM_SPM_BUILD_FROM_SOURCE=1 (or npm's --build-from-source) to compile
// even when a prebuild matches.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The node-gyp entry point: npm's bundled copy (npm_config_node_gyp), the local devDependency, else PATH. */
function nodeGypCommand() {
  const bundled = process.env.npm_config_node_gyp;
  if (bundled && existsSync(bundled)) return [process.execPath, bundled];
  try {
    return [process.execPath, join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js')];
  } catch {
    return ['node-gyp'];
  }
}

/**
 * Runs `node-gyp <args>` in the package root with its output captured; resolves to the exit
 * code and the combined log, so callers decide what to show.
 */
export function nodeGypQuiet(args, cwd = root) {
  const [cmd, ...pre] = nodeGypCommand();
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, [...pre, ...args, '--loglevel=warn'], { cwd, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    child.on('error', (err) => resolvePromise({ code: 127, log: `${err.message}\n` }));
    child.on('close', (code) => resolvePromise({ code: code ?? 1, log: Buffer.concat(chunks).toString('utf8') }));
  });
}

/** Compiles build/Release/lwfm_spm.node from source; exits the process with node-gyp's log on failure. */
export async function compileAddon(reason, args = ['rebuild']) {
  const started = Date.now();
  console.log(
    `lwfm-spm: ${reason}; compiling the native addon with node-gyp (about 1-2 minutes; needs python3, make and a C++17 compiler)`,
  );
  const { code, log } = await nodeGypQuiet(args);
  if (code !== 0) {
    process.stderr.write(log);
    console.error(`lwfm-spm: node-gyp ${args.join(' ')} failed (exit ${code}); its log is above`);
    process.exit(code);
  }
  console.log(`lwfm-spm: built build/Release/lwfm_spm.node in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function fromSource() {
  const flag = process.env.LWFM_SPM_BUILD_FROM_SOURCE ?? process.env.npm_config_build_from_source;
  return flag !== undefined && flag !== '' && flag !== '0' && flag !== 'false';
}

async function main() {
  if (!fromSource()) {
    try {
      require('node-gyp-build')(root);
      return; // a build or a matching prebuild loads: nothing to do, nothing to print
    } catch (err) {
      const first = String(err?.message ?? err).split('\n')[0];
      await compileAddon(`no prebuilt addon loads for ${process.platform}-${process.arch}, Node ${process.versions.node} (${first})`);
      return;
    }
  }
  await compileAddon('building from source (LWFM_SPM_BUILD_FROM_SOURCE / --build-from-source)');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
