/**
 * What the npm tarball holds and whether it runs as installed: the files users run (no fixture
 * generators, device checks, tests or benchmarks), the CPU prebuild that `npm test`'s pretest
 * and `npm pack`'s prepack make, and an installed copy that loads that prebuild without
 * compiling. The tarball is made with --ignore-scripts from the current dist/ and prebuilds/ so
 * that this test never rewrites dist/ under the other test files. The same check through a real
 * `npm install` of the tarball is `npm run pack:check` (scripts/check-pack.mjs; .ci/run runs it).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/cli.js';
import { staleDist } from './support/dist.js';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_update_notifier: 'false' };

let work = '';
let files: string[] = [];
let installed = '';

beforeAll(async () => {
  const stale = staleDist(); // npm test's pretest (scripts/fresh-dist.mjs) recompiles a stale dist/
  if (stale) throw new Error(stale);
  work = mkdtempSync(join(tmpdir(), 'lwfm-package-'));
  const { stdout } = await run(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
    cwd: repoRoot,
    env,
    maxBuffer: 16 << 20,
  });
  const info = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  files = info[0]!.files.map((f) => f.path);
  // An installed layout: the package under node_modules/lwfm-spm, its dependencies next to it
  // (links to this checkout's node_modules, so no registry is needed), and no build/ anywhere.
  const project = join(work, 'project');
  installed = join(project, 'node_modules', 'lwfm-spm');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', join(work, info[0]!.filename), '-C', installed, '--strip-components=1']);
  for (const name of readdirSync(join(repoRoot, 'node_modules'))) {
    if (name === 'lwfm-spm' || name.startsWith('.')) continue;
    symlinkSync(join(repoRoot, 'node_modules', name), join(project, 'node_modules', name));
  }
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack contents', () => {
  it('ships the compiled CLI and library, the CPU prebuild, the docs and the converter', () => {
    for (const f of [
      'package.json',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      `prebuilds/${process.platform}-${process.arch}/node.napi.node`,
      'scripts/install.mjs',
      'docs/computation.md',
      'docs/model-bundle.md',
      'tools/convert_checkpoint.py',
      'binding.gyp',
    ]) {
      expect(files, `${f} missing from the tarball`).toContain(f);
    }
    expect(files.some((f) => f.startsWith('samples/'))).toBe(true);
  });

  it('leaves out tests, benchmarks, fixture generators, device checks and source maps', () => {
    const unwanted = files.filter(
      (f) =>
        /^(test|benchmarks|src|tools\/(fixtures|device_check|reference|bench)|scripts\/(?!install\.mjs$))\//.test(f) ||
        f.endsWith('.map') ||
        f === '.npmrc' ||
        f.startsWith('.ci/'),
    );
    expect(unwanted).toEqual([]);
  });
});

describe('the installed package', () => {
  it('finds the prebuild: the install hook prints nothing and compiles nothing', async () => {
    const r = await run(process.execPath, [join(installed, 'scripts', 'install.mjs')], { cwd: installed, env });
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('');
    expect(existsSync(join(installed, 'build'))).toBe(false);
  });

  it('runs `lwfm-spm demo` and `info` with the addon loaded from the prebuild', async () => {
    const cli = join(installed, 'dist', 'cli', 'main.js');
    const project = join(work, 'project');
    const demo = await run(process.execPath, [cli, 'demo', '--threads', '2'], { cwd: project, env, timeout: 90_000 });
    expect(demo.stdout).toMatch(/Accuracy: \d+\/15 = /);
    const info = JSON.parse(
      (await run(process.execPath, [cli, 'info', '--json', '--threads', '1'], { cwd: project, env, timeout: 90_000 })).stdout,
    );
    expect(info.native.origin).toBe('prebuild');
    expect(info.native.path).toBe(join(installed, 'prebuilds', `${process.platform}-${process.arch}`, 'node.napi.node'));
    expect(info.native.cuda).toBe(false);
    const bench = JSON.parse(
      (
        await run(process.execPath, [cli, 'bench', 'match', '--sizes', '9', '--batch', '100', '--repeats', '1', '--json'], {
          cwd: project,
          env,
        })
      ).stdout,
    );
    expect(bench.rows[0].usPerProblem1).toBeGreaterThan(0);
  });
});
