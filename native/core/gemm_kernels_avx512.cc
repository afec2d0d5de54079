// 12 x 32 AVX-512 micro-kernel: 24 accumulators + 2 B vectors + 1 broadcast of 32 zmm registers.
// Not executable on the AVX2-only development machine; selected only when the CPU has AVX-512.
#include "core/gemm_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace lwfm {
namespace gemm_detail {

#if defined(__x86_64__) || defined(__i386__)

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma"))) void MicroKernelAvx512(
    int kc, const float* a, const float* b, float* c, long ldc, bool accumulate, bool relu) {
  constexpr int MR = kAvx512Mr;
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
    acc0[r] = _mm512_setzero_ps();
    acc1[r] = _mm512_setzero_ps();
  }
  for (int k = 0; k < kc; ++k, a += MR, b += 32) {
    const __m512 b0 = _mm512_loadu_ps(b);
    const __m512 b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
      acc0[r] = _mm512_fmadd_ps(ar, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(ar, b1, acc1[r]);
    }
  }
  const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
    float* row = c + r * ldc;
    __m512 v0 = acc0[r], v1 = acc1[r];
    if (accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_loadu_ps(row));
      v1 = _mm512_add_ps(v1, _mm512_loadu_ps(row + 16));
    }
    if (relu) {
      v0 = _mm512_max_ps(v0, zero);
      v1 = _mm512_max_ps(v1, zero);
    }
    _mm512_storeu_ps(row, v0);
    _mm512_storeu_ps(row + 16, v1);
  }
}

#else

void MicroKernelAvx512(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate,
                       bool relu) {
  MicroKernelScalar(kc, a, b, c, ldc, accumulate, relu);
}

#endif

}  // namespace gemm_detail
}  // namespace lwfm
