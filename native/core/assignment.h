// Exact rectangular linear assignment (SPEC §3.3), the solver behind
// solveAssignments() and the head's semantic-pixel matching.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lwfm {

enum class AssignStatus {
  kOk = 0,
  kInvalid = 1,     // NaN anywhere, or -inf (after the sign flip of maximize): no optimum exists
  kInfeasible = 2,  // every complete assignment uses a +inf cost
};

// Scratch memory reused across problems so a batch allocates once per thread.
struct AssignWorkspace {
  std::vector<double> u, v, shortest;
  std::vector<int32_t> path, row4col, remaining;
  std::vector<uint8_t> seen_rows, seen_cols;
  std::vector<float> scratch;  // sign-flipped copy for maximize
};

// Solves min (or max) sum_i cost[i * cols + col_for_row[i]] over injective
// col_for_row: [0, rows) -> [0, cols). Requires 1 <= rows <= cols. Same optimum as
// scipy.optimize.linear_sum_assignment; ties may resolve differently.
AssignStatus SolveAssignment(const float* cost, int rows, int cols, bool maximize,
                             int32_t* col_for_row, AssignWorkspace& ws);

// Solves `batch` problems stored back to back. status[b] receives each problem's status;
// returns the index of the first problem that is not kOk, or -1.
std::int64_t SolveAssignmentBatch(const float* costs, std::size_t batch, int rows, int cols,
                                  bool maximize, int threads, int32_t* col_for_row,
                                  AssignStatus* status);

}  // namespace lwfm
