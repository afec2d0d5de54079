// A literal, per-pair implementation of docs/computation.md §3 in double precision (attended maps,
// cost matrix, Hungarian assignment, matcher MLP per pair, pooled global term), written
// independently of the native code so it can check the GPU head's shared math.

import type { NativeCudaHeadConfig } from '../../src/binding.js';
import { hungarianAssign } from './hungarian.js';

/** The head's hyperparameters and matcher weights: the same fields the GPU head takes. */
export type ReferenceConfig = NativeCudaHeadConfig;

type Mat = number[][]; // [channel][pixel]

function image(features: Float32Array, n: number, C: number, P: number): Mat {
  const x: Mat = [];
  for (let c = 0; c < C; c++) x.push(Array.from(features.subarray((n * C + c) * P, (n * C + c + 1) * P)));
  return x;
}

function center(x: Mat): Mat {
  const C = x.length,
    P = x[0]!.length;
  const mean = Array.from({ length: P }, (_, p) => x.reduce((s, row) => s + row[p]!, 0) / C);
  return x.map((row) => row.map((v, p) => v - mean[p]!));
}

function column(x: Mat, p: number): number[] {
  return x.map((row) => row[p]!);
}

function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k]! * b[k]!;
  return s;
}

// The cosines below work on v / max|v| (the same value in real arithmetic) because attended
// vectors a * x get tiny at small temperatureAttn: a reaches 1e-174 at 0.01, and the squares of
// its entries would underflow double to 0, turning a defined cosine into 0.
function maxAbs(a: number[]): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

/** cos(a, b) = a.b / (max(|a|, 1e-8) max(|b|, 1e-8)) (docs/computation.md §3.3). */
function cosEps(a: number[], b: number[]): number {
  const ma = maxAbs(a),
    mb = maxAbs(b);
  if (ma === 0 || mb === 0) return 0;
  const sa = a.map((v) => v / ma),
    sb = b.map((v) => v / mb);
  // |a| = ma |sa|, a.b = ma mb (sa.sb).
  return dot(sa, sb) * (ma / Math.max(ma * Math.sqrt(dot(sa, sa)), 1e-8)) * (mb / Math.max(mb * Math.sqrt(dot(sb, sb)), 1e-8));
}

/** The cost matrix's cosine: no epsilon, a zero vector gives 0 (docs/computation.md §3.3). */
function cosNoEps(a: number[], b: number[]): number {
  const ma = maxAbs(a),
    mb = maxAbs(b);
  if (ma === 0 || mb === 0) return 0;
  const sa = a.map((v) => v / ma),
    sb = b.map((v) => v / mb);
  return dot(sa, sb) / (Math.sqrt(dot(sa, sa)) * Math.sqrt(dot(sb, sb)));
}

/** Minimum-cost assignment of a square matrix; result[i] = column. */
export function hungarian(cost: number[][]): number[] {
  return hungarianAssign((i, j) => cost[i]![j]!, cost.length, cost.length);
}

function mlp(z: number[], w1: Float32Array, w2: Float32Array): number[] {
  const C = z.length,
    H = C / 2;
  const h = Array.from({ length: H }, (_, r) => {
    let s = 0;
    for (let c = 0; c < C; c++) s += w1[r * C + c]! * z[c]!;
    return Math.max(s, 0);
  });
  return z.map((zc, c) => {
    let s = 0;
    for (let r = 0; r < H; r++) s += w2[c * H + r]! * h[r]!;
    return zc + Math.max(s, 0);
  });
}

/** Attention sums: standardize along `axis` lines, softmax, sum over lines. */
function attention(R: number[][], tAttn: number, byRow: boolean): number[] {
  const P = R.length;
  const out = new Array<number>(P).fill(0);
  for (let o = 0; o < P; o++) {
    const line = Array.from({ length: P }, (_, k) => (byRow ? R[o]![k]! : R[k]![o]!));
    const mean = line.reduce((a, b) => a + b, 0) / P;
    const variance = line.reduce((a, b) => a + (b - mean) ** 2, 0) / (P - 1);
    const z = line.map((v) => (v - mean) / Math.sqrt(variance + 1e-5) / tAttn);
    const mx = Math.max(...z);
    const e = z.map((v) => Math.exp(v - mx));
    const sum = e.reduce((a, b) => a + b, 0);
    e.forEach((v, k) => (out[k] = out[k]! + v / sum));
  }
  return out;
}

