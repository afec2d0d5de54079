// Exact batched assignment kernels over the search of exact_assignment.cuh.
//  - thread per problem: a block stages its problems' costs in shared memory with coalesced
//    loads (row stride padded to an odd number of words so the threads' reads of their own
//    problems fall in different banks), then each thread runs the serial search;
//  - warp per problem: lanes own columns, costs are read straight from global memory (one
//    coalesced row per Dijkstra step), the search state lives in shared memory.
#include "exact_kernels.h"

#include <algorithm>

#include "exact_assignment.cuh"
#include "runtime.cuh"

namespace lwfm {
namespace cuda {
namespace {

using exact::Candidate;

constexpr int kWarpsPerBlock = 4;

__global__ void ExactThreadKernel(const float* __restrict__ costs, float sign, int64_t batch, int rows, int cols,
                                  int stride, int32_t* __restrict__ colForRow, uint8_t* __restrict__ converged) {
  extern __shared__ float staging[];  // blockDim.x problems, `stride` floats apart
  const int cells = rows * cols;
  const int64_t first = int64_t(blockIdx.x) * blockDim.x;
  const int64_t count = batch - first < blockDim.x ? batch - first : int64_t(blockDim.x);
  const float* src = costs + first * cells;
  for (int64_t k = threadIdx.x; k < count * cells; k += blockDim.x) {
    const int64_t p = k / cells;
    staging[p * stride + (k - p * cells)] = src[k];
  }
  __syncthreads();
  if (threadIdx.x >= count) return;
  const int64_t b = first + threadIdx.x;
  const float* mine = staging + int64_t(threadIdx.x) * stride;
  double v[kExactThreadMaxCols], shortest[kExactThreadMaxCols];
  int32_t path[kExactThreadMaxCols], row4col[kExactThreadMaxCols], col4row[kExactThreadMaxCols];
  uint8_t scanned[kExactThreadMaxCols];
  bool ok = exact::AllFinite(mine, cols, rows, cols);
  if (ok && rows == 9 && cols == 9) {
    ok = exact::SolveExactFixed<9>(mine, sign, col4row);  // registers for the head's size
  } else if (ok) {
    const exact::ExactState st{mine, cols, sign, v, shortest, path, scanned, row4col, col4row};
    exact::SerialTeam team;
    ok = exact::SolveExact(team, st, rows, cols);
  }
  for (int i = 0; i < rows; ++i) colForRow[b * rows + i] = ok ? col4row[i] : -1;
  converged[b] = ok ? 1 : 0;
}

struct WarpTeam {
  int lane;
  __device__ int rank() const { return lane; }
  __device__ int size() const { return 32; }
  __device__ Candidate reduce(Candidate c) {
    for (int o = 16; o > 0; o >>= 1) {
      const Candidate d{__shfl_xor_sync(0xffffffffu, c.value, o), __shfl_xor_sync(0xffffffffu, c.col, o),
                        __shfl_xor_sync(0xffffffffu, c.taken, o)};
      c = exact::Merge(c, d);
    }
    return c;
  }
  __device__ void sync() { __syncwarp(); }
};

struct WarpSlot {
  double v[kExactWarpMaxCols], shortest[kExactWarpMaxCols];
  int32_t path[kExactWarpMaxCols], row4col[kExactWarpMaxCols], col4row[kExactWarpMaxCols];
  uint8_t scanned[kExactWarpMaxCols];
};

__global__ void ExactWarpKernel(const float* __restrict__ costs, float sign, int64_t batch, int rows, int cols,
                                int32_t* __restrict__ colForRow, uint8_t* __restrict__ converged) {
  __shared__ WarpSlot slots[kWarpsPerBlock];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int64_t b = int64_t(blockIdx.x) * kWarpsPerBlock + warp;
  if (b >= batch) return;  // the whole warp leaves together
  const int cells = rows * cols;
  const float* mine = costs + b * cells;
  bool finite = true;
  for (int k = lane; k < cells; k += 32) finite = finite && (mine[k] - mine[k] == 0.0f);
  bool ok = __all_sync(0xffffffffu, finite);
  WarpSlot& w = slots[warp];
  if (ok) {
    const exact::ExactState st{mine, cols, sign, w.v, w.shortest, w.path, w.scanned, w.row4col, w.col4row};
    WarpTeam team{lane};
    ok = exact::SolveExact(team, st, rows, cols);
  }
  __syncwarp();
  for (int i = lane; i < rows; i += 32) colForRow[b * rows + i] = ok ? w.col4row[i] : -1;
  if (lane == 0) converged[b] = ok ? 1 : 0;
}

}  // namespace

void LaunchExactThread(const float* costs, float sign, int64_t batch, int rows, int cols, int32_t* colForRow,
                       uint8_t* converged, cudaStream_t stream) {
  if (batch <= 0) return;
  const int stride = (rows * cols) | 1;
  const int threads = 64 * stride * int(sizeof(float)) <= 48 * 1024 ? 64 : 32;
  const size_t shared = size_t(threads) * stride * sizeof(float);
  const int64_t blocks = (batch + threads - 1) / threads;
  ExactThreadKernel<<<unsigned(blocks), threads, shared, stream>>>(costs, sign, batch, rows, cols, stride, colForRow,
                                                                   converged);
  LWFM_CUDA_CHECK(cudaGetLastError());
}

void LaunchExactWarp(const float* costs, float sign, int64_t batch, int rows, int cols, int32_t* colForRow,
                     uint8_t* converged, cudaStream_t stream) {
  if (batch <= 0) return;
  const int64_t blocks = (batch + kWarpsPerBlock - 1) / kWarpsPerBlock;
  ExactWarpKernel<<<unsigned(blocks), 32 * kWarpsPerBlock, 0, stream>>>(costs, sign, batch, rows, cols, colForRow,
                                                                        converged);
  LWFM_CUDA_CHECK(cudaGetLastError());
}

}  // namespace cuda
}  // namespace lwfm
