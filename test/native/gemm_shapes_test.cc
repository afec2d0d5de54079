// GemmABt on every kernel shape (AVX-512 via the stand-in kernel, AVX2 when the CPU has it,
// scalar) against a double-precision product, over sizes that hit every edge-tile case, and
// checks nothing outside C's valid columns is written. Exit status 0 = pass.
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "core/cpu_features.h"
#include "core/gemm.h"

using namespace lwfm;

int main() {
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> uni(-1, 1);
  std::vector<SimdLevel> levels = {SimdLevel::kAvx512, SimdLevel::kScalar};
  if (CpuSimd() != SimdLevel::kScalar) levels.push_back(SimdLevel::kAvx2);
  double worst = 0;
  for (int m : {1, 5, 6, 7, 11, 12, 13, 95, 97, 200})
    for (int n : {1, 15, 16, 17, 31, 32, 33, 129, 300})
      for (int k : {1, 7, 256, 257, 600}) {
        std::vector<float> a(m * k), b(n * k);
        for (auto& x : a) x = uni(gen);
        for (auto& x : b) x = uni(gen);
        const int ldc = n + 3;
        for (SimdLevel level : levels)
          for (GemmEpilogue ep : {GemmEpilogue::kNone, GemmEpilogue::kRelu}) {
            std::vector<float> c(static_cast<std::size_t>(m) * ldc, 7.0f);
            const PackedB packed = PackB(b.data(), n, k, k, level, 2);
            GemmABt(a.data(), m, k, packed, c.data(), ldc, ep, 2);
            for (int i = 0; i < m; ++i) {
              for (int j = 0; j < n; ++j) {
                double s = 0;
                for (int q = 0; q < k; ++q) s += static_cast<double>(a[i * k + q]) * b[j * k + q];
                if (ep == GemmEpilogue::kRelu && s < 0) s = 0;
                worst = std::max(worst, std::fabs(s - c[i * ldc + j]) / (1.0 + std::sqrt(static_cast<double>(k))));
              }
              for (int j = n; j < ldc; ++j)
                if (c[i * ldc + j] != 7.0f) {
                  std::printf("FAIL %s m=%d n=%d k=%d wrote outside C\n", SimdName(level), m, n, k);
                  return 1;
                }
            }
          }
      }
  std::printf("worst scaled error %.3g\n", worst);
  if (!(worst < 1e-5)) {
    std::printf("FAIL error too large\n");
    return 1;
  }
  return 0;
}
