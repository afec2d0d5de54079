/** Shared by the head tests: per-row argmax and the largest absolute difference. */
import { expect } from 'vitest';

export function argmaxRows(logits: ArrayLike<number>, way: number): number[] {
  const out: number[] = [];
  for (let q = 0; q < logits.length / way; q++) {
    let best = 0;
    for (let k = 1; k < way; k++) if (logits[q * way + k]! > logits[q * way + best]!) best = k;
    out.push(best);
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
