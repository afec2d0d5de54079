#include "core/pair_attention.h"

#include <algorithm>
#include <cmath>

#include "core/simd_ops.h"

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
  if (p == 9) PairAttentionBody<9>(r, p, inv_t_attn, ExpFor(SimdLevel::kScalar), scratch, a_s, a_q);
  else PairAttentionBody<0>(r, p, inv_t_attn, ExpFor(SimdLevel::kScalar), scratch, a_s, a_q);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) void PairAttentionAvx2(const float* r, int p, float inv_t_attn, float* scratch,
                                                           float* a_s, float* a_q) {
  static const ExpFn exp_avx2 = ExpFor(SimdLevel::kAvx2);
  if (p == 9) PairAttentionBody<9>(r, p, inv_t_attn, exp_avx2, scratch, a_s, a_q);
  else PairAttentionBody<0>(r, p, inv_t_attn, exp_avx2, scratch, a_s, a_q);
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
