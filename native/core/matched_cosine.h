// The attention factor of a matched cosine (docs/computation.md §3.3 with the §4 identities), shared by the
// CPU engine and the CUDA kernels (host + device code).
//
// The matched vectors are u = a w with a > 0 the pixel's attention weight and w = z + g_l(z) (or
// w = z without an MLP) computed once per image (g_l is positively homogeneous). Both engines keep
// w^ = w / max(|w|, 1e-8) per image. docs/computation.md's cosine guards each norm with 1e-8:
//   cos(a w_s, b w_q) = a b (w_s . w_q) / (max(a |w_s|, 1e-8) max(b |w_q|, 1e-8))
//                     = (w^_s . w^_q) * MatchedCosineFactor(a, |w_s|) * MatchedCosineFactor(b, |w_q|),
//   MatchedCosineFactor(a, n) = a max(n, 1e-8) / max(a n, 1e-8).
// The factor is exactly 1 whenever a n >= 1e-8 and n >= 1e-8 (every pixel of ordinary features);
// it falls below 1 when the attention weight is so small (temperatureAttn near 0.05 gives
// a ~ 1e-17) that a |w| < 1e-8, and it is a itself for a zero vector (whose w^ is 0 anyway).
// An attention weight that underflowed float32 to 0 gives 0, the limit of the exact value (below
// 1e-30 |w| there).
#pragma once

#if defined(__CUDACC__)
#define LWFM_MATCHED_COSINE_HD __host__ __device__ __forceinline__
#else
#define LWFM_MATCHED_COSINE_HD inline
#endif

namespace lwfm {

constexpr float kCosineNormGuard = 1e-8f;

LWFM_MATCHED_COSINE_HD float MatchedCosineFactor(float a, float n) {
  const float an = a * n;
  // The common case without a division: a n / (a n) would be exactly 1 anyway.
  if (an >= kCosineNormGuard && n >= kCosineNormGuard) return 1.0f;
  return a * (n > kCosineNormGuard ? n : kCosineNormGuard) / (an > kCosineNormGuard ? an : kCosineNormGuard);
}

// True when every factor of these p pixels is 1 (a n >= 1e-8 and n >= 1e-8 for all): the CPU
// engine's per-pair test before it applies any factor. Written as an OR of "<" tests, a form
// GCC vectorises (an AND of ">=" tests stayed scalar: 250 instructions per pair and tap).
inline bool MatchedCosineFactorsAreOne(const float* a, const float* n, int p) {
  int below = 0;
  for (int i = 0; i < p; ++i) below |= (a[i] * n[i] < kCosineNormGuard) | (n[i] < kCosineNormGuard);
  return below == 0;
}

}  // namespace lwfm
