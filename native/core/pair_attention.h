// Layer-wise embedding attention of one (query, support) pair and tap (docs/computation.md §3.2), from the
// P x P block of correlations R[i, j] (support pixel i, query pixel j).
#pragma once

#include "core/cpu_features.h"

namespace lwfm {

// a_s[i] = sum_j softmax_i(standardise_i(R[., j]) / T_attn)[i];
// a_q[j] = sum_i softmax_j(standardise_j(R[i, .]) / T_attn)[j].
// r is p x p row-major; scratch holds at least PairAttentionScratch(p) floats, zero-initialised once.
using PairAttentionFn = void (*)(const float* r, int p, float inv_t_attn, float* scratch, float* a_s, float* a_q);
PairAttentionFn PairAttentionFor(SimdLevel level);

inline int PairAttentionScratch(int p) { return 2 * ((p * p + 7) & ~7) + 4 * p; }

}  // namespace lwfm
