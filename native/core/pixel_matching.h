// Semantic-pixel matching of one pair and tap (docs/computation.md §3.3): the assignment sigma minimising
// sum_i K[i, sigma(i)] for a square cost matrix.
#pragma once

#include <cstdint>

#include "core/assignment.h"

namespace lwfm {

// Writes sigma into col_for_row. When the row minima (or the column minima) already sit in
// distinct columns (rows), that permutation reaches the lower bound sum of minima and is
// optimal, so the solver is skipped (frequent when pixels have one clear partner). Otherwise
// SolveAssignment. Returns false only if the solver fails (non-finite costs).
bool MatchPixels(const float* cost, int p, int32_t* col_for_row, AssignWorkspace& ws);

}  // namespace lwfm
