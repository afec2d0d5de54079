// cudaInfo() and the device choice for 'auto' | 'cpu' | 'cuda'.
import { describe, expect, it } from 'vitest';
import { native } from '../src/binding.js';
import { cudaInfo } from '../src/cuda.js';
import { CUDA_AUTO_MIN_PAIRS, WARNING_CODES, _resetCudaFallbackWarning, classifierHeadDevice, resolveDevice } from '../src/device.js';
import { DeviceUnavailableError } from '../src/errors.js';

const info = cudaInfo();
if (!info.available) console.log(`[cuda_device] no CUDA device: ${(info.reason ?? '').replace(/^no CUDA device: /, '')}`);

describe('cudaInfo', () => {
  it('agrees with buildInfo().cuda and describes every device', () => {
    expect(info.compiled).toBe(native.buildInfo().cuda);
    expect(typeof info.available).toBe('boolean');
    if (!info.compiled) expect(info.available).toBe(false);
    if (!info.available) expect(info.reason).toMatch(/\S/);
    else expect(info.reason).toBeUndefined();
    for (const d of info.devices) {
      expect(typeof d.name).toBe('string');
      expect(d.computeCapability).toMatch(/^\d+\.\d+$/);
      expect(d.memoryBytes).toBeGreaterThan(0);
    }
    if (info.available) expect(info.devices.length).toBeGreaterThan(0);
  });
});

describe('resolveDevice', () => {
  it("keeps 'cpu' on the CPU", () => {
    expect(resolveDevice('cpu', 10 ** 9)).toBe('cpu');
  });

  it("'cuda' gives the GPU when usable and DeviceUnavailableError with the reason otherwise", () => {
    if (info.available) {
      expect(resolveDevice('cuda', 1)).toBe('cuda');
    } else {
      let err: unknown;
      try {
        resolveDevice('cuda', 1);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DeviceUnavailableError);
      expect((err as DeviceUnavailableError).code).toBe('ERR_LWFM_DEVICE_UNAVAILABLE');
      expect((err as Error).message).toContain(info.reason!);
    }
  });

  it("'auto' picks by work size when a GPU is usable, else the CPU with one LWFM_CUDA_FALLBACK warning when CUDA is compiled in", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => warnings.push(w.code ?? '');
    process.on('warning', onWarning);
    try {
      _resetCudaFallbackWarning();
      const small = resolveDevice('auto', CUDA_AUTO_MIN_PAIRS - 1);
      const large = resolveDevice('auto', CUDA_AUTO_MIN_PAIRS);
      resolveDevice('auto', CUDA_AUTO_MIN_PAIRS * 10);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(small).toBe('cpu');
      expect(large).toBe(info.available ? 'cuda' : 'cpu');
      const expected = info.compiled && !info.available ? 1 : 0;
      expect(warnings.filter((c) => c === 'LWFM_CUDA_FALLBACK')).toHaveLength(expected);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('rejects bad arguments', () => {
    expect(() => resolveDevice('gpu' as 'cuda', 1)).toThrow(TypeError);
    expect(() => resolveDevice('auto', -1)).toThrow(RangeError);
    expect(() => resolveDevice('auto', 1.5)).toThrow(TypeError);
  });
});

describe('classifierHeadDevice', () => {
  it("keeps 'auto' and 'cpu', and turns 'cuda' for a head the GPU cannot run into 'cpu' with one LWFM_HEAD_CPU_FALLBACK warning", async () => {
    const codes: string[] = [];
    const onWarning = (w: Error & { code?: string }) => codes.push(w.code ?? '');
    process.on('warning', onWarning);
    try {
      expect(classifierHeadDevice('auto', { channels: [8], featureSize: 6 })).toBe('auto');
      expect(classifierHeadDevice('cpu', { channels: [8] })).toBe('cpu');
      // featureSize 6 is beyond the GPU head in every build, GPU or not.
      expect(classifierHeadDevice('cuda', { channels: [8], featureSize: 6 })).toBe('cpu');
      await new Promise((r) => setImmediate(r));
      expect(codes).toEqual([WARNING_CODES.headCpuFallback]);
      expect(WARNING_CODES.headCpuFallback).toBe('LWFM_HEAD_CPU_FALLBACK');
      // A head the GPU can run: 'cuda' when CUDA is usable, else the CPU with the same warning.
      expect(classifierHeadDevice('cuda', { channels: [8], featureSize: 3 })).toBe(info.available ? 'cuda' : 'cpu');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
