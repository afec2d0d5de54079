/**
 * Test reference (the package itself runs the native port, native/core/pil_resize.cc):
 * Pillow's bilinear resize (Image.resize(..., BILINEAR), which torchvision's Resize uses
 * on PIL images): a separable triangle filter widened by the downscale factor
 * (antialiasing), horizontal pass then vertical pass, 8-bit intermediate, coefficients in
 * 22-bit fixed point with round-half-up, as in Pillow's Resample.c. Reimplemented from the
 * algorithm's description so that results match torchvision to the last bit in most
 * pixels; sharp's own resamplers use other pixel conventions when upscaling.
 */

const PRECISION_BITS = 32 - 8 - 2;

interface Coefficients {
  /** First input index of each output pixel. */
  start: Int32Array;
  /** Number of taps of each output pixel. */
  count: Int32Array;
  /** Fixed-point weights, `kmax` per output pixel. */
  weights: Int32Array;
  kmax: number;
}

function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 1 * filterScale; // bilinear filter support is 1
  const kmax = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * kmax);
  const k = new Float64Array(kmax);
  const ss = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // Pillow truncates toward zero with a C cast; both operands are >= -0.5 here, so trunc.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < xmax; x++) {
      const t = Math.abs((x + xmin - center + 0.5) * ss);
      const w = t < 1 ? 1 - t : 0;
      k[x] = w;
      total += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = total !== 0 ? k[x]! / total : 0;
      weights[xx * kmax + x] = Math.trunc(w < 0 ? w * (1 << PRECISION_BITS) - 0.5 : w * (1 << PRECISION_BITS) + 0.5);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { start, count, weights, kmax };
}

function clip8(v: number): number {
  const s = v >> PRECISION_BITS;
  return s < 0 ? 0 : s > 255 ? 255 : s;
}

/**
 * Resizes interleaved 8-bit RGB (width x height) to outW x outH.
 * @example const small = resizeBilinearPil(rgb, 120, 90, 92, 92);
 */
export function resizeBilinearPil(src: Uint8Array, width: number, height: number, outW: number, outH: number): Uint8Array {
  const half = 1 << (PRECISION_BITS - 1);
  let cur = src;
  let curW = width;
  if (outW !== width) {
    const c = coefficients(width, outW);
    const tmp = new Uint8Array(outW * height * 3);
    for (let y = 0; y < height; y++) {
      const row = y * width * 3;
      for (let xx = 0; xx < outW; xx++) {
        const x0 = c.start[xx]!;
        const n = c.count[xx]!;
        const base = xx * c.kmax;
        let r = half;
        let g = half;
        let b = half;
        for (let x = 0; x < n; x++) {
          const w = c.weights[base + x]!;
          const p = row + (x0 + x) * 3;
          // products stay below 2^31: 255 * 2^22 * (sum of weights ~1)
          r += cur[p]! * w;
          g += cur[p + 1]! * w;
          b += cur[p + 2]! * w;
        }
        const o = (y * outW + xx) * 3;
        tmp[o] = clip8(r);
        tmp[o + 1] = clip8(g);
        tmp[o + 2] = clip8(b);
      }
    }
    cur = tmp;
    curW = outW;
  }
  if (outH !== height) {
    const c = coefficients(height, outH);
    const out = new Uint8Array(curW * outH * 3);
    for (let yy = 0; yy < outH; yy++) {
      const y0 = c.start[yy]!;
      const n = c.count[yy]!;
      const base = yy * c.kmax;
      for (let x = 0; x < curW * 3; x++) {
        let v = half;
        for (let y = 0; y < n; y++) v += cur[(y0 + y) * curW * 3 + x]! * c.weights[base + y]!;
        out[yy * curW * 3 + x] = clip8(v);
      }
    }
    cur = out;
  }
  return cur === src ? src.slice() : cur;
}
