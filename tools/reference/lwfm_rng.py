"""Seeded random numbers of the lwfm-spm default model, identical to src/model/rng.ts.

All arithmetic is on unsigned 32-bit integers (wrapping):
  mix(x)        = lowbias32: x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16
  key(seed, s)  = mix(mix(s) ^ seed)
  u32(key, i)   = mix(key + i * 0x9e3779b9)
  normal(key,k) = sqrt(-2 ln u1) * cos(2 pi u2), u1 = (u32(key, 2k) + 0.5) / 2^32,
                  u2 = u32(key, 2k + 1) / 2^32   (Box-Muller in float64)
"""
import numpy as np

_M32 = np.uint64(0xFFFFFFFF)


def mix32(x):
    x = np.asarray(x, dtype=np.uint64) & _M32
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & _M32
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & _M32
    x ^= x >> np.uint64(16)
    return x


def stream_key(seed, stream):
    return int(mix32(int(mix32(stream)) ^ (seed & 0xFFFFFFFF)))


def u32(key, idx):
    idx = np.asarray(idx, dtype=np.uint64)
    return mix32((np.uint64(key) + idx * np.uint64(0x9E3779B9)) & _M32)


def normal(key, count, std):
    k = np.arange(count, dtype=np.uint64)
    u1 = (u32(key, 2 * k).astype(np.float64) + 0.5) / 4294967296.0
    u2 = u32(key, 2 * k + 1).astype(np.float64) / 4294967296.0
    return (std * (np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2))).astype(np.float32)


def uniform(key, count, lo, hi):
    k = np.arange(count, dtype=np.uint64)
    return (lo + (hi - lo) * (u32(key, k).astype(np.float64) / 4294967296.0)).astype(np.float32)
