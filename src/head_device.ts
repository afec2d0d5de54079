/**
 * Which engine a Head runs on. The device rules themselves (what 'cuda' requires, when 'auto'
 * warns, the size threshold) live only in resolveDevice (cuda.ts); this file adds what is
 * particular to the head: the GPU head's configuration limits, and the per-call choice.
 */
import { resolveDevice, type DeviceRequest } from './cuda.js';
import { cudaHeadLimitation } from './cuda_head.js';
import { DeviceUnavailableError } from './errors.js';
import { expectOneOf } from './validate.js';

/**
 * Device a Head may be asked for.
 * @example
 * const device: HeadDevice = 'auto';
 */
export type HeadDevice = DeviceRequest;

/**
 * Device a Head resolved to: 'cuda' when the GPU may be used (under 'auto' each score() call
 * still picks by size), 'cpu' when only the CPU engine runs.
 * @example
 * const used: ResolvedHeadDevice = new Head({ channels: [512] }).device; // 'cpu' without a GPU
 */
export type ResolvedHeadDevice = 'cpu' | 'cuda';

/** The parts of a head configuration that decide whether the GPU head can run it. */
export interface HeadDeviceConfig {
  channels: readonly number[];
  featureSize?: number;
  matcherWeight?: number;
}

/**
 * Resolves a Head's device once, at construction. 'cpu' -> 'cpu'. 'cuda' -> 'cuda', or
 * DeviceUnavailableError saying why (no CUDA engine in this build, no usable GPU, or a
 * configuration the GPU head cannot run, such as featureSize > 5). 'auto' -> 'cuda' when the
 * GPU is usable for this configuration, else 'cpu' (with one `LWFM_CUDA_FALLBACK` warning per
 * process when CUDA is compiled in but unusable; silently when it is not compiled in).
 * @example
 * resolveHeadDevice('auto', { channels: [512, 512] }); // 'cpu' on a machine without a GPU
 * resolveHeadDevice('cuda', { channels: [512, 512], featureSize: 7 }); // throws DeviceUnavailableError
 */
export function resolveHeadDevice(requested: HeadDevice, config: HeadDeviceConfig = { channels: [] }): ResolvedHeadDevice {
  expectOneOf(requested, 'device', ['auto', 'cpu', 'cuda'] as const);
  if (requested === 'cpu') return 'cpu';
  const limitation = cudaHeadLimitation(config);
  if (limitation !== undefined) {
    if (requested === 'cuda') {
      throw new DeviceUnavailableError(`device 'cuda' was requested but ${limitation}; use device 'cpu' or 'auto'`);
    }
    return 'cpu';
  }
  // Work size "unbounded": only availability decides here; the size test is per call.
  return resolveDevice(requested, Number.MAX_SAFE_INTEGER);
}

/**
 * The engine for one score() call of `pairs` (query x support image) pairs on a Head that
 * was asked for `requested` and resolved to `resolved`: explicit 'cuda' always runs on the
 * GPU; 'auto' on a GPU-capable head uses it from CUDA_AUTO_MIN_PAIRS pairs up.
 * @example
 * headEngineForCall('auto', head.device, queries * support.size); // 'cpu' | 'cuda'
 */
export function headEngineForCall(requested: HeadDevice, resolved: ResolvedHeadDevice, pairs: number): ResolvedHeadDevice {
  if (resolved === 'cpu') return 'cpu';
  return resolveDevice(requested, pairs);
}
