/**
 * Seeded numbers and medians for the benchmarks (the shipped `lwfm-spm bench` and the source
 * checkout's suite) and the tests: one generator, so every run on every machine sees the same data.
 */

/** The one seeded RNG (mulberry32): uniform numbers in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal number from two uniform ones (Box-Muller). */
export function gaussian(uniform: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Fills `out` with standard normal numbers. */
export function fillGaussian<T extends Float32Array | Float64Array>(out: T, uniform: () => number): T {
  for (let i = 0; i < out.length; i++) out[i] = gaussian(uniform);
  return out;
}

/** Median of samples (mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * `batch` n x n matrices of 1 - cos(a_i, b_j), a_i and b_j random Gaussian vectors of length
 * `dim`: the cost matrices the LWFM-SPM head's pixel matching solves.
 */
export function cosineCostBatch(batch: number, n: number, seed = 1, dim = 64): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(batch * n * n);
  const a = new Float64Array(n * dim);
  const b = new Float64Array(n * dim);
  const unit = (v: Float64Array): void => {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += v[i * dim + k]! ** 2;
      const inv = 1 / Math.sqrt(s);
      for (let k = 0; k < dim; k++) v[i * dim + k]! *= inv;
    }
  };
  for (let m = 0; m < batch; m++) {
    for (let k = 0; k < n * dim; k++) {
      a[k] = gaussian(next);
      b[k] = gaussian(next);
    }
    unit(a);
    unit(b);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let k = 0; k < dim; k++) dot += a[i * dim + k]! * b[j * dim + k]!;
        out[(m * n + i) * n + j] = 1 - dot;
      }
    }
  }
  return out;
}
