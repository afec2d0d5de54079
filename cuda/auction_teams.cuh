// GPU teams for RunAuction (auction.cuh): a warp or a whole block cooperating on one
// problem. Every member ends a reduction holding the same bid, so control flow in the
// shared driver stays uniform.
#pragma once

#include "auction.cuh"

namespace lwfm {
namespace auction {

#ifdef __CUDACC__
__device__ __forceinline__ Bid ShuffleXor(const Bid& b, int offset) {
  Bid o;
  o.best = __shfl_xor_sync(0xffffffffu, b.best, offset);
  o.second = __shfl_xor_sync(0xffffffffu, b.second, offset);
  o.col = __shfl_xor_sync(0xffffffffu, b.col, offset);
  return o;
}

__device__ __forceinline__ Bid WarpReduce(Bid b) {
  for (int offset = 16; offset > 0; offset >>= 1) b = MergeBids(b, ShuffleXor(b, offset));
  return b;
}

// 32 lanes on one problem (all lanes of the warp must call together).
struct WarpTeam {
  int lane;
  __device__ int rank() const { return lane; }
  __device__ int size() const { return 32; }
  __device__ Bid reduce(const Bid& b) { return WarpReduce(b); }
  __device__ void sync() { __syncwarp(); }
  __device__ void atomicMaxU64(uint64_t* p, uint64_t v) {
    atomicMax(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
  }
  __device__ void atomicAddInt(int* p, int v) { atomicAdd(p, v); }
};

// blockDim.x (a multiple of 32) threads on one problem; slots: one Bid per warp in shared
// memory. RunAuction syncs twice between reductions, so slots are never overwritten early.
struct BlockTeam {
  Bid* slots;
  __device__ int rank() const { return threadIdx.x; }
  __device__ int size() const { return blockDim.x; }
  __device__ Bid reduce(const Bid& b) {
    const Bid w = WarpReduce(b);
    if ((threadIdx.x & 31) == 0) slots[threadIdx.x >> 5] = w;
    __syncthreads();
    Bid r = slots[0];
    const int warps = blockDim.x >> 5;
    for (int k = 1; k < warps; ++k) r = MergeBids(r, slots[k]);
    return r;
  }
  __device__ void sync() { __syncthreads(); }
  __device__ void atomicMaxU64(uint64_t* p, uint64_t v) {
    atomicMax(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
  }
  __device__ void atomicAddInt(int* p, int v) { atomicAdd(p, v); }
};
#endif

}  // namespace auction
}  // namespace lwfm
