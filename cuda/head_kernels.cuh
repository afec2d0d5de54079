// Device kernels of the GPU head. The per-pair and per-class bodies are the shared
// __host__ __device__ functions of head_math.cuh; these kernels add the data movement.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "gemm_tile.cuh"
#include "head_math.cuh"

namespace lwfm {
namespace cuda {
namespace kernels {

// Mean over all C channels of each (image, pixel): x is N x C x P.
__global__ void ChannelMean(const float* __restrict__ x, int N, int C, int P, float* __restrict__ mean) {
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= int64_t(N) * P) return;
  const int64_t n = t / P, p = t % P;
  const float* img = x + n * C * P + p;
  double s = 0;
  for (int c = 0; c < C; ++c) s += img[int64_t(c) * P];  // consecutive threads: consecutive p
  mean[t] = float(s / C);
}

// Z[(n*P + p), c] = x[n, offset + c, p] - mean[n, p] for one tap (pixel rows, channels contiguous).
__global__ void CenterTranspose(const float* __restrict__ x, int N, int C, int P, const float* __restrict__ mean,
                                int offset, int Cl, float* __restrict__ Z) {
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t total = int64_t(N) * P * Cl;
  if (t >= total) return;
  const int64_t c = t % Cl, r = t / Cl;  // consecutive threads write consecutive channels
  const int64_t n = r / P, p = r % P;
  Z[t] = x[(n * C + offset + c) * P + p] - mean[r];
}

// Warp per row: v = Z[r] (+ add[r] when given); out[r] = v / max(|v|, 1e-8); norm[r] = |v|.
__global__ void RowNormalize(const float* __restrict__ Z, const float* __restrict__ add, int64_t rows, int Cl,
                             float* __restrict__ out, float* __restrict__ norm) {
  const int64_t r = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (r >= rows) return;
  const float* z = Z + r * Cl;
  const float* a = add ? add + r * Cl : nullptr;
  float ss = 0;
  for (int c = lane; c < Cl; c += 32) {
    const float v = z[c] + (a ? a[c] : 0.0f);
    ss += v * v;
  }
  for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
  const float n = sqrtf(ss);
  const float inv = 1.0f / NormGuard(n);
  for (int c = lane; c < Cl; c += 32) out[r * Cl + c] = (z[c] + (a ? a[c] : 0.0f)) * inv;
  if (norm && lane == 0) norm[r] = n;
}

// Tiled matrix product (gemm_tile.cuh): the same load / accumulate / store steps the CPU
// emulation runs, separated by barriers.
constexpr int kTile = gemm::kTile;
template <bool kRelu, bool kVec4>
__global__ void __launch_bounds__(gemm::kThreads) GemmNT(const float* __restrict__ A, const float* __restrict__ B,
                                                         float* __restrict__ C, int M, int N, int K, int64_t ldc) {
  __shared__ __align__(16) float As[gemm::kDepth][gemm::kTile];
  __shared__ __align__(16) float Bs[gemm::kDepth][gemm::kTile];
  const int tid = threadIdx.x;
  const int64_t rowBase = int64_t(blockIdx.y) * gemm::kTile, colBase = int64_t(blockIdx.x) * gemm::kTile;
  gemm::Acc acc;
#pragma unroll
  for (int i = 0; i < 8; ++i)
#pragma unroll
    for (int j = 0; j < 8; ++j) acc.v[i][j] = 0.0f;
  for (int k0 = 0; k0 < K; k0 += gemm::kDepth) {
    gemm::LoadTile<kVec4>(tid, A, B, M, N, K, k0, rowBase, colBase, As, Bs);
    __syncthreads();
    gemm::Accumulate(tid, As, Bs, acc);
    __syncthreads();
  }
  gemm::Store<kRelu>(tid, acc, C, M, N, ldc, rowBase, colBase);
}

// Block per group (a class's shots, or one query): Gram of its pixel rows,
// out[offset[g] + a * n + b] = <Z[row(a)], Z[row(b)]>, n = members * P.
__global__ void GroupGram(const float* __restrict__ Z, int Cl, int P, const int32_t* __restrict__ start,
                          const int32_t* __restrict__ members, const int64_t* __restrict__ offset,
                          float* __restrict__ out) {
  const int g = blockIdx.x;
  const int first = start[g], n = (start[g + 1] - first) * P;
  float* dst = out + offset[g];
  for (int64_t e = threadIdx.x; e < int64_t(n) * n; e += blockDim.x) {
    const int a = int(e / n), b = int(e % n);
    if (b < a) continue;  // symmetric: fill both halves from one dot product
    const float* x = Z + (int64_t(members[first + a / P]) * P + a % P) * Cl;
    const float* y = Z + (int64_t(members[first + b / P]) * P + b % P) * Cl;
    float acc = 0;
    for (int c = 0; c < Cl; ++c) acc = fmaf(x[c], y[c], acc);
    dst[int64_t(a) * n + b] = acc;
    dst[int64_t(b) * n + a] = acc;
  }
}

// Thread per (query, support) pair; q fastest so neighbouring threads read neighbouring
// columns of the correlation matrices (coalesced).
// kAuction: the per-pair auction (solver 'auction'), with its own scratch.
template <int kP, bool kAuction = false>
__global__ void Pairs(PairViews v) {
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= int64_t(v.Qc) * v.S) return;
  PairScratch<kP> scratch;
  if constexpr (kAuction) {
    AuctionScratch<kP> auctionScratch;
    ProcessPair<kP>(v, int(t % v.Qc), int(t / v.Qc), scratch, &auctionScratch);
  } else {
    ProcessPair<kP>(v, int(t % v.Qc), int(t / v.Qc), scratch);
  }
}

// Thread per (query, class).
__global__ void Classes(ScoreViews v) {
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= int64_t(v.Qc) * v.way) return;
  ClassLogit(v, int(t % v.Qc), int(t / v.Qc));
}

}  // namespace kernels
}  // namespace cuda
}  // namespace lwfm
