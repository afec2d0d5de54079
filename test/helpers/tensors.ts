/** Small helpers for comparing float32 data in tests. */
import { readFileSync } from 'node:fs';

export function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/**
 * max |a - b| / max |b|: the error relative to the tensor's scale. Deep float32 networks
 * (ResNet-50) differ from a float32 PyTorch forward by a few 1e-4 on single elements of
 * size ~5, as PyTorch's own float32 forward differs from its float64 one; relative to the
 * embedding's scale both are ~3e-5.
 */
export function scaleRelative(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  return diff(a, b).maxAbs / scale;
}

/** max |a - b| and max |a - b| / (1 + |b|), plus mean |a - b|. */
export function diff(a: Float32Array, b: Float32Array): { maxAbs: number; maxRel: number; meanAbs: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let maxAbs = 0;
  let maxRel = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= maxAbs)) maxAbs = d; // NaN propagates
    maxRel = Math.max(maxRel, d / (1 + Math.abs(b[i]!)));
    sum += d;
  }
  return { maxAbs, maxRel, meanAbs: sum / a.length };
}
