/**
 * Device selection for the backbone. 'cuda' needs onnxruntime-node's CUDA execution
 * provider, which the default npm install does not download.
 *
 * Decision for 'auto': use CUDA when a GPU looks present (an NVIDIA device node or driver
 * entry) and the provider loads; when a GPU looks present but CUDA cannot be used, fall
 * back to CPU with process.emitWarning(code 'LWFM_CUDA_UNAVAILABLE'); on machines with no
 * sign of a GPU, use the CPU silently (a warning there would be noise on every run).
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type Device = 'cpu' | 'cuda';
export type DeviceRequest = 'auto' | Device;

export const CUDA_INSTALL_HINT = 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node';
export const CUDA_WARNING_CODE = 'LWFM_CUDA_UNAVAILABLE';

/** True when an NVIDIA GPU looks present (device node or loaded driver). */
export function gpuLooksPresent(): boolean {
  return existsSync('/dev/nvidia0') || existsSync('/proc/driver/nvidia/version') || existsSync('/dev/dxg');
}

/** True when onnxruntime-node's CUDA provider library is installed next to its binding. */
export function cudaProviderInstalled(): boolean {
  try {
    const req = createRequire(import.meta.url);
    const root = join(dirname(req.resolve('onnxruntime-node/package.json')), 'bin');
    const stack = [root];
    while (stack.length) {
      const d = stack.pop()!;
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) stack.push(join(d, e.name));
        else if (/onnxruntime_providers_cuda\.(so|dll)$/.test(e.name)) return true;
      }
    }
  } catch {
    // unreadable install: treat as absent
  }
  return false;
}

/** Message of a DeviceUnavailableError / fallback warning, with the install hint. */
export function cudaUnavailableMessage(reason: string): string {
  return `CUDA is not available to ONNX Runtime (${reason}). Install onnxruntime-node's CUDA 12 binaries with: ${CUDA_INSTALL_HINT}`;
}
