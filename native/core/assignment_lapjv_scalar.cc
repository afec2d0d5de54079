// Jonker-Volgenant at the scalar level, for any CPU. The kernels are branch-free so the
// compiler can vectorize them with baseline SSE2 and random data causes no mispredictions.
#include <cstddef>
#include <cstdint>
#include <limits>

#include "core/assignment_internal.h"

namespace lwfm {
namespace assign_detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

inline void ColumnMinima(const double* cost, int rows, int stride, double* minima, double* at_row) {
  for (int j = 0; j < stride; ++j) {
    minima[j] = cost[j];
    at_row[j] = 0.0;
  }
  for (int i = 1; i < rows; ++i) {
    const double* row = cost + static_cast<std::size_t>(i) * stride;
    for (int j = 0; j < stride; ++j) {
      const bool lower = row[j] < minima[j];
      minima[j] = lower ? row[j] : minima[j];
      at_row[j] = lower ? static_cast<double>(i) : at_row[j];
    }
  }
}

inline TwoSmallest TwoSmallestOf(const double* row, const double* v, int stride) {
  double first = kInf, second = kInf;
  int at = -1;
  for (int j = 0; j < stride; ++j) {
    const double h = row[j] - v[j];
    const bool lower = h < first;
    second = lower ? first : (h < second ? h : second);
    at = lower ? j : at;
    first = lower ? h : first;
  }
  return {first, second, at};
}

inline int RelaxArgmin(const double* cost_row, const double* w, double* dist, std::int64_t* pred, double h,
                       std::int64_t row, int stride) {
  double best = kInf;
  int arg = -1;
  for (int j = 0; j < stride; ++j) {
    const double r = (h + cost_row[j]) - w[j];
    if (r < dist[j]) {
      dist[j] = r;
      pred[j] = row;
    }
    if (dist[j] < best) {
      best = dist[j];
      arg = j;
    }
  }
  return arg;
}

#include "core/assignment_lapjv_impl.h"

}  // namespace

bool SolveLapjvScalar(const LapBuffers& b) { return SolveLapjvImpl(b); }

}  // namespace assign_detail
}  // namespace lwfm
