import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../src/binding.js';

// The AVX-512 GEMM kernel cannot run on CPUs without AVX-512 (this development machine), so the
// driver's 12 x 32 tiling and packing are exercised by linking a portable kernel of that shape
// into a small native test program. Needs a C++17 compiler; skipped (with a printed reason) otherwise.
const cxx = process.env.CXX ?? 'c++';
const hasCompiler = spawnSync(cxx, ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasCompiler) console.warn(`[gemm_shapes.test] skipped: no C++ compiler (${cxx})`);

describe('GEMM driver on every kernel tile shape', () => {
  it.skipIf(!hasCompiler /* no C++ compiler, reason printed above */)(
    'matches a double-precision product, edge tiles included, without writing outside C',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'lwfm-gemm-'));
      try {
        const core = join(packageRoot, 'native', 'core');
        const exe = join(dir, 'gemm_shapes');
        const build = spawnSync(
          cxx,
          [
            '-O2',
            '-std=c++17',
            '-pthread',
            `-I${join(packageRoot, 'native')}`,
            join(packageRoot, 'test', 'native', 'gemm_shapes_test.cc'),
            join(packageRoot, 'test', 'native', 'avx512_kernel_standin.cc'),
            ...['gemm.cc', 'gemm_kernels_scalar.cc', 'gemm_kernels_avx2.cc', 'thread_pool.cc', 'cpu_features.cc'].map((f) => join(core, f)),
            '-o',
            exe,
          ],
          { encoding: 'utf8' },
        );
        expect(build.status, build.stderr).toBe(0);
        const run = spawnSync(exe, [], { encoding: 'utf8', timeout: 120_000 });
        expect(run.status, run.stdout + run.stderr).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    180_000,
  );
});
