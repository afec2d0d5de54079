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

#ifdef LWFM_X86_SIMD

namespace {
// Lane-wise (value, index) minima -> the smallest value, lowest index on ties.
inline int ReduceArgmin(const double* value, const double* index, int lanes) {
  double best = kInf;
  double arg = -1.0;
  for (int l = 0; l < lanes; ++l) {
    if (value[l] < best || (value[l] == best && value[l] != kInf && index[l] < arg)) {
      best = value[l];
      arg = index[l];
    }
  }
  return static_cast<int>(arg);
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
  alignas(32) double value[4], at[4];
  _mm256_store_pd(value, best);
  _mm256_store_pd(at, best_index);
  return ReduceArgmin(value, at, 4);
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
  alignas(64) double value[8], at[8];
  _mm512_store_pd(value, best);
  _mm512_store_pd(at, best_index);
  return ReduceArgmin(value, at, 8);
}

#else  // no x86 SIMD: the SIMD entry points are the scalar kernel

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
