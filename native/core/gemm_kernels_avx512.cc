// 12 x 32 AVX-512 micro-kernel: 24 accumulators + 2 B vectors + 1 broadcast of 32 zmm registers.
// Not executable on the AVX2-only development machine; selected only when the CPU has AVX-512.
#include "core/gemm_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

// GCC 12's AVX-512 intrinsics pass _mm512_undefined_ps() as a merge source and then warn that it
// "may be used uninitialized": a false positive inside the system header, silenced here only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace lwfm {
namespace gemm_detail {

#if defined(__x86_64__) || defined(__i386__)

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma"))) void MicroKernelAvx512(int kc, const float* a,
                                                                                         const float* b, float* c,
                                                                                         long ldc, bool accumulate,
                                                                                         bool relu) {
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
      const __m512 ar = _mm512_broadcastss_ps(_mm_load_ss(a + r));
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

void MicroKernelAvx512(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate, bool relu) {
  MicroKernelScalar(kc, a, b, c, ldc, accumulate, relu);
}

#endif

}  // namespace gemm_detail
}  // namespace lwfm
