// Portable stand-in for MicroKernelAvx512 with the same 12 x 32 tile, linked instead of the real
// one so the GEMM driver's AVX-512 tiling and packing run on CPUs without AVX-512.
#include "core/gemm_kernels.h"

namespace lwfm {
namespace gemm_detail {

void MicroKernelAvx512(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate, bool relu) {
  constexpr int MR = kAvx512Mr, NR = kAvx512Nr;
  float acc[MR][NR] = {};
  for (int k = 0; k < kc; ++k, a += MR, b += NR)
    for (int r = 0; r < MR; ++r)
      for (int j = 0; j < NR; ++j) acc[r][j] += a[r] * b[j];
  for (int r = 0; r < MR; ++r)
    for (int j = 0; j < NR; ++j) {
      float v = accumulate ? c[r * ldc + j] + acc[r][j] : acc[r][j];
      if (relu && v < 0) v = 0;
      c[r * ldc + j] = v;
    }
}

}  // namespace gemm_detail
}  // namespace lwfm