export function referenceLogits(
  cfg: ReferenceConfig,
  support: Float32Array,
  labels: ArrayLike<number>,
  queries: Float32Array,
): Float64Array {
  const P = cfg.featureSize ** 2;
  const C = cfg.channels.reduce((a, b) => a + b, 0);
  const S = support.length / (C * P),
    Q = queries.length / (C * P);
  const sup = Array.from({ length: S }, (_, n) => center(image(support, n, C, P)));
  const qry = Array.from({ length: Q }, (_, n) => center(image(queries, n, C, P)));
  const offsets: number[] = [];
  cfg.channels.reduce((o, c) => (offsets.push(o), o + c), 0);
  const tapOf = (x: Mat, l: number) => x.slice(offsets[l]!, offsets[l]! + cfg.channels[l]!);
  const unit = (x: Mat) => {
    const norms = Array.from({ length: P }, (_, p) => Math.sqrt(dot(column(x, p), column(x, p)) + 1e-6));
    return x.map((row) => row.map((v, p) => v / norms[p]!));
  };
  const logits = new Float64Array(Q * cfg.way);
  for (let q = 0; q < Q; q++) {
    const A = new Array<Float64Array>(cfg.way),
      B = new Array<Float64Array>(cfg.way);
    const M = new Array<number>(cfg.way).fill(0),
      shots = new Array<number>(cfg.way).fill(0);
    for (let k = 0; k < cfg.way; k++) {
      A[k] = new Float64Array(C);
      B[k] = new Float64Array(C);
    }
    for (let s = 0; s < S; s++) {
      const k = labels[s]!;
      shots[k]!++;
      let best = -Infinity;
      for (let l = 0; l < cfg.channels.length; l++) {
        const xs = tapOf(sup[s]!, l),
          xq = tapOf(qry[q]!, l);
        const ns = unit(xs),
          nq = unit(xq);
        const R = Array.from({ length: P }, (_, i) => Array.from({ length: P }, (_, j) => dot(column(ns, i), column(nq, j))));
        const as = attention(R, cfg.temperatureAttn, false);
        const aq = attention(R, cfg.temperatureAttn, true);
        const St = xs.map((row) => row.map((v, i) => v * as[i]!));
        const Qt = xq.map((row) => row.map((v, j) => v * aq[j]!));
        const a = A[k]!,
          b = B[k]!,
          o = offsets[l]!;
        for (let c = 0; c < cfg.channels[l]!; c++)
          for (let p = 0; p < P; p++) {
            a[o + c] = a[o + c]! + St[c]![p]!;
            b[o + c] = b[o + c]! + Qt[c]![p]!;
          }
        if (cfg.matcherWeight !== 0) {
          const K = Array.from({ length: P }, (_, i) => Array.from({ length: P }, (_, j) => 1 - cosNoEps(column(St, i), column(Qt, j))));
          const sigma = hungarian(K);
          const cosines = sigma.map((j, i) => {
            let u = column(St, i),
              v = column(Qt, j);
            if (cfg.matcher) {
              u = mlp(u, cfg.matcher[l]!.w1, cfg.matcher[l]!.w2);
              v = mlp(v, cfg.matcher[l]!.w1, cfg.matcher[l]!.w2);
            }
            return cosEps(u, v);
          });
          cosines.sort((a, b) => b - a);
          best = Math.max(
            best,
            cosines.slice(0, cfg.topK).reduce((a, b) => a + b, 0),
          );
        }
      }
      M[k] = M[k]! + (cfg.matcherWeight !== 0 ? cfg.matcherWeight * best : 0);
    }
    for (let k = 0; k < cfg.way; k++) {
      // mean over shots and pixels: positive scalings, but kept for the 1e-8 guard's sake
      const a = Array.from(A[k]!, (v) => v / (shots[k]! * P));
      const b = Array.from(B[k]!, (v) => v / (shots[k]! * P));
      logits[q * cfg.way + k] = (cosEps(a, b) + M[k]! / shots[k]!) / cfg.temperature;
    }
  }
  return logits;
}
