// The Dijkstra step of the assignment solver: relax every column from one row, then
// find the closest unsettled column. It is the solver's inner loop, so it comes in
// scalar, AVX2 and AVX-512 flavours chosen at run time (binaries target baseline x86-64).
//
// All three do the same double operations in the same order ((h + c) - w, strict <,
// lowest index among equal minima), so every path returns bit-identical results.
#include <cstdint>
#include <limits>

#include "core/assignment_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LWFM_X86_SIMD 1
#endif

namespace lwfm {
namespace assign_detail {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace

int RelaxArgminScalar(const double* cost_row, const double* w, double* dist, std::int64_t* pred,
                      double h, std::int64_t row, int stride) {
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

void ColumnMinimaScalar(const double* cost, int rows, int stride, double* minima, double* at_row) {
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

TwoSmallest TwoSmallestScalar(const double* row, const double* v, int stride) {
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

#ifdef LWFM_X86_SIMD

namespace {

__attribute__((target("avx2,fma"))) inline __m256d BroadcastMin(__m256d x) {
  x = _mm256_min_pd(x, _mm256_permute2f128_pd(x, x, 1));
  return _mm256_min_pd(x, _mm256_permute_pd(x, 0b0101));
}

__attribute__((target("avx2,fma"))) inline __m256d MinIndexWhereEqual(__m256d value, __m256d target, __m256d index) {
  return BroadcastMin(_mm256_blendv_pd(_mm256_set1_pd(kInf), index, _mm256_cmp_pd(value, target, _CMP_EQ_OQ)));
}

}  // namespace

__attribute__((target("avx2,fma")))
int RelaxArgminAvx2(const double* cost_row, const double* w, double* dist, std::int64_t* pred,
                    double h, std::int64_t row, int stride) {
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

__attribute__((target("avx2,fma")))
void ColumnMinimaAvx2(const double* cost, int rows, int stride, double* minima, double* at_row) {
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

__attribute__((target("avx2,fma")))
TwoSmallest TwoSmallestAvx2(const double* row, const double* v, int stride) {
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

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
void ColumnMinimaAvx512(const double* cost, int rows, int stride, double* minima, double* at_row) {
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

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
TwoSmallest TwoSmallestAvx512(const double* row, const double* v, int stride) {
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
  const double lowest = _mm512_reduce_min_pd(first);
  const __mmask8 at_lowest = _mm512_cmp_pd_mask(first, _mm512_set1_pd(lowest), _CMP_EQ_OQ);
  const double lowest_at = _mm512_mask_reduce_min_pd(at_lowest, at);
  const __mmask8 winner = _mm512_cmp_pd_mask(at, _mm512_set1_pd(lowest_at), _CMP_EQ_OQ);
  const double runner_up = _mm512_reduce_min_pd(_mm512_min_pd(second, _mm512_mask_mov_pd(first, winner, _mm512_set1_pd(kInf))));
  return {lowest, runner_up, lowest == kInf ? -1 : static_cast<int>(lowest_at)};
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
int RelaxArgminAvx512(const double* cost_row, const double* w, double* dist, std::int64_t* pred,
                      double h, std::int64_t row, int stride) {
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
  const double lowest = _mm512_reduce_min_pd(best);
  if (lowest == kInf) return -1;
  const __mmask8 at_lowest = _mm512_cmp_pd_mask(best, _mm512_set1_pd(lowest), _CMP_EQ_OQ);
  return static_cast<int>(_mm512_mask_reduce_min_pd(at_lowest, best_index));
}

LapKernels KernelsFor(SimdLevel simd) {
  switch (simd) {
    case SimdLevel::kAvx512: return {ColumnMinimaAvx512, TwoSmallestAvx512, RelaxArgminAvx512};
    case SimdLevel::kAvx2: return {ColumnMinimaAvx2, TwoSmallestAvx2, RelaxArgminAvx2};
    default: return {ColumnMinimaScalar, TwoSmallestScalar, RelaxArgminScalar};
  }
}

#else  // no x86 SIMD: every level is the scalar kernel

LapKernels KernelsFor(SimdLevel) { return {ColumnMinimaScalar, TwoSmallestScalar, RelaxArgminScalar}; }

int RelaxArgminAvx2(const double* cost_row, const double* w, double* dist, std::int64_t* pred,
                    double h, std::int64_t row, int stride) {
  return RelaxArgminScalar(cost_row, w, dist, pred, h, row, stride);
}
int RelaxArgminAvx512(const double* cost_row, const double* w, double* dist, std::int64_t* pred,
                      double h, std::int64_t row, int stride) {
  return RelaxArgminScalar(cost_row, w, dist, pred, h, row, stride);
}

#endif

}  // namespace assign_detail
}  // namespace lwfm
