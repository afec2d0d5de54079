// Device kernels of the GPU head. The per-pair and per-class bodies are the shared
// __host__ __device__ functions of head_math.cuh; these kernels add the data movement.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

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

// C[r, c] = sum_k A[r, k] * B[c, k] (both row-major with K contiguous), optional ReLU.
// 128 x 128 tile per block, 8 deep, 256 threads with 8 x 8 outputs each, split 4 + 4 so
// the shared-memory reads are conflict-light float4s.
constexpr int kTile = 128, kDepth = 8;
// kVec4: K % 4 == 0 and 16-byte aligned operands, so each thread fetches its 4 values of
// A and of B with one 128-bit load.
template <bool kRelu, bool kVec4>
__global__ void __launch_bounds__(256) GemmNT(const float* __restrict__ A, const float* __restrict__ B,
                                              float* __restrict__ C, int M, int N, int K, int64_t ldc) {
  __shared__ __align__(16) float As[kDepth][kTile];
  __shared__ __align__(16) float Bs[kDepth][kTile];
  const int tid = threadIdx.x;
  const int tx = tid & 15, ty = tid >> 4;
  const int64_t rowBase = int64_t(blockIdx.y) * kTile, colBase = int64_t(blockIdx.x) * kTile;
  const int lr = tid >> 1, lk = (tid & 1) * 4;
  float acc[8][8];
#pragma unroll
  for (int i = 0; i < 8; ++i)
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[i][j] = 0.0f;
  const int64_t ar = rowBase + lr, br = colBase + lr;
  for (int k0 = 0; k0 < K; k0 += kDepth) {
    if (kVec4) {
      const bool kin = k0 + lk < K;
      const float4 z4 = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
      const float4 a4 = (ar < M && kin) ? *reinterpret_cast<const float4*>(A + ar * K + k0 + lk) : z4;
      const float4 b4 = (br < N && kin) ? *reinterpret_cast<const float4*>(B + br * K + k0 + lk) : z4;
      As[lk + 0][lr] = a4.x;
      As[lk + 1][lr] = a4.y;
      As[lk + 2][lr] = a4.z;
      As[lk + 3][lr] = a4.w;
      Bs[lk + 0][lr] = b4.x;
      Bs[lk + 1][lr] = b4.y;
      Bs[lk + 2][lr] = b4.z;
      Bs[lk + 3][lr] = b4.w;
    } else {
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int kk = k0 + lk + q;
        As[lk + q][lr] = (ar < M && kk < K) ? A[ar * K + kk] : 0.0f;
        Bs[lk + q][lr] = (br < N && kk < K) ? B[br * K + kk] : 0.0f;
      }
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kDepth; ++k) {
      const float4 a0 = *reinterpret_cast<const float4*>(&As[k][ty * 4]);
      const float4 a1 = *reinterpret_cast<const float4*>(&As[k][64 + ty * 4]);
      const float4 b0 = *reinterpret_cast<const float4*>(&Bs[k][tx * 4]);
      const float4 b1 = *reinterpret_cast<const float4*>(&Bs[k][64 + tx * 4]);
      const float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      const float b[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
      for (int i = 0; i < 8; ++i)
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int64_t r = rowBase + (i < 4 ? ty * 4 + i : 64 + ty * 4 + i - 4);
    if (r >= M) continue;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const int64_t c = colBase + (j < 4 ? tx * 4 + j : 64 + tx * 4 + j - 4);
      if (c >= N) continue;
      const float v = acc[i][j];
      C[r * ldc + c] = kRelu ? fmaxf(v, 0.0f) : v;
    }
  }
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
template <int kP>
__global__ void Pairs(PairViews v) {
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= int64_t(v.Qc) * v.S) return;
  PairScratch<kP> scratch;
  ProcessPair<kP>(v, int(t % v.Qc), int(t / v.Qc), scratch);
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
