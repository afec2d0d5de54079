// Single-precision C = A * B^T with A (M x K) and B (N x K) both row-major: the one product
// shape the head needs (matcher MLP layers with PyTorch-layout weights, and correlations of unit
// pixel vectors). B is packed once into NR-wide panels so weights can be packed at Head
// construction and reused by every call.
#pragma once

#include <cstddef>
#include <vector>

#include "core/cpu_features.h"

namespace lwfm {

// Register-tile shape of the micro-kernel for one SIMD level.
struct GemmShape {
  int mr;
  int nr;
};
GemmShape GemmShapeFor(SimdLevel level);

// B (N x K, row-major) split into ceil(N / nr) panels; panel p holds, for every k, the nr values
// B[p*nr + 0 .. nr-1][k] (zero padded), so the micro-kernel reads it sequentially.
struct PackedB {
  SimdLevel level = SimdLevel::kScalar;
  int n = 0;
  int k = 0;
  int nr = 0;
  std::vector<float> data;
};

PackedB PackB(const float* b, int n, int k, std::size_t ldb, SimdLevel level, int threads);

enum class GemmEpilogue { kNone, kRelu };

// c[i * ldc + j] = epilogue(sum_k a[i * lda + k] * B[j][k]) for i < m, j < b.n, with the kernel
// of b.level. Parallel over (row block, column block) tiles on the shared pool.
// pack_buffer (optional) is reused for the packed copy of A, so repeated calls of one shape
// touch no fresh pages.
void GemmABt(const float* a, int m, std::size_t lda, const PackedB& b, float* c, std::size_t ldc, GemmEpilogue epilogue,
             int threads, std::vector<float>* pack_buffer = nullptr);

}  // namespace lwfm
