/**
 * Which engine a Head runs on. Kept in one small function so a CUDA engine can plug in by
 * changing only this file.
 */
import { DeviceUnavailableError } from './errors.js';

/**
 * Device a Head may be asked for.
 * @example
 * const device: HeadDevice = 'auto';
 */
export type HeadDevice = 'auto' | 'cpu' | 'cuda';

/**
 * Device a Head actually runs on.
 * @example
 * const used: ResolvedHeadDevice = new Head({ channels: [512] }).device; // 'cpu'
 */
export type ResolvedHeadDevice = 'cpu' | 'cuda';

/**
 * Resolves a requested device: 'auto' -> the best available (CPU for now), 'cpu' -> 'cpu',
 * 'cuda' -> DeviceUnavailableError, since this build has no CUDA head engine yet.
 * @example
 * resolveHeadDevice('auto'); // 'cpu'
 */
export function resolveHeadDevice(requested: HeadDevice): ResolvedHeadDevice {
  if (requested === 'cuda') {
    throw new DeviceUnavailableError(
      "Head device 'cuda' was requested, but this build of lwfm-spm has no CUDA engine for the head; " +
        "use device 'cpu' or 'auto'.",
    );
  }
  return 'cpu';
}
