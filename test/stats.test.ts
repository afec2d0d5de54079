import { describe, expect, it } from 'vitest';
import { argmax, ci95, mean, populationStd, softmax } from '../src/classifier/stats.js';

describe('softmax', () => {
  it('matches hand-computed values', () => {
    // exp(0) : exp(ln 3) = 1 : 3
    const p = softmax([0, Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 15);
    expect(p[1]).toBeCloseTo(0.75, 15);
    // [1, 2, 3]: e^1, e^2, e^3 over their sum 30.19287485057736
    const q = softmax([1, 2, 3]);
    expect(q[0]).toBeCloseTo(2.718281828459045 / 30.19287485057736, 14);
    expect(q[2]).toBeCloseTo(20.085536923187668 / 30.19287485057736, 14);
  });
  it('is shift invariant and stable for huge logits', () => {
    const p = softmax(new Float32Array([1000, 1001]));
    expect(p[0]! + p[1]!).toBeCloseTo(1, 15);
    expect(p[1]! / p[0]!).toBeCloseTo(Math.E, 10);
    expect(softmax([-1e4, 0])[1]).toBe(1);
  });
});

describe('argmax', () => {
  it('returns the first maximum', () => {
    expect(argmax([1, 5, 5, 2])).toBe(1);
    expect(argmax(new Float32Array([-3, -1, -2]))).toBe(1);
  });
});

describe('mean, std and ci95', () => {
  it('match hand-computed values', () => {
    const acc = [0.4, 0.6];
    expect(mean(acc)).toBeCloseTo(0.5, 15);
    expect(populationStd(acc)).toBeCloseTo(0.1, 15); // numpy np.std: ddof = 0
    expect(ci95(acc)).toBeCloseTo((1.96 * 0.1) / Math.sqrt(2), 15);
    // [1, 2, 3, 4]: mean 2.5, population variance 1.25
    expect(ci95([1, 2, 3, 4])).toBeCloseTo((1.96 * Math.sqrt(1.25)) / 2, 14);
    expect(ci95([0.7, 0.7, 0.7])).toBeCloseTo(0, 15);
    expect(ci95([0.5, 0.5, 0.5])).toBe(0);
  });
  it('are NaN for no data', () => {
    expect(mean([])).toBeNaN();
    expect(ci95([])).toBeNaN();
  });
});
