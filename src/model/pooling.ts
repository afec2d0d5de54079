/**
 * The two poolings of docs/computation.md §2 as linear maps from an H x H map to F x F pixels.
 * Both are separable; the 2-D matrix is the Kronecker product of the 1-D ones.
 */

export type Pooling = 'average' | 'bilinear';

/** 1-D adaptive average pooling: bin i covers [floor(i*H/F), ceil((i+1)*H/F)). Row i = output. */
export function adaptiveAverage1d(h: number, f: number): Float64Array {
  const m = new Float64Array(f * h);
  for (let i = 0; i < f; i++) {
    const lo = Math.floor((i * h) / f);
    const hi = Math.ceil(((i + 1) * h) / f);
    for (let k = lo; k < hi; k++) m[i * h + k] = 1 / (hi - lo);
  }
  return m;
}

/** 1-D linear interpolation with align_corners = true. Row i = output. */
export function bilinearAlignCorners1d(h: number, f: number): Float64Array {
  const m = new Float64Array(f * h);
  for (let i = 0; i < f; i++) {
    const src = f > 1 ? (i * (h - 1)) / (f - 1) : 0;
    const lo = Math.min(Math.floor(src), h - 1);
    const hi = Math.min(lo + 1, h - 1);
    const w = src - lo;
    m[i * h + lo] = m[i * h + lo]! + (1 - w);
    m[i * h + hi] = m[i * h + hi]! + w;
  }
  return m;
}

/**
 * The [H*H, F*F] matrix M with pooled[c, i*F+j] = sum_{h,w} x[c, h*H+w] * M[h*H+w, i*F+j].
 * @example poolingMatrix('average', 6, 5) // Float32Array(36 * 25)
 */
export function poolingMatrix(kind: Pooling, h: number, f: number): Float32Array {
  const a = kind === 'average' ? adaptiveAverage1d(h, f) : bilinearAlignCorners1d(h, f);
  const m = new Float32Array(h * h * f * f);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < h; x++) {
      for (let i = 0; i < f; i++) {
        const ay = a[i * h + y]!;
        if (ay === 0) continue;
        for (let j = 0; j < f; j++) m[(y * h + x) * f * f + i * f + j] = ay * a[j * h + x]!;
      }
    }
  }
  return m;
}

/** How a tap is pooled in the graph: not at all, by a native pooling op, or by MatMul. */
export type PoolingPlan = { op: 'identity' } | { op: 'global' } | { op: 'averagePool'; kernel: number } | { op: 'matmul' };

export function poolingPlan(kind: Pooling, h: number, f: number): PoolingPlan {
  if (h === f) return { op: 'identity' };
  if (kind === 'average' && f === 1) return { op: 'global' };
  if (kind === 'average' && h % f === 0) return { op: 'averagePool', kernel: h / f };
  return { op: 'matmul' };
}
