// The tiled matrix product's per-thread steps (load a tile, accumulate, store) as
// __host__ __device__ code: the GPU kernel (head_kernels.cuh) runs them with 256 threads
// and __syncthreads between steps; GemmNTHost runs the same steps thread by thread on the
// CPU, which is what the head's CPU emulation and its tests use.
//
// C[r, c] = sum_k A[r, k] * B[c, k] (A: M x K, B: N x K, both row-major, K contiguous).
// Block tile 128 x 128, 8 deep; thread (tx, ty) = (tid % 16, tid / 16) owns rows
// {ty*4 .. ty*4+3, 64+ty*4 .. 64+ty*4+3} and the same pattern of columns, so its shared
// memory reads are 16-byte vectors and neighbouring threads write neighbouring columns.
#pragma once

#include <cstdint>
#include <vector>

#include "hd.cuh"

namespace lwfm {
namespace cuda {
namespace gemm {

constexpr int kTile = 128, kDepth = 8, kThreads = 256;

struct alignas(16) F4 {
  float x, y, z, w;
};

struct Acc {
  float v[8][8];
};

// Tile position of thread tid's i-th row (or column) inside the 128-wide tile.
LWFM_HD int Lane8(int t, int i) { return i < 4 ? t * 4 + i : 64 + t * 4 + (i - 4); }

// Step 1: thread tid loads 4 consecutive k of row (tid / 2) of A's and of B's tile.
template <bool kVec4>
LWFM_HD void LoadTile(int tid, const float* A, const float* B, int M, int N, int K, int k0, int64_t rowBase,
                      int64_t colBase, float (*As)[kTile], float (*Bs)[kTile]) {
  const int lr = tid >> 1, lk = (tid & 1) * 4;
  const int64_t ar = rowBase + lr, br = colBase + lr;
  if (kVec4) {
    const bool kin = k0 + lk < K;
    const F4 zero{0.0f, 0.0f, 0.0f, 0.0f};
    const F4 a4 = (ar < M && kin) ? *reinterpret_cast<const F4*>(A + ar * K + k0 + lk) : zero;
    const F4 b4 = (br < N && kin) ? *reinterpret_cast<const F4*>(B + br * K + k0 + lk) : zero;
    As[lk + 0][lr] = a4.x;
    As[lk + 1][lr] = a4.y;
    As[lk + 2][lr] = a4.z;
    As[lk + 3][lr] = a4.w;
    Bs[lk + 0][lr] = b4.x;
    Bs[lk + 1][lr] = b4.y;
    Bs[lk + 2][lr] = b4.z;
    Bs[lk + 3][lr] = b4.w;
  } else {
    for (int q = 0; q < 4; ++q) {
      const int kk = k0 + lk + q;
      As[lk + q][lr] = (ar < M && kk < K) ? A[ar * K + kk] : 0.0f;
      Bs[lk + q][lr] = (br < N && kk < K) ? B[br * K + kk] : 0.0f;
    }
  }
}

// Step 2: 8 x 8 outer products over the tile's depth.
LWFM_HD void Accumulate(int tid, const float (*As)[kTile], const float (*Bs)[kTile], Acc& acc) {
  const int tx = tid & 15, ty = tid >> 4;
  LWFM_UNROLL
  for (int k = 0; k < kDepth; ++k) {
    const F4 a0 = *reinterpret_cast<const F4*>(&As[k][ty * 4]);
    const F4 a1 = *reinterpret_cast<const F4*>(&As[k][64 + ty * 4]);
    const F4 b0 = *reinterpret_cast<const F4*>(&Bs[k][tx * 4]);
    const F4 b1 = *reinterpret_cast<const F4*>(&Bs[k][64 + tx * 4]);
    const float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
    const float b[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
    LWFM_UNROLL
    for (int i = 0; i < 8; ++i) LWFM_UNROLL
    for (int j = 0; j < 8; ++j) {
#ifdef __CUDA_ARCH__
      acc.v[i][j] = fmaf(a[i], b[j], acc.v[i][j]);
#else
      acc.v[i][j] += a[i] * b[j];
#endif
    }
  }
}

// Step 3: write the thread's 8 x 8 outputs (optional ReLU), guarding the matrix edges.
template <bool kRelu>
LWFM_HD void Store(int tid, const Acc& acc, float* C, int M, int N, int64_t ldc, int64_t rowBase, int64_t colBase) {
  const int tx = tid & 15, ty = tid >> 4;
  for (int i = 0; i < 8; ++i) {
    const int64_t r = rowBase + Lane8(ty, i);
    if (r >= M) continue;
    for (int j = 0; j < 8; ++j) {
      const int64_t c = colBase + Lane8(tx, j);
      if (c >= N) continue;
      const float v = acc.v[i][j];
      C[r * ldc + c] = kRelu ? (v > 0.0f ? v : 0.0f) : v;
    }
  }
}

// The kernel's schedule run sequentially: per block, per depth step, every thread loads,
// then every thread accumulates; finally every thread stores.
template <bool kRelu, bool kVec4>
inline void GemmNTHost(const float* A, const float* B, float* C, int M, int N, int K, int64_t ldc) {
  alignas(16) float As[kDepth][kTile];
  alignas(16) float Bs[kDepth][kTile];
  std::vector<Acc> acc(kThreads);
  for (int64_t rowBase = 0; rowBase < M; rowBase += kTile)
    for (int64_t colBase = 0; colBase < N; colBase += kTile) {
      for (Acc& a : acc)
        for (auto& row : a.v)
          for (float& x : row) x = 0.0f;
      for (int k0 = 0; k0 < K; k0 += kDepth) {
        for (int tid = 0; tid < kThreads; ++tid) LoadTile<kVec4>(tid, A, B, M, N, K, k0, rowBase, colBase, As, Bs);
        for (int tid = 0; tid < kThreads; ++tid) Accumulate(tid, As, Bs, acc[tid]);
      }
      for (int tid = 0; tid < kThreads; ++tid) Store<kRelu>(tid, acc[tid], C, M, N, ldc, rowBase, colBase);
    }
}

}  // namespace gemm
}  // namespace cuda
}  // namespace lwfm
