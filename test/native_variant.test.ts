/**
 * The prebuilt-variant decision: which addon a fresh install loads. The decision reads files
 * only (is the CUDA variant installed, /proc/driver/nvidia/version), so it is simulated here
 * with driver texts of the two formats NVIDIA's kernel modules print, and checked end to end
 * through loadNative() on a temporary package root laid out like an installed package.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNative, nativeOrigin, packageRoot } from '../src/binding.js';
import { chooseVariant, compareVersions, cudaPrebuildPath, MIN_DRIVER_VERSION, parseDriverVersion } from '../src/native_variant.js';

const PROPRIETARY =
  'NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.95.05  Tue Sep 23 09:57:35 UTC 2025\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n';
const OPEN =
  'NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.124.06  Release Build  (dvs-builder@U16-I3-B03-4-3)  Wed Feb 26 02:06:25 UTC 2025\n';

describe('chooseVariant', () => {
  it('reads the driver version in both module formats and compares numerically', () => {
    expect(parseDriverVersion(PROPRIETARY)).toBe('580.95.05');
    expect(parseDriverVersion(OPEN)).toBe('570.124.06');
    expect(parseDriverVersion('garbage')).toBeUndefined();
    expect(compareVersions('580.65.06', '580.9.1')).toBeGreaterThan(0);
    expect(compareVersions('570.124.06', MIN_DRIVER_VERSION)).toBeLessThan(0);
    expect(compareVersions(MIN_DRIVER_VERSION, MIN_DRIVER_VERSION)).toBe(0);
  });

  it('picks CUDA only when installed and the driver is new enough, saying why otherwise', () => {
    expect(chooseVariant({ cudaPrebuild: true, driverText: PROPRIETARY, forced: undefined })).toEqual({
      variant: 'cuda',
      reason: `NVIDIA driver 580.95.05 (>= ${MIN_DRIVER_VERSION})`,
    });
    const old = chooseVariant({ cudaPrebuild: true, driverText: OPEN, forced: undefined });
    expect(old.variant).toBe('cpu');
    expect(old.reason).toMatch(/570\.124\.06 is older than 580\.65\.06.*update the driver/);
    expect(chooseVariant({ cudaPrebuild: true, driverText: undefined, forced: undefined }).reason).toMatch(/no NVIDIA driver/);
    expect(chooseVariant({ cudaPrebuild: false, driverText: PROPRIETARY, forced: undefined }).reason).toMatch(/not installed/);
    expect(chooseVariant({ cudaPrebuild: true, driverText: PROPRIETARY, forced: 'cpu' })).toEqual({
      variant: 'cpu',
      reason: 'LWFM_SPM_VARIANT=cpu',
    });
    expect(chooseVariant({ cudaPrebuild: true, driverText: undefined, forced: 'cuda' }).variant).toBe('cuda');
    expect(chooseVariant({ cudaPrebuild: true, driverText: 'NVRM version: unknown', forced: undefined }).reason).toMatch(
      /could not be read/,
    );
  });
});

describe('loadNative on an installed-package layout', () => {
  const cpuBuild = join(packageRoot, 'build', 'Release', 'lwfm_spm.node');
  const cudaBuild = join(packageRoot, 'build-cuda', 'Release', 'lwfm_spm.node');

  it('loads the CUDA variant when a driver is present, the CPU prebuild otherwise, with the reason', () => {
    const root = mkdtempSync(join(tmpdir(), 'lwfm-variant-'));
    try {
      writeFileSync(join(root, 'package.json'), '{"name":"lwfm-spm"}');
      const cpuDir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
      mkdirSync(cpuDir, { recursive: true });
      copyFileSync(cpuBuild, join(cpuDir, 'node.napi.node'));
      mkdirSync(join(cudaPrebuildPath(root), '..'), { recursive: true });
      // The real CUDA build where nvcc made one; else the CPU build stands in (the decision is under test).
      copyFileSync(existsSync(cudaBuild) ? cudaBuild : cpuBuild, cudaPrebuildPath(root));

      const gpu = loadNative(root, {}, { cudaPrebuild: true, driverText: PROPRIETARY, forced: undefined });
      expect(gpu.origin.kind).toBe('prebuild-cuda');
      expect(gpu.origin.path).toBe(cudaPrebuildPath(root));
      expect(gpu.origin.variant?.variant).toBe('cuda');

      const noDriver = loadNative(root, {}, { cudaPrebuild: true, driverText: undefined, forced: undefined });
      expect(noDriver.origin.kind).toBe('prebuild');
      expect(noDriver.origin.path.startsWith(cpuDir)).toBe(true);
      expect(noDriver.origin.variant?.reason).toMatch(/no NVIDIA driver/);

      const oldDriver = loadNative(root, {}, { cudaPrebuild: true, driverText: OPEN, forced: undefined });
      expect(oldDriver.origin.kind).toBe('prebuild');
      expect(oldDriver.origin.variant?.reason).toMatch(/older than/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('this process reports which build it loaded', () => {
    // Tests run from a source checkout: a local build wins over prebuilds, so no variant decision.
    expect(['cpu-build', 'cuda-build', 'env']).toContain(nativeOrigin.kind);
  });
});

describe('the packed tarball', () => {
  const cudaPrebuild = cudaPrebuildPath(packageRoot);
  it.skipIf(!existsSync(cudaPrebuild))(
    `lists the CUDA prebuild${existsSync(cudaPrebuild) ? '' : ' (skipped: no CUDA prebuild here; it needs nvcc: npm run build:cuda && node scripts/prebuild-cuda.mjs)'}`,
    () => {
      const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: packageRoot,
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      });
      const files = (JSON.parse(out) as { files: { path: string; size: number }[] }[])[0]!.files.map((f) => f.path);
      expect(files).toContain(`prebuilds/${process.platform}-${process.arch}-cuda/node.napi.node`);
    },
  );
});

describe('package scripts', () => {
  it('no script is an accidental npm pre/post hook of another (prebuild:cuda once re-ran build:cuda forever)', async () => {
    const { readFileSync } = await import('node:fs');
    const scripts = Object.keys(
      (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts,
    );
    const intended = new Set(['pretest', 'prepack', 'prepare']);
    const hooks = scripts.filter((s) => /^(pre|post)/.test(s) && !intended.has(s) && scripts.includes(s.replace(/^(pre|post)/, '')));
    expect(hooks).toEqual([]);
  });
});
