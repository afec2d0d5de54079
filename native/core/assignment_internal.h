// Pieces of the assignment solver shared between its translation units; not public.
#pragma once

#include <cstdint>

#include "core/cpu_features.h"

namespace lwfm {
namespace assign_detail {

// Columns are padded to a whole number of SIMD vectors of doubles so kernels never need
// a tail loop; padding columns hold +inf costs and zero duals and are never chosen.
inline int PaddedCols(int cols, SimdLevel simd) {
  const int lanes = simd == SimdLevel::kAvx512 ? 8 : simd == SimdLevel::kAvx2 ? 4 : 1;
  return (cols + lanes - 1) / lanes * lanes;
}

// Buffers of one LAPJV solve. cost is rows x stride (doubles, already sign-flipped for
// maximize, +inf in padding); the rest have `stride` entries except free_rows (rows).
struct LapBuffers {
  const double* cost;
  int rows, cols, stride;
  double* v;        // column duals
  double* w;        // v, or -inf once a column is settled in the current search
  double* dist;     // tentative distances of unsettled columns, +inf when settled
  double* settled;  // distance at which each settled column was settled
  std::int64_t* pred;
  std::int32_t* row4col;
  std::int32_t* col4row;
  std::int32_t* free_rows;
  std::int32_t* settled_cols;
};

// Exact solve of a finite-cost problem (every entry finite, rows <= cols, cols >= 2):
// column reduction + reduction transfer (square only), augmenting row reduction, then
// Dijkstra augmentation. One copy per SIMD level (assignment_lapjv_<level>.cc); `stride`
// must be PaddedCols(cols, level). Returns false only if a search finds no column
// (impossible with finite costs).
bool SolveLapjvScalar(const LapBuffers& b);
bool SolveLapjvAvx2(const LapBuffers& b);
bool SolveLapjvAvx512(const LapBuffers& b);

inline bool SolveLapjv(const LapBuffers& b, SimdLevel simd) {
  switch (simd) {
    case SimdLevel::kAvx512:
      return SolveLapjvAvx512(b);
    case SimdLevel::kAvx2:
      return SolveLapjvAvx2(b);
    default:
      return SolveLapjvScalar(b);
  }
}

// Square problems with 2 <= n <= kSmallSquareCols and finite costs, AVX2 (also used at the
// AVX-512 level): same operations and tie rule as SolveLapjv, so the same assignment.
// kNotHandled (some cost is inf or NaN) leaves the problem to the general path.
constexpr int kSmallSquareCols = 16;
enum class SmallResult { kSolved, kNotHandled };
SmallResult SolveSmallSquareAvx2(const float* cost, int n, bool maximize, std::int32_t* col_for_row);

// Shortest augmenting path that also handles +inf entries (forbidden pairs).
// Returns false when no finite complete assignment exists.
bool SolveWithForbidden(const double* cost, int rows, int cols, int stride, std::int32_t* col4row);

// One Dijkstra step over all columns: relaxes row `row` (distance offset h), then returns
// the index of the smallest tentative distance. Exposed per SIMD level for tests.
// Smallest and second smallest of row[j] - v[j] over all `stride` columns; `at` is the
// lowest index holding the smallest. Used by the row reductions.
struct TwoSmallest {
  double first, second;
  int at;
};

}  // namespace assign_detail
}  // namespace lwfm
