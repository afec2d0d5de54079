// Entry points of the exact assignment solver: validate and widen the costs to double
// (sign-flipped for maximize), then solve with Jonker-Volgenant (assignment_lapjv_impl.h,
// compiled per SIMD level in assignment_lapjv_<level>.cc),
// or with the forbidden-pair solver when some entry is +inf.
// Problems with at most kSmallCols columns (the head's 9x9 and 25x25) live entirely
// in stack arrays: no heap traffic, everything in L1. Square problems with at most 16
// columns and finite costs take a register-resident AVX2 copy of the same algorithm
// (assignment_small_avx2.cc) whenever the SIMD level is AVX2 or better.
#include "core/assignment.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/assignment_internal.h"
#include "core/thread_pool.h"

namespace lwfm {

namespace {

using assign_detail::LapBuffers;
using assign_detail::PaddedCols;

constexpr int kSmallCols = 32;
constexpr double kInf = std::numeric_limits<double>::infinity();

enum class Scan { kFinite, kForbidden, kInvalid };

// Copies rows x cols floats into a rows x stride double matrix (+inf padding), negated for
// maximize, and classifies it: NaN or -inf (after the flip) has no optimum, +inf forbids a pair.
// The common all-finite case is one integer test per entry (exponent bits all ones means
// inf or NaN), which compilers vectorize; only a matrix that fails it is classified in detail.
Scan WidenCosts(const float* cost, int rows, int cols, bool maximize, double* out, int stride) {
  const std::size_t count = static_cast<std::size_t>(rows) * cols;
  std::uint32_t nonfinite = 0;
  for (std::size_t k = 0; k < count; ++k) {
    std::uint32_t bits;
    std::memcpy(&bits, cost + k, sizeof bits);
    nonfinite |= static_cast<std::uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  const double sign = maximize ? -1.0 : 1.0;
  for (int i = 0; i < rows; ++i) {
    const float* src = cost + static_cast<std::size_t>(i) * cols;
    double* dst = out + static_cast<std::size_t>(i) * stride;
    for (int j = 0; j < cols; ++j) dst[j] = sign * static_cast<double>(src[j]);
    for (int j = cols; j < stride; ++j) dst[j] = kInf;
  }
  if (!nonfinite) return Scan::kFinite;
  bool forbidden = false;
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) {
      const double x = out[static_cast<std::size_t>(i) * stride + j];
      if (std::isnan(x) || x == -kInf) return Scan::kInvalid;
      forbidden |= x == kInf;
    }
  }
  return forbidden ? Scan::kForbidden : Scan::kFinite;
}

AssignStatus SolveWidened(const LapBuffers& b, Scan scan, SimdLevel simd, int32_t* col_for_row) {
  if (scan == Scan::kInvalid) return AssignStatus::kInvalid;
  if (scan == Scan::kFinite && b.cols >= 2 && assign_detail::SolveLapjv(b, simd)) {
    std::copy(b.col4row, b.col4row + b.rows, col_for_row);
    return AssignStatus::kOk;
  }
  // +inf entries, a single column, or (never expected) a search that found no column.
  return assign_detail::SolveWithForbidden(b.cost, b.rows, b.cols, b.stride, col_for_row) ? AssignStatus::kOk
                                                                                          : AssignStatus::kInfeasible;
}

AssignStatus SolveSmall(const float* cost, int rows, int cols, bool maximize, int32_t* col_for_row, SimdLevel simd) {
  if (rows == cols && cols >= 2 && cols <= assign_detail::kSmallSquareCols && simd != SimdLevel::kScalar &&
      assign_detail::SolveSmallSquareAvx2(cost, rows, maximize, col_for_row) == assign_detail::SmallResult::kSolved)
    return AssignStatus::kOk;
  const int stride = PaddedCols(cols, simd);
  alignas(64) double widened[kSmallCols * kSmallCols];
  alignas(64) double v[kSmallCols], w[kSmallCols], dist[kSmallCols], settled[kSmallCols];
  alignas(64) std::int64_t pred[kSmallCols];
  std::int32_t row4col[kSmallCols], col4row[kSmallCols], free_rows[kSmallCols], settled_cols[kSmallCols];
  const Scan scan = WidenCosts(cost, rows, cols, maximize, widened, stride);
  const LapBuffers b{widened, rows, cols, stride, v, w, dist, settled, pred, row4col, col4row, free_rows, settled_cols};
  return SolveWidened(b, scan, simd, col_for_row);
}

}  // namespace

AssignWorkspace::AssignWorkspace() : simd(ActiveSimd()) {}

AssignStatus SolveAssignment(const float* cost, int rows, int cols, bool maximize, int32_t* col_for_row,
                             AssignWorkspace& ws) {
  if (rows < 1 || cols < rows) return AssignStatus::kInvalid;
  if (cols <= kSmallCols) return SolveSmall(cost, rows, cols, maximize, col_for_row, ws.simd);
  const int stride = PaddedCols(cols, ws.simd);
  ws.cost.resize(static_cast<std::size_t>(rows) * stride);
  ws.v.resize(stride);
  ws.w.resize(stride);
  ws.dist.resize(stride);
  ws.settled.resize(stride);
  ws.pred.resize(stride);
  ws.row4col.resize(stride);
  ws.col4row.resize(stride);
  ws.free_rows.resize(stride);
  ws.settled_cols.resize(stride);
  const Scan scan = WidenCosts(cost, rows, cols, maximize, ws.cost.data(), stride);
  const LapBuffers b{ws.cost.data(),
                     rows,
                     cols,
                     stride,
                     ws.v.data(),
                     ws.w.data(),
                     ws.dist.data(),
                     ws.settled.data(),
                     ws.pred.data(),
                     ws.row4col.data(),
                     ws.col4row.data(),
                     ws.free_rows.data(),
                     ws.settled_cols.data()};
  return SolveWidened(b, scan, ws.simd, col_for_row);
}

std::int64_t SolveAssignmentBatch(const float* costs, std::size_t batch, int rows, int cols, bool maximize, int threads,
                                  int32_t* col_for_row, AssignStatus* status) {
  const std::size_t size = static_cast<std::size_t>(rows) * cols;
  const std::size_t grain = std::max<std::size_t>(1, 16384 / (size + 1));
  ParallelFor(batch, threads, grain, [&](std::size_t begin, std::size_t end) {
    AssignWorkspace ws;
    for (std::size_t b = begin; b < end; ++b) {
      status[b] = SolveAssignment(costs + b * size, rows, cols, maximize, col_for_row + b * rows, ws);
    }
  });
  for (std::size_t b = 0; b < batch; ++b)
    if (status[b] != AssignStatus::kOk) return static_cast<std::int64_t>(b);
  return -1;
}

}  // namespace lwfm
