// Jonker-Volgenant with AVX-512 kernels (8 doubles per vector). The whole solver in this file is
// compiled for AVX-512 (the pragma comes after every #include, so no shared inline function
// from a header is ever emitted with AVX-512 instructions) and is only called when
// ActiveSimd() reports AVX-512. Every level performs the same double operations in the same
// order and breaks ties towards the lowest index, so all levels return identical results.
#include <cstddef>
#include <cstdint>
#include <limits>

#include "core/assignment_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_pd() and trip a false
// -Wmaybe-uninitialized (GCC bug 105593) once inlined; the warning is about its header.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma")
#endif

namespace lwfm {
namespace assign_detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Minimum of all lanes, in every lane.
inline __m512d BroadcastMin(__m512d x) {
  x = _mm512_min_pd(x, _mm512_shuffle_f64x2(x, x, 0x4E));  // swap 256-bit halves
  x = _mm512_min_pd(x, _mm512_shuffle_f64x2(x, x, 0xB1));  // swap 128-bit pairs
  return _mm512_min_pd(x, _mm512_permute_pd(x, 0x55));     // swap neighbours
}

inline double HorizontalMin(__m512d x) { return _mm512_cvtsd_f64(BroadcastMin(x)); }

inline double MaskedMin(__mmask8 mask, __m512d x) {
  return HorizontalMin(_mm512_mask_mov_pd(_mm512_set1_pd(kInf), mask, x));
}

inline void ColumnMinima(const double* cost, int rows, int stride, double* minima, double* at_row) {
  for (int j = 0; j < stride; j += 8) {
    __m512d lowest = _mm512_loadu_pd(cost + j);
    __m512d at = _mm512_setzero_pd();
    __m512d i_vec = _mm512_setzero_pd();
    const __m512d one = _mm512_set1_pd(1.0);
    for (int i = 1; i < rows; ++i) {
      i_vec = _mm512_add_pd(i_vec, one);
      const __m512d c = _mm512_loadu_pd(cost + static_cast<std::size_t>(i) * stride + j);
      const __mmask8 lower = _mm512_cmp_pd_mask(c, lowest, _CMP_LT_OQ);
      lowest = _mm512_mask_mov_pd(lowest, lower, c);
      at = _mm512_mask_mov_pd(at, lower, i_vec);
    }
    _mm512_storeu_pd(minima + j, lowest);
    _mm512_storeu_pd(at_row + j, at);
  }
}

inline TwoSmallest TwoSmallestOf(const double* row, const double* v, int stride) {
  __m512d first = _mm512_set1_pd(kInf), second = first;
  __m512d at = _mm512_set1_pd(-1.0);
  __m512d index = _mm512_setr_pd(0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
  const __m512d eight = _mm512_set1_pd(8.0);
  for (int j = 0; j < stride; j += 8) {
    const __m512d h = _mm512_sub_pd(_mm512_loadu_pd(row + j), _mm512_loadu_pd(v + j));
    const __mmask8 lower = _mm512_cmp_pd_mask(h, first, _CMP_LT_OQ);
    second = _mm512_mask_mov_pd(_mm512_min_pd(second, h), lower, first);
    at = _mm512_mask_mov_pd(at, lower, index);
    first = _mm512_mask_mov_pd(first, lower, h);
    index = _mm512_add_pd(index, eight);
  }
  const double lowest = HorizontalMin(first);
  const __mmask8 at_lowest = _mm512_cmp_pd_mask(first, _mm512_set1_pd(lowest), _CMP_EQ_OQ);
  const double lowest_at = MaskedMin(at_lowest, at);
  const __mmask8 winner = _mm512_cmp_pd_mask(at, _mm512_set1_pd(lowest_at), _CMP_EQ_OQ);
  const double runner_up =
      HorizontalMin(_mm512_min_pd(second, _mm512_mask_mov_pd(first, winner, _mm512_set1_pd(kInf))));
  return {lowest, runner_up, lowest == kInf ? -1 : static_cast<int>(lowest_at)};
}

inline int RelaxArgmin(const double* cost_row, const double* w, double* dist, std::int64_t* pred, double h,
                       std::int64_t row, int stride) {
  const __m512d hv = _mm512_set1_pd(h);
  const __m512i rowv = _mm512_set1_epi64(row);
  const __m512d eight = _mm512_set1_pd(8.0);
  __m512d best = _mm512_set1_pd(kInf);
  __m512d best_index = _mm512_set1_pd(-1.0);
  __m512d index = _mm512_setr_pd(0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
  for (int j = 0; j < stride; j += 8) {
    const __m512d r = _mm512_sub_pd(_mm512_add_pd(hv, _mm512_loadu_pd(cost_row + j)), _mm512_loadu_pd(w + j));
    __m512d d = _mm512_loadu_pd(dist + j);
    const __mmask8 lower = _mm512_cmp_pd_mask(r, d, _CMP_LT_OQ);
    d = _mm512_mask_mov_pd(d, lower, r);
    _mm512_storeu_pd(dist + j, d);
    _mm512_mask_storeu_epi64(pred + j, lower, rowv);
    const __mmask8 better = _mm512_cmp_pd_mask(d, best, _CMP_LT_OQ);
    best = _mm512_mask_mov_pd(best, better, d);
    best_index = _mm512_mask_mov_pd(best_index, better, index);
    index = _mm512_add_pd(index, eight);
  }
  const double lowest = HorizontalMin(best);
  if (lowest == kInf) return -1;
  const __mmask8 at_lowest = _mm512_cmp_pd_mask(best, _mm512_set1_pd(lowest), _CMP_EQ_OQ);
  return static_cast<int>(MaskedMin(at_lowest, best_index));
}

#include "core/assignment_lapjv_impl.h"

}  // namespace

bool SolveLapjvAvx512(const LapBuffers& b) { return SolveLapjvImpl(b); }

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
bool SolveLapjvAvx512(const LapBuffers& b) { return SolveLapjvScalar(b); }
}  // namespace assign_detail
}  // namespace lwfm

#endif
