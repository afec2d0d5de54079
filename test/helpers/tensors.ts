/** Small helpers for comparing float32 data in tests. */
import { readFileSync } from 'node:fs';

export function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
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
