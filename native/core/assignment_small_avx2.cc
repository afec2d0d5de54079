// Register-resident Jonker-Volgenant for square problems with at most 16 columns (the head's
// 9x9), AVX2 only. It performs exactly the double operations of the general solver
// (assignment_lapjv_impl.h with n <= kDirectAugmentCols: column reduction, then Dijkstra
// augmentation) in the same order, with the same tie rule (lowest index), so it returns the
// same assignment bit for bit; it only changes where the numbers live. Column duals and
// tentative distances sit in K = ceil(n / 4) __m256d registers each, the settled set is a
// lane mask blended into the minimum search, and the argmin is compare-to-broadcast-minimum +
// movemask + tzcnt instead of index vectors: the per-step dependency chain is what a 9x9
// solve spends its time on.
#include "core/assignment_internal.h"

#include <cstdint>
#include <cstring>
#include <limits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,bmi"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,bmi")
#endif

namespace lwfm {
namespace assign_detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

inline __m256d BroadcastMin(__m256d x) {
  x = _mm256_min_pd(x, _mm256_permute2f128_pd(x, x, 1));
  return _mm256_min_pd(x, _mm256_permute_pd(x, 0b0101));
}

// cost: n rows of 16 floats (+inf padding), already sign-flipped for maximize. Writes col4row; false if a search finds
// no column (impossible with finite costs; the caller then falls back).
template <int K>
bool SolveRegisters(const float* cost, int n, std::int32_t* col_for_row) {
  alignas(32) double v_mem[17] = {};  // zeroed only to spare -Wmaybe-uninitialized; lanes >= 4K unread
  alignas(32) double pred_mem[16];
  std::int8_t row4col[17], col4row[16], free_rows[16];
  const __m256d inf = _mm256_set1_pd(kInf);
  const __m256d lane_index = _mm256_setr_pd(0.0, 1.0, 2.0, 3.0);

  // Column reduction: v[j] = min_i c[i][j], at the lowest such row.
  __m256d v[K], at[K];
  for (int k = 0; k < K; ++k) {
    v[k] = _mm256_cvtps_pd(_mm_load_ps(cost + 4 * k));
    at[k] = _mm256_setzero_pd();
  }
  for (int i = 1; i < n; ++i) {
    const __m256d iv = _mm256_set1_pd(static_cast<double>(i));
    for (int k = 0; k < K; ++k) {
      const __m256d c = _mm256_cvtps_pd(_mm_load_ps(cost + 16 * i + 4 * k));
      const __m256d lower = _mm256_cmp_pd(c, v[k], _CMP_LT_OQ);
      v[k] = _mm256_blendv_pd(v[k], c, lower);
      at[k] = _mm256_blendv_pd(at[k], iv, lower);
    }
  }
  alignas(32) double at_mem[16];
  for (int k = 0; k < K; ++k) {
    // Padding columns (index >= n): dual 0 keeps (+inf) - v = +inf.
    const __m256d pad = _mm256_cmp_pd(_mm256_add_pd(lane_index, _mm256_set1_pd(4.0 * k)),
                                      _mm256_set1_pd(static_cast<double>(n)), _CMP_GE_OQ);
    v[k] = _mm256_blendv_pd(v[k], _mm256_setzero_pd(), pad);
    _mm256_store_pd(v_mem + 4 * k, v[k]);
    _mm256_store_pd(at_mem + 4 * k, at[k]);
  }
  // Columns in reverse; a row keeps the column with the lower minimum (strictly lower
  // replaces). Branch-free: an unmatched row points at sentinel column 16 whose dual is
  // +inf, so "first column for this row" and "cheaper column" are the same comparison.
  constexpr int kSentinel = 16;
  v_mem[kSentinel] = kInf;
  for (int i = 0; i < n; ++i) col4row[i] = kSentinel;
  for (int j = n - 1; j >= 0; --j) {
    const int a = static_cast<int>(at_mem[j]);
    const int previous = col4row[a];
    const bool take = v_mem[j] < v_mem[previous];
    row4col[previous] = take ? std::int8_t{-1} : row4col[previous];
    col4row[a] = static_cast<std::int8_t>(take ? j : previous);
    row4col[j] = static_cast<std::int8_t>(take ? a : -1);
  }
  int num_free = 0;
  for (int i = 0; i < n; ++i) {
    free_rows[num_free] = static_cast<std::int8_t>(i);
    num_free += col4row[i] == kSentinel;
  }

  __m256d column[K];
  for (int k = 0; k < K; ++k) column[k] = _mm256_add_pd(lane_index, _mm256_set1_pd(4.0 * k));

  // Dijkstra augmentation from each free row, as Augment() in assignment_lapjv_impl.h.
  for (int f = 0; f < num_free; ++f) {
    const int start = free_rows[f];
    // Reduced cost of each column's assigned edge, c[row4col[j]][j] - v[j] (unused for a
    // free column): fetched by column alone, it takes a dependent load off every step.
    alignas(32) double assigned_reduced[16];
    for (int c = 0; c < n; ++c) {
      const int r = row4col[c] < 0 ? 0 : row4col[c];
      assigned_reduced[c] = static_cast<double>(cost[16 * r + c]) - v_mem[c];
    }
    // dist: tentative distances, +inf once settled; settled: distance at settling.
    __m256d dist[K], pred[K], done[K], settled[K];
    int i = start;
    __m256d hv = _mm256_setzero_pd();
    int j;
    double reach;
    for (int k = 0; k < K; ++k) {
      dist[k] = inf;
      pred[k] = _mm256_setzero_pd();
      done[k] = _mm256_setzero_pd();
      settled[k] = _mm256_setzero_pd();
    }
    for (;;) {
      // Relax row i at offset h; settled columns (+inf, done) are never lowered again.
      const __m256d iv = _mm256_set1_pd(static_cast<double>(i));
      const float* row = cost + 16 * i;
      for (int k = 0; k < K; ++k) {
        const __m256d r = _mm256_sub_pd(_mm256_add_pd(hv, _mm256_cvtps_pd(_mm_load_ps(row + 4 * k))), v[k]);
        const __m256d lower = _mm256_andnot_pd(done[k], _mm256_cmp_pd(r, dist[k], _CMP_LT_OQ));
        dist[k] = _mm256_blendv_pd(dist[k], r, lower);
        pred[k] = _mm256_blendv_pd(pred[k], iv, lower);
      }
      __m256d m = dist[0];
      for (int k = 1; k < K; ++k) m = _mm256_min_pd(m, dist[k]);
      m = BroadcastMin(m);
      reach = _mm256_cvtsd_f64(m);
      if (reach == kInf) return false;
      unsigned bits = 0;
      for (int k = 0; k < K; ++k)
        bits |= static_cast<unsigned>(_mm256_movemask_pd(_mm256_cmp_pd(dist[k], m, _CMP_EQ_OQ))) << (4 * k);
      // bits != 0 (m is one of the lanes), so on a CPU without BMI1 tzcnt runs as bsf with
      // the same result.
      j = static_cast<int>(_tzcnt_u32(bits));
      i = row4col[j];
      if (i < 0) break;
      const __m256d jv = _mm256_set1_pd(static_cast<double>(j));
      for (int k = 0; k < K; ++k) {
        const __m256d now = _mm256_cmp_pd(column[k], jv, _CMP_EQ_OQ);
        done[k] = _mm256_or_pd(done[k], now);
        settled[k] = _mm256_blendv_pd(settled[k], dist[k], now);
        dist[k] = _mm256_blendv_pd(dist[k], inf, now);
      }
      hv = _mm256_sub_pd(m, _mm256_broadcast_sd(assigned_reduced + j));
    }
    // Settled columns: v += settled distance - reach.
    const __m256d reach_v = _mm256_set1_pd(reach);
    for (int k = 0; k < K; ++k) {
      v[k] = _mm256_blendv_pd(v[k], _mm256_add_pd(v[k], _mm256_sub_pd(settled[k], reach_v)), done[k]);
      _mm256_store_pd(v_mem + 4 * k, v[k]);
      _mm256_store_pd(pred_mem + 4 * k, pred[k]);
    }
    for (;;) {
      const int p = static_cast<int>(pred_mem[j]);
      row4col[j] = static_cast<std::int8_t>(p);
      const int previous = col4row[p];
      col4row[p] = static_cast<std::int8_t>(j);
      if (p == start) break;
      j = previous;
    }
  }
  for (int r = 0; r < n; ++r) col_for_row[r] = col4row[r];
  return true;
}

}  // namespace

