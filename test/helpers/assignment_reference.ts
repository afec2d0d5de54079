/** Shared by the CPU and GPU assignment tests: one seeded RNG and one brute-force optimum. */

/** Seeded RNG (mulberry32) so every run tests the same matrices. */
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

/** Best total over every injective row -> column map of one rows x cols matrix at `offset`, in double. */
export function bruteForceTotal(costs: Float32Array, offset: number, rows: number, cols: number, maximize = false): number {
  let best = maximize ? -Infinity : Infinity;
  const used = new Array<boolean>(cols).fill(false);
  const walk = (i: number, total: number): void => {
    if (i === rows) {
      if (maximize ? total > best : total < best) best = total;
      return;
    }
    for (let j = 0; j < cols; j++) {
      if (used[j]) continue;
      used[j] = true;
      walk(i + 1, total + costs[offset + i * cols + j]!);
      used[j] = false;
    }
  };
  walk(0, 0);
  return best;
}
