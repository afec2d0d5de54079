/**
 * The seeded random numbers of the default model. Counter-based so that every weight is
 * a pure function of (seed, stream, index): the Python fixture script
 * (tools/reference/lwfm_rng.py) computes the same values vectorised with numpy.
 *
 * Definition (all arithmetic on unsigned 32-bit integers, wrapping):
 *   mix(x)        = lowbias32: x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16
 *   key(seed, s)  = mix(mix(s) ^ seed)
 *   u32(key, i)   = mix(key + i * 0x9e3779b9)
 *   normal(key,k) = sqrt(-2 ln u1) * cos(2 pi u2), u1 = (u32(key, 2k) + 0.5) / 2^32,
 *                   u2 = u32(key, 2k + 1) / 2^32   (Box-Muller in float64)
 */

/** lowbias32 integer hash (Chris Wellons), a bijection on 32-bit integers. */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return x;
}

/** Key of one random stream (one weight tensor) under a seed. */
export function streamKey(seed: number, stream: number): number {
  return mix32((mix32(stream >>> 0) ^ (seed >>> 0)) >>> 0);
}

/** The i-th 32-bit value of a stream. */
export function u32(key: number, i: number): number {
  return mix32((key + Math.imul(i >>> 0, 0x9e3779b9)) >>> 0);
}

const TWO_POW_32 = 4294967296;

/**
 * Fills `out` with `std` times standard normal values of the stream `key`.
 * @example
 * const w = new Float32Array(64 * 3 * 7 * 7);
 * fillNormal(w, streamKey(1, 0), Math.sqrt(2 / (64 * 49)));
 */
export function fillNormal(out: Float32Array, key: number, std: number): Float32Array {
  for (let k = 0; k < out.length; k++) {
    const u1 = (u32(key, 2 * k) + 0.5) / TWO_POW_32;
    const u2 = u32(key, 2 * k + 1) / TWO_POW_32;
    out[k] = std * (Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
  }
  return out;
}

/** Uniform values in [lo, hi) of the stream `key` (used for deterministic test inputs). */
export function fillUniform(out: Float32Array, key: number, lo: number, hi: number): Float32Array {
  for (let k = 0; k < out.length; k++) out[k] = lo + (hi - lo) * (u32(key, k) / TWO_POW_32);
  return out;
}
