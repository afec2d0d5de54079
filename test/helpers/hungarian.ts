/**
 * The test suite's one independent assignment oracle: the textbook O(n^2 m) Hungarian method
 * with potentials, in double, for rows <= cols. Used as the reference of the native solver
 * (test/assignment.test.ts) and of the head's matching step (test/helpers/head_reference.ts).
 */

/**
 * Minimum-cost assignment of rows to distinct columns; result[i] = the column of row i.
 * @example const cols = hungarianAssign((i, j) => cost[i][j], 3, 3);
 */
export function hungarianAssign(cost: (i: number, j: number) => number, rows: number, cols: number): number[] {
  const u = new Float64Array(rows + 1),
    v = new Float64Array(cols + 1);
  const p = new Int32Array(cols + 1),
    way = new Int32Array(cols + 1);
  for (let i = 1; i <= rows; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(cols + 1).fill(Infinity);
    const used = new Uint8Array(cols + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity,
        j1 = 0;
      for (let j = 1; j <= cols; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= cols; j++) {
        if (used[j]) {
          u[p[j]!]! += delta;
          v[j]! -= delta;
        } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0);
  }
  const out = new Array<number>(rows).fill(-1);
  for (let j = 1; j <= cols; j++) if (p[j]) out[p[j]! - 1] = j - 1;
  return out;
}
