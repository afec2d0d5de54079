import { describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNative, packageRoot } from '../src/binding.js';
import { NativeLoadError } from '../src/errors.js';
import { nativeInfo } from '../src/index.js';

describe('native loader', () => {
  it('loads the local build and reports what it is', () => {
    const info = nativeInfo();
    expect(['cpu-build', 'cuda-build', 'env', 'prebuild']).toContain(info.origin);
    expect(info.path.endsWith('.node')).toBe(true);
    expect(['scalar', 'avx2', 'avx512']).toContain(info.simd);
    expect(info.hardwareThreads).toBeGreaterThan(0);
  });

  it('lists every path tried, and how to fix it, when nothing loads', () => {
    const root = mkdtempSync(join(tmpdir(), 'lwfm-empty-'));
    try {
      writeFileSync(join(root, 'package.json'), '{"name":"x"}');
      let error: unknown;
      try {
        loadNative(root, {});
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(NativeLoadError);
      const message = (error as Error).message;
      expect(message).toContain(join(root, 'build-cuda', 'Release', 'lwfm_spm.node'));
      expect(message).toContain(join(root, 'build', 'Release', 'lwfm_spm.node'));
      expect(message).toContain('prebuilds');
      expect(message).toContain('npm rebuild lwfm-spm');
      expect((error as NativeLoadError).code).toBe('ERR_LWFM_NATIVE_LOAD');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a broken LWFM_SPM_NATIVE override instead of silently falling back', () => {
    expect(() => loadNative(packageRoot, { LWFM_SPM_NATIVE: '/nonexistent/lwfm.node' })).toThrow(/LWFM_SPM_NATIVE/);
  });

  it('node-gyp-build loads the packed prebuild when no local build exists', () => {
    const packed = join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`);
    // `npm test`'s pretest (scripts/prebuild.mjs) copies the build there, so a missing pack is a real failure.
    expect(existsSync(packed), `${packed} missing: run npm run prebuilds`).toBe(true);
    expect(readdirSync(packed).some((f) => f.endsWith('.node'))).toBe(true);
    const root = mkdtempSync(join(tmpdir(), 'lwfm-prebuild-'));
    try {
      writeFileSync(join(root, 'package.json'), '{"name":"lwfm-spm"}');
      cpSync(join(packageRoot, 'prebuilds'), join(root, 'prebuilds'), { recursive: true });
      const { binding, origin } = loadNative(root, {});
      expect(origin.kind).toBe('prebuild');
      expect(origin.path.startsWith(join(root, 'prebuilds'))).toBe(true);
      expect(binding.buildInfo().cuda).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
