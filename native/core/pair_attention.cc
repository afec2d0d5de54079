#include "core/pair_attention.h"

#include <algorithm>
#include <cmath>

namespace lwfm {

void PairAttention(const float* r, std::size_t ld, int p, float inv_t_attn, ExpFn exp_fn, float* scratch,
                   float* a_s, float* a_q) {
  const int pp = p * p;
  float* logits = scratch;  // [0, pp): column-standardised, stored transposed (j-major); [pp, 2pp): rows
  const float inv_dof = 1.0f / static_cast<float>(p - 1);
  // Support side: standardise each column j over i; store as row j so softmax runs contiguously.
  for (int j = 0; j < p; ++j) {
    float mean = 0;
    for (int i = 0; i < p; ++i) mean += r[i * ld + j];
    mean /= p;
    float var = 0;
    for (int i = 0; i < p; ++i) {
      const float d = r[i * ld + j] - mean;
      var += d * d;
    }
    const float scale = inv_t_attn / std::sqrt(var * inv_dof + 1e-5f);
    float mx = -INFINITY;
    for (int i = 0; i < p; ++i) {
      const float v = (r[i * ld + j] - mean) * scale;
      logits[j * p + i] = v;
      mx = std::max(mx, v);
    }
    for (int i = 0; i < p; ++i) logits[j * p + i] -= mx;
  }
  // Query side: standardise each row i over j.
  float* rows = scratch + pp;
  for (int i = 0; i < p; ++i) {
    const float* ri = r + i * ld;
    float mean = 0;
    for (int j = 0; j < p; ++j) mean += ri[j];
    mean /= p;
    float var = 0;
    for (int j = 0; j < p; ++j) {
      const float d = ri[j] - mean;
      var += d * d;
    }
    const float scale = inv_t_attn / std::sqrt(var * inv_dof + 1e-5f);
    float mx = -INFINITY;
    for (int j = 0; j < p; ++j) {
      const float v = (ri[j] - mean) * scale;
      rows[i * p + j] = v;
      mx = std::max(mx, v);
    }
    for (int j = 0; j < p; ++j) rows[i * p + j] -= mx;
  }
  exp_fn(scratch, scratch, 2 * pp);
  std::fill(a_s, a_s + p, 0.0f);
  std::fill(a_q, a_q + p, 0.0f);
  for (int k = 0; k < p; ++k) {
    const float* e = logits + k * p;
    float sum = 0;
    for (int i = 0; i < p; ++i) sum += e[i];
    const float inv = 1.0f / sum;
    for (int i = 0; i < p; ++i) a_s[i] += e[i] * inv;
    const float* f = rows + k * p;
    sum = 0;
    for (int j = 0; j < p; ++j) sum += f[j];
    const float invr = 1.0f / sum;
    for (int j = 0; j < p; ++j) a_q[j] += f[j] * invr;
  }
}

}  // namespace lwfm
