/**
 * What the backbone's device decision (src/device.ts) needs to know about ONNX Runtime:
 * whether a GPU looks present, whether onnxruntime-node's CUDA execution provider (a separate
 * download, not in the default npm install) is installed, and how to say how to install it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const CUDA_INSTALL_HINT = 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node';

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

/** Why CUDA is not usable by ONNX Runtime, with the install hint (for errors and warnings). */
export function cudaUnavailableMessage(reason: string): string {
  return `CUDA is not available to ONNX Runtime (${reason}); install onnxruntime-node's CUDA 12 binaries with: ${CUDA_INSTALL_HINT}`;
}
