#include "core/gemm_kernels.h"

namespace lwfm {
namespace gemm_detail {

void MicroKernelScalar(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate, bool relu) {
  constexpr int MR = kScalarMr, NR = kScalarNr;
  float acc[MR][NR] = {};
  for (int k = 0; k < kc; ++k, a += MR, b += NR) {
    for (int r = 0; r < MR; ++r) {
      const float ar = a[r];
      for (int j = 0; j < NR; ++j) acc[r][j] += ar * b[j];
    }
  }
  for (int r = 0; r < MR; ++r) {
    float* row = c + r * ldc;
    for (int j = 0; j < NR; ++j) {
      float v = accumulate ? row[j] + acc[r][j] : acc[r][j];
      if (relu && v < 0.0f) v = 0.0f;
      row[j] = v;
    }
  }
}

}  // namespace gemm_detail
}  // namespace lwfm
