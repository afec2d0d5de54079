/** The brute-force assignment optimum, free of vitest so that fuzz child processes can use it too. */

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
