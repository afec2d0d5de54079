// Layer-wise embedding attention of one (query, support) pair and tap (SPEC §3.2), from the
// P x P block of correlations R[i, j] (support pixel i, query pixel j).
#pragma once

#include <cstddef>

#include "core/simd_ops.h"

namespace lwfm {

// a_s[i] = sum_j softmax_i(standardise_i(R[., j]) / T_attn)[i];
// a_q[j] = sum_i softmax_j(standardise_j(R[i, .]) / T_attn)[j].
// r has row stride ld; scratch holds at least 2 * p * p floats.
void PairAttention(const float* r, std::size_t ld, int p, float inv_t_attn, ExpFn exp_fn, float* scratch,
                   float* a_s, float* a_q);

}  // namespace lwfm
