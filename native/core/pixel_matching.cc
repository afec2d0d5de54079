#include "core/pixel_matching.h"

namespace lwfm {
namespace {

// If every row's minimum lies in a distinct column, that permutation attains the lower bound
// sum_i min_j K[i, j] and is optimal.
bool RowMinimaArePermutation(const float* cost, int p, int32_t* col_for_row) {
  uint64_t used = 0;
  for (int i = 0; i < p; ++i) {
    const float* row = cost + i * p;
    int best = 0;
    for (int j = 1; j < p; ++j)
      if (row[j] < row[best]) best = j;
    const uint64_t bit = uint64_t{1} << best;
    if (used & bit) return false;
    used |= bit;
    col_for_row[i] = best;
  }
  return true;
}

// The same with column minima (lower bound sum_j min_i K[i, j]).
bool ColumnMinimaArePermutation(const float* cost, int p, int32_t* col_for_row) {
  uint64_t used = 0;
  for (int j = 0; j < p; ++j) {
    int best = 0;
    for (int i = 1; i < p; ++i)
      if (cost[i * p + j] < cost[best * p + j]) best = i;
    const uint64_t bit = uint64_t{1} << best;
    if (used & bit) return false;
    used |= bit;
    col_for_row[best] = j;
  }
  return true;
}

}  // namespace

bool MatchPixels(const float* cost, int p, int32_t* col_for_row, AssignWorkspace& ws) {
  if (p <= 64 && (RowMinimaArePermutation(cost, p, col_for_row) || ColumnMinimaArePermutation(cost, p, col_for_row)))
    return true;
  return SolveAssignment(cost, p, p, false, col_for_row, ws) == AssignStatus::kOk;
}

}  // namespace lwfm
