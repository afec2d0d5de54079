#include "core/pair_attention.h"

#include <algorithm>
#include <cmath>

#include "core/simd_ops.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace lwfm {
namespace {

// For m (p x p, row-major), standardises every column over the rows, softmaxes it over the rows
// and returns out[row] = sum over columns of the softmax. Every loop runs over columns in its
// innermost position, so the p column reductions proceed in parallel SIMD lanes instead of as
// p latency-bound scalar chains. Inlined into one clone per ISA.
// kP > 0 fixes p at compile time (fully unrolled loops for the common F = 3); 0 = runtime p.
template <int kP>
__attribute__((always_inline)) inline void ColumnSoftmaxRowSums(const float* m, int p_runtime, float inv_t_attn,
                                                                ExpFn exp_fn, float* e, float* col, float* out) {
  const int p = kP > 0 ? kP : p_runtime;
  float* mean = col;
  float* scale = col + p;
  float* mx = col + 2 * p;
  float* inv_sum = col + 3 * p;
  for (int j = 0; j < p; ++j) mean[j] = 0.0f;
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j) mean[j] += m[i * p + j];
  const float inv_p = 1.0f / p, inv_dof = 1.0f / (p - 1);
  for (int j = 0; j < p; ++j) {
    mean[j] *= inv_p;
    scale[j] = 0.0f;
  }
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j) {
      const float d = m[i * p + j] - mean[j];
      scale[j] += d * d;
    }
  for (int j = 0; j < p; ++j) {
    scale[j] = inv_t_attn / std::sqrt(scale[j] * inv_dof + 1e-5f);
    mx[j] = -INFINITY;
  }
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j) {
      const float v = (m[i * p + j] - mean[j]) * scale[j];
      e[i * p + j] = v;
      mx[j] = std::max(mx[j], v);
    }
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j) e[i * p + j] -= mx[j];
  exp_fn(e, e, (p * p + 7) & ~7);  // padded: no scalar tail; e has room (see PairAttentionBody)
  for (int j = 0; j < p; ++j) inv_sum[j] = 0.0f;
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j) inv_sum[j] += e[i * p + j];
  for (int j = 0; j < p; ++j) inv_sum[j] = 1.0f / inv_sum[j];
  for (int i = 0; i < p; ++i) {
    float s = 0.0f;
    for (int j = 0; j < p; ++j) s += e[i * p + j] * inv_sum[j];
    out[i] = s;
  }
}

template <int kP>
__attribute__((always_inline)) inline void PairAttentionBody(const float* r, int p_runtime, float inv_t_attn,
                                                             ExpFn exp_fn, float* scratch, float* a_s, float* a_q) {
  const int p = kP > 0 ? kP : p_runtime;
  const int pp = p * p;
  const int pp_padded = (pp + 7) & ~7;
  float* rt = scratch;
  float* e = scratch + pp_padded;
  float* col = scratch + 2 * pp_padded;
  // Support side: columns of R over i.
  ColumnSoftmaxRowSums<kP>(r, p, inv_t_attn, exp_fn, e, col, a_s);
  // Query side: rows of R over j = columns of R^T.
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j) rt[j * p + i] = r[i * p + j];
  ColumnSoftmaxRowSums<kP>(rt, p, inv_t_attn, exp_fn, e, col, a_q);
}

void PairAttentionScalar(const float* r, int p, float inv_t_attn, float* scratch, float* a_s, float* a_q) {
  if (p == 9)
    PairAttentionBody<9>(r, p, inv_t_attn, ExpFor(SimdLevel::kScalar), scratch, a_s, a_q);
  else
    PairAttentionBody<0>(r, p, inv_t_attn, ExpFor(SimdLevel::kScalar), scratch, a_s, a_q);
}

#if defined(__x86_64__) || defined(__i386__)

// exp on 8 lanes (same polynomial as simd_ops' ExpAvx2), kept in registers.
__attribute__((target("avx2,fma"))) inline __m256 Exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i pow2 = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(pow2));
}

