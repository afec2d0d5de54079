/**
 * Seeded pseudo-random numbers for episode sampling. Evaluation results must be
 * reproducible from a seed on every platform and Node version, so this does not
 * use Math.random: it is sfc32 (small fast counter, 128-bit state) seeded through
 * splitmix32, all in 32-bit integer arithmetic.
 */

/** A seed: a non-negative safe integer or any string (hashed). */
export type Seed = number | string;

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a over UTF-16 code units, then the high word of numbers: one 32-bit seed word. */
function seedWord(seed: Seed): number {
  if (typeof seed === 'string') {
    let h = 0x811c9dc5;
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193) >>> 0;
    return h;
  }
  // Fold the bits above 32 in so that seeds differing only there still differ.
  return (seed >>> 0) ^ Math.floor(seed / 0x1_0000_0000);
}

/**
 * Deterministic random source.
 * @example
 * const rng = new Rng(42);
 * rng.below(10); // same integer in [0, 10) on every run
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: Seed) {
    const next = splitmix32(seedWord(seed));
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next();
    // Discard the first outputs: sfc32 mixes poorly right after seeding.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Next uniformly distributed 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling), n in [1, 2^32]. */
  below(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x1_0000_0000) throw new RangeError(`Expected integer in [1, 2^32] for n but received ${n}`);
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /**
   * `k` distinct indices of [0, n) in random order (partial Fisher-Yates).
   * @example new Rng(1).sample(5, 2) // e.g. [3, 0]
   */
  sample(n: number, k: number): number[] {
    if (k > n) throw new RangeError(`Cannot draw ${k} distinct items from ${n}`);
    const pool = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + this.below(n - i);
      const tmp = pool[i]!;
      pool[i] = pool[j]!;
      pool[j] = tmp;
    }
    return pool.slice(0, k);
  }
}
