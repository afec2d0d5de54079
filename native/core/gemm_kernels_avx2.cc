// 6 x 16 AVX2/FMA micro-kernel: 12 accumulators + 2 B vectors + 1 broadcast of 16 ymm registers.
#include "core/gemm_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace lwfm {
namespace gemm_detail {

#if defined(__x86_64__) || defined(__i386__)

__attribute__((target("avx2,fma"))) void MicroKernelAvx2(int kc, const float* a, const float* b, float* c, long ldc,
                                                         bool accumulate, bool relu) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  // The C tile is read back (accumulate) or written at the end: start fetching it now.
  for (int r = 0; r < 6; ++r) {
    __builtin_prefetch(c + r * ldc, 1, 3);
    __builtin_prefetch(c + r * ldc + 15, 1, 3);
  }
#pragma GCC unroll 4
  for (int k = 0; k < kc; ++k, a += 6, b += 16) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
    __m256 ar = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(ar, b0, c00);
    c01 = _mm256_fmadd_ps(ar, b1, c01);
    ar = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(ar, b0, c10);
    c11 = _mm256_fmadd_ps(ar, b1, c11);
    ar = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(ar, b0, c20);
    c21 = _mm256_fmadd_ps(ar, b1, c21);
    ar = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(ar, b0, c30);
    c31 = _mm256_fmadd_ps(ar, b1, c31);
    ar = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(ar, b0, c40);
    c41 = _mm256_fmadd_ps(ar, b1, c41);
    ar = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(ar, b0, c50);
    c51 = _mm256_fmadd_ps(ar, b1, c51);
  }
  const __m256 zero = _mm256_setzero_ps();
  // A macro, not a lambda: lambdas do not inherit the enclosing target attribute.
#define LWFM_STORE(dst, value)                                    \
  do {                                                            \
    __m256 v_ = (value);                                          \
    if (accumulate) v_ = _mm256_add_ps(v_, _mm256_loadu_ps(dst)); \
    if (relu) v_ = _mm256_max_ps(v_, zero);                       \
    _mm256_storeu_ps(dst, v_);                                    \
  } while (0)
  LWFM_STORE(c + 0 * ldc, c00);
  LWFM_STORE(c + 0 * ldc + 8, c01);
  LWFM_STORE(c + 1 * ldc, c10);
  LWFM_STORE(c + 1 * ldc + 8, c11);
  LWFM_STORE(c + 2 * ldc, c20);
  LWFM_STORE(c + 2 * ldc + 8, c21);
  LWFM_STORE(c + 3 * ldc, c30);
  LWFM_STORE(c + 3 * ldc + 8, c31);
  LWFM_STORE(c + 4 * ldc, c40);
  LWFM_STORE(c + 4 * ldc + 8, c41);
  LWFM_STORE(c + 5 * ldc, c50);
  LWFM_STORE(c + 5 * ldc + 8, c51);
#undef LWFM_STORE
}

#else

void MicroKernelAvx2(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate, bool relu) {
  MicroKernelScalar(kc, a, b, c, ldc, accumulate, relu);
}

#endif

}  // namespace gemm_detail
}  // namespace lwfm
