import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/binding.js';

// The CUDA engine's device-memory cache (cuda/block_cache.h) is host bookkeeping over a
// backend; test/native/block_cache_test.cc drives it with a fake backend. Needs a C++17
// compiler; skipped (with a printed reason) otherwise.
const cxx = process.env.CXX ?? 'c++';
const hasCompiler = spawnSync(cxx, ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasCompiler) console.warn(`[block_cache.test] skipped: no C++ compiler (${cxx})`);

describe('CUDA device-memory block cache (host bookkeeping)', () => {
  it.skipIf(!hasCompiler /* no C++ compiler, reason printed above */)(
    'steady-state episodes allocate and free nothing; cross-stream reuse waits; thresholds and out-of-memory release',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'lwfm-block-cache-'));
      try {
        const exe = join(dir, 'block_cache_test');
        const build = spawnSync(
          cxx,
          [
            '-O1',
            '-std=c++17',
            '-pthread',
            `-I${join(packageRoot, 'cuda')}`,
            join(packageRoot, 'test', 'native', 'block_cache_test.cc'),
            '-o',
            exe,
          ],
          { encoding: 'utf8' },
        );
        expect(build.status, build.stderr).toBe(0);
        const run = spawnSync(exe, [], { encoding: 'utf8', timeout: 60_000 });
        expect(run.status, run.stdout + run.stderr).toBe(0);
        expect(run.stdout).toContain('all checks passed');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
