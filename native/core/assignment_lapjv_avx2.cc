// Jonker-Volgenant with AVX2 kernels (4 doubles per vector). The whole solver in this file is
// compiled for AVX2 (the pragma comes after every #include, so no shared inline function
// from a header is ever emitted with AVX2 instructions) and is only called when
// ActiveSimd() reports AVX2. Every level performs the same double operations in the same
// order and breaks ties towards the lowest index, so all levels return identical results.
#include <cstddef>
#include <cstdint>
#include <limits>

#include "core/assignment_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

namespace lwfm {
namespace assign_detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

inline __m256d BroadcastMin(__m256d x) {
  x = _mm256_min_pd(x, _mm256_permute2f128_pd(x, x, 1));
  return _mm256_min_pd(x, _mm256_permute_pd(x, 0b0101));
}

inline __m256d MinIndexWhereEqual(__m256d value, __m256d target, __m256d index) {
  return BroadcastMin(_mm256_blendv_pd(_mm256_set1_pd(kInf), index, _mm256_cmp_pd(value, target, _CMP_EQ_OQ)));
}

inline void ColumnMinima(const double* cost, int rows, int stride, double* minima, double* at_row) {
  for (int j = 0; j < stride; j += 4) {
    __m256d lowest = _mm256_loadu_pd(cost + j);
    __m256d at = _mm256_setzero_pd();
    __m256d i_vec = _mm256_setzero_pd();
    const __m256d one = _mm256_set1_pd(1.0);
    for (int i = 1; i < rows; ++i) {
      i_vec = _mm256_add_pd(i_vec, one);
      const __m256d c = _mm256_loadu_pd(cost + static_cast<std::size_t>(i) * stride + j);
      const __m256d lower = _mm256_cmp_pd(c, lowest, _CMP_LT_OQ);
      lowest = _mm256_blendv_pd(lowest, c, lower);
      at = _mm256_blendv_pd(at, i_vec, lower);
    }
    _mm256_storeu_pd(minima + j, lowest);
    _mm256_storeu_pd(at_row + j, at);
  }
}

inline TwoSmallest TwoSmallestOf(const double* row, const double* v, int stride) {
  __m256d first = _mm256_set1_pd(kInf), second = first;
  __m256d at = _mm256_set1_pd(-1.0);
  __m256d index = _mm256_setr_pd(0.0, 1.0, 2.0, 3.0);
  const __m256d four = _mm256_set1_pd(4.0);
  for (int j = 0; j < stride; j += 4) {
    const __m256d h = _mm256_sub_pd(_mm256_loadu_pd(row + j), _mm256_loadu_pd(v + j));
    const __m256d lower = _mm256_cmp_pd(h, first, _CMP_LT_OQ);
    second = _mm256_blendv_pd(_mm256_min_pd(second, h), first, lower);
    at = _mm256_blendv_pd(at, index, lower);
    first = _mm256_blendv_pd(first, h, lower);
    index = _mm256_add_pd(index, four);
  }
  const __m256d lowest = BroadcastMin(first);
  const __m256d lowest_at = MinIndexWhereEqual(first, lowest, at);
  // Every lane's first except the winner's competes with the lanes' seconds.
  const __m256d others = _mm256_blendv_pd(first, _mm256_set1_pd(kInf), _mm256_cmp_pd(at, lowest_at, _CMP_EQ_OQ));
  const __m256d runner_up = BroadcastMin(_mm256_min_pd(second, others));
  const double f = _mm256_cvtsd_f64(lowest);
  return {f, _mm256_cvtsd_f64(runner_up), f == kInf ? -1 : static_cast<int>(_mm256_cvtsd_f64(lowest_at))};
}

inline int RelaxArgmin(const double* cost_row, const double* w, double* dist, std::int64_t* pred, double h,
                       std::int64_t row, int stride) {
  const __m256d hv = _mm256_set1_pd(h);
  const __m256d rowv = _mm256_castsi256_pd(_mm256_set1_epi64x(row));
  const __m256d four = _mm256_set1_pd(4.0);
  __m256d best = _mm256_set1_pd(kInf);
  __m256d best_index = _mm256_set1_pd(-1.0);
  __m256d index = _mm256_setr_pd(0.0, 1.0, 2.0, 3.0);
  for (int j = 0; j < stride; j += 4) {
    const __m256d r = _mm256_sub_pd(_mm256_add_pd(hv, _mm256_loadu_pd(cost_row + j)), _mm256_loadu_pd(w + j));
    __m256d d = _mm256_loadu_pd(dist + j);
    const __m256d lower = _mm256_cmp_pd(r, d, _CMP_LT_OQ);
    d = _mm256_blendv_pd(d, r, lower);
    _mm256_storeu_pd(dist + j, d);
    double* pred_lanes = reinterpret_cast<double*>(pred + j);
    _mm256_storeu_pd(pred_lanes, _mm256_blendv_pd(_mm256_loadu_pd(pred_lanes), rowv, lower));
    const __m256d better = _mm256_cmp_pd(d, best, _CMP_LT_OQ);
    best = _mm256_blendv_pd(best, d, better);
    best_index = _mm256_blendv_pd(best_index, index, better);
    index = _mm256_add_pd(index, four);
  }
  const __m256d lowest = BroadcastMin(best);
  if (_mm256_cvtsd_f64(lowest) == kInf) return -1;
  return static_cast<int>(_mm256_cvtsd_f64(MinIndexWhereEqual(best, lowest, best_index)));
}

#include "core/assignment_lapjv_impl.h"

}  // namespace

bool SolveLapjvAvx2(const LapBuffers& b) { return SolveLapjvImpl(b); }

}  // namespace assign_detail
}  // namespace lwfm

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#else  // not x86-64: never selected by ActiveSimd(), but keep the symbol

namespace lwfm {
namespace assign_detail {
bool SolveLapjvAvx2(const LapBuffers& b) { return SolveLapjvScalar(b); }
}  // namespace assign_detail
}  // namespace lwfm

#endif
