/**
 * Issue 11 item 5: backbone workers must not inherit the parent's entry-point flags.
 * Runs exactly the reported command against a fresh compile of src (the bug lives in the
 * compiled .js path; the TypeScript path boots workers through an eval bootstrap).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerExecArgv } from '../src/backbone/spawn_worker.js';
import { repoRoot } from './support/cli.js';

const run = promisify(execFile);

describe('worker execArgv', () => {
  it('keeps only diagnostic flags', () => {
    expect(workerExecArgv(['--input-type=module', '--import', 'tsx', '--enable-source-maps', '-e', 'x', '--no-warnings'])).toEqual([
      '--enable-source-maps',
      '--no-warnings',
    ]);
  });

  describe('compiled package under `node --input-type=module -e`', () => {
    // A sibling of src/ so the compiled binding.ts finds the package root one level up.
    let out = '';
    beforeAll(async () => {
      out = mkdtempSync(join(repoRoot, '.test-dist-'));
      await run(
        process.execPath,
        [
          join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'),
          '-p',
          'tsconfig.json',
          '--outDir',
          out,
          '--declaration',
          'false',
          '--sourceMap',
          'false',
        ],
        {
          cwd: repoRoot,
        },
      );
    }, 120_000);
    afterAll(() => {
      if (out) rmSync(out, { recursive: true, force: true });
    });

    it('creates a FewShotClassifier and embeds through its backbone worker', async () => {
      const script =
        "import { FewShotClassifier } from './index.js';" +
        'const c = await FewShotClassifier.load();' +
        `const e = await c.embed([${JSON.stringify(join(repoRoot, 'test', 'fixtures', 'images', 'scene.jpg'))}]);` +
        'if (e.errors[0]) throw e.errors[0];' +
        'console.log(JSON.stringify({ dims: e.dims }));' +
        'await c.dispose();';
      const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: out, timeout: 60_000 });
      expect(stderr).not.toContain('ERR_INPUT_TYPE_NOT_ALLOWED');
      expect(JSON.parse(stdout.trim()).dims[0]).toBe(1);
    }, 90_000);
  });
});