__attribute__((target("avx2,fma"))) inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// ColumnSoftmaxRowSums for p <= 16 with every row held as two 8-lane registers (columns 0-7
// and 8-15; lanes >= p masked), so all p column reductions run as whole-vector operations.
__attribute__((target("avx2,fma"))) inline void ColumnSoftmaxRowSums16(const float* m, int p, float inv_t_attn,
                                                                       float* out) {
  const __m256i lanes_lo = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i lanes_hi = _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15);
  const __m256i p_vec = _mm256_set1_epi32(p);
  const __m256i mask_lo = _mm256_cmpgt_epi32(p_vec, lanes_lo);
  const __m256i mask_hi = _mm256_cmpgt_epi32(p_vec, lanes_hi);
  __m256 lo[16], hi[16];
  __m256 sum_lo = _mm256_setzero_ps(), sum_hi = _mm256_setzero_ps();
  for (int i = 0; i < p; ++i) {
    lo[i] = _mm256_maskload_ps(m + i * p, mask_lo);
    hi[i] = _mm256_maskload_ps(m + i * p + 8, mask_hi);
    sum_lo = _mm256_add_ps(sum_lo, lo[i]);
    sum_hi = _mm256_add_ps(sum_hi, hi[i]);
  }
  const __m256 inv_p = _mm256_set1_ps(1.0f / p);
  const __m256 mean_lo = _mm256_mul_ps(sum_lo, inv_p), mean_hi = _mm256_mul_ps(sum_hi, inv_p);
  __m256 var_lo = _mm256_setzero_ps(), var_hi = _mm256_setzero_ps();
  for (int i = 0; i < p; ++i) {
    lo[i] = _mm256_sub_ps(lo[i], mean_lo);
    hi[i] = _mm256_sub_ps(hi[i], mean_hi);
    var_lo = _mm256_fmadd_ps(lo[i], lo[i], var_lo);
    var_hi = _mm256_fmadd_ps(hi[i], hi[i], var_hi);
  }
  const __m256 inv_dof = _mm256_set1_ps(1.0f / (p - 1)), eps = _mm256_set1_ps(1e-5f);
  const __m256 t = _mm256_set1_ps(inv_t_attn);
  const __m256 scale_lo = _mm256_div_ps(t, _mm256_sqrt_ps(_mm256_fmadd_ps(var_lo, inv_dof, eps)));
  const __m256 scale_hi = _mm256_div_ps(t, _mm256_sqrt_ps(_mm256_fmadd_ps(var_hi, inv_dof, eps)));
  __m256 mx_lo = _mm256_set1_ps(-INFINITY), mx_hi = _mm256_set1_ps(-INFINITY);
  for (int i = 0; i < p; ++i) {
    lo[i] = _mm256_mul_ps(lo[i], scale_lo);
    hi[i] = _mm256_mul_ps(hi[i], scale_hi);
    mx_lo = _mm256_max_ps(mx_lo, lo[i]);
    mx_hi = _mm256_max_ps(mx_hi, hi[i]);
  }
  sum_lo = _mm256_setzero_ps();
  sum_hi = _mm256_setzero_ps();
  for (int i = 0; i < p; ++i) {
    lo[i] = Exp8(_mm256_sub_ps(lo[i], mx_lo));
    hi[i] = Exp8(_mm256_sub_ps(hi[i], mx_hi));
    sum_lo = _mm256_add_ps(sum_lo, lo[i]);
    sum_hi = _mm256_add_ps(sum_hi, hi[i]);
  }
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 inv_lo = _mm256_and_ps(_mm256_div_ps(one, sum_lo), _mm256_castsi256_ps(mask_lo));
  const __m256 inv_hi = _mm256_and_ps(_mm256_div_ps(one, sum_hi), _mm256_castsi256_ps(mask_hi));
  for (int i = 0; i < p; ++i) out[i] = HorizontalSum(_mm256_fmadd_ps(lo[i], inv_lo, _mm256_mul_ps(hi[i], inv_hi)));
}

__attribute__((target("avx2,fma"))) void PairAttentionAvx2(const float* r, int p, float inv_t_attn, float* scratch,
                                                           float* a_s, float* a_q) {
  if (p <= 16) {
    float* rt = scratch;
    for (int i = 0; i < p; ++i)
      for (int j = 0; j < p; ++j) rt[j * p + i] = r[i * p + j];
    ColumnSoftmaxRowSums16(r, p, inv_t_attn, a_s);
    ColumnSoftmaxRowSums16(rt, p, inv_t_attn, a_q);
    return;
  }
  static const ExpFn exp_avx2 = ExpFor(SimdLevel::kAvx2);
  if (p == 9)
    PairAttentionBody<9>(r, p, inv_t_attn, exp_avx2, scratch, a_s, a_q);
  else
    PairAttentionBody<0>(r, p, inv_t_attn, exp_avx2, scratch, a_s, a_q);
}
#endif

}  // namespace

PairAttentionFn PairAttentionFor(SimdLevel level) {
#if defined(__x86_64__) || defined(__i386__)
  if (level != SimdLevel::kScalar) return PairAttentionAvx2;
#endif
  (void)level;
  return PairAttentionScalar;
}

}  // namespace lwfm