SmallResult SolveSmallSquareAvx2(const float* cost, int n, bool maximize, std::int32_t* col_for_row) {
  // Rows padded to 16 floats (one cache line), +inf in padding; a float converts to double
  // exactly, so the solver widens on the fly and every double operation stays the same.
  alignas(64) float padded[16 * 16];
  const __m256i exponent = _mm256_set1_epi32(0x7f800000);
  const __m256 flip = _mm256_castsi256_ps(_mm256_set1_epi32(maximize ? static_cast<int>(0x80000000u) : 0));
  const __m256 inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i bad = _mm256_setzero_si256();
  const int halves = n > 8 ? 2 : 1;
  const int total = n * n;
  for (int h = 0; h < halves; ++h) {
    const __m256i in_row = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8 * h), lane);
    for (int i = 0; i < n; ++i) {
      const float* src = cost + i * n + 8 * h;
      // Past the matrix only in its last rows: a masked load there, a plain one elsewhere.
      const __m256 x = i * n + 8 * h + 8 <= total ? _mm256_loadu_ps(src) : _mm256_maskload_ps(src, in_row);
      const __m256i xi = _mm256_castps_si256(x);
      bad =
          _mm256_or_si256(bad, _mm256_and_si256(in_row, _mm256_cmpeq_epi32(_mm256_and_si256(xi, exponent), exponent)));
      _mm256_store_ps(padded + 16 * i + 8 * h,
                      _mm256_blendv_ps(inf, _mm256_xor_ps(x, flip), _mm256_castsi256_ps(in_row)));
    }
  }
  if (halves == 1)
    for (int i = 0; i < n; ++i) _mm256_store_ps(padded + 16 * i + 8, inf);
  const bool nonfinite = !_mm256_testz_si256(bad, bad);
  if (nonfinite) return SmallResult::kNotHandled;
  bool ok;
  switch ((n + 3) / 4) {
    case 1:
      ok = SolveRegisters<1>(padded, n, col_for_row);
      break;
    case 2:
      ok = SolveRegisters<2>(padded, n, col_for_row);
      break;
    case 3:
      ok = SolveRegisters<3>(padded, n, col_for_row);
      break;
    default:
      ok = SolveRegisters<4>(padded, n, col_for_row);
      break;
  }
  return ok ? SmallResult::kSolved : SmallResult::kNotHandled;
}

}  // namespace assign_detail
}  // namespace lwfm

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#else  // not x86-64: never selected, but keep the symbol

namespace lwfm {
namespace assign_detail {
SmallResult SolveSmallSquareAvx2(const float*, int, bool, std::int32_t*) { return SmallResult::kNotHandled; }
}  // namespace assign_detail
}  // namespace lwfm

#endif
