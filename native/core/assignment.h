// Exact rectangular linear assignment (docs/computation.md §3.3), the solver behind
// solveAssignments() and the head's semantic-pixel matching.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/cpu_features.h"

namespace lwfm {

enum class AssignStatus {
  kOk = 0,
  kInvalid = 1,     // NaN anywhere, or -inf (after the sign flip of maximize): no optimum exists
  kInfeasible = 2,  // every complete assignment uses a +inf cost
};

// Scratch memory reused across problems so a batch allocates once per thread (problems
// with at most 32 columns use stack arrays instead). It also fixes the SIMD path, read
// from ActiveSimd() when the workspace is made, so the per-problem cost stays tiny.
struct AssignWorkspace {
  AssignWorkspace();
  SimdLevel simd;
  std::vector<double> cost, v, w, dist, settled;
  std::vector<std::int64_t> pred;
  std::vector<std::int32_t> row4col, col4row, free_rows, settled_cols;
};

// Solves min (or max) sum_i cost[i * cols + col_for_row[i]] over injective
// col_for_row: [0, rows) -> [0, cols). Requires 1 <= rows <= cols. Same optimum as
// scipy.optimize.linear_sum_assignment; ties may resolve differently. Every SIMD path
// gives bit-identical results. Thread-safe with one workspace per thread.
AssignStatus SolveAssignment(const float* cost, int rows, int cols, bool maximize, int32_t* col_for_row,
                             AssignWorkspace& ws);

// Solves `batch` problems stored back to back. status[b] receives each problem's status;
// returns the index of the first problem that is not kOk, or -1.
std::int64_t SolveAssignmentBatch(const float* costs, std::size_t batch, int rows, int cols, bool maximize, int threads,
                                  int32_t* col_for_row, AssignStatus* status);

}  // namespace lwfm
