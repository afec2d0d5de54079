// Batched auction kernels: the per-problem work is RunAuction from auction.cuh (the code
// the CPU tests run); these kernels only load costs, quantize them and pick the team.
//  - thread per problem (cols <= 10, e.g. the head's 9 x 9): a warp stages 32 problems'
//    costs through shared memory with coalesced loads, then each thread solves its own
//    problem in registers/local memory. A warp per 9 x 9 problem would leave 23 of 32 lanes
//    idle and pay a 5-step shuffle reduction per bid; one thread per problem needs about
//    10x fewer issued instructions per problem (estimate, not measured on a GPU).
//  - warp per problem (cols <= 32, e.g. 25 x 25), four problems per block.
//  - block per problem (cols <= 128, e.g. 49, 64, 100): costs as an int32 tile in shared
//    memory, Jacobi bidding (every unassigned row bids in parallel, columns keep the best
//    bid with a 64-bit shared-memory atomicMax); "block-gs" runs the Gauss-Seidel driver
//    instead (one bid at a time, block-wide reductions), kept for comparison.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "auction.cuh"
#include "auction_host.h"
#include "auction_teams.cuh"
#include "exact_kernels.h"
#include "staged_copy.h"
#include "runtime.cuh"

namespace lwfm {
namespace cuda {

using auction::AuctionScaling;
using auction::AuctionState;

namespace {

constexpr int kThreadMaxCols = 10;
constexpr int kThreadBlock = 64;
constexpr int kWarpMaxCols = 32;
constexpr int kWarpsPerBlock = 4;

__global__ void AuctionThreadKernel(const float* __restrict__ costs, float sign, int64_t batch, int rows, int cols,
                                    int32_t* __restrict__ colForRow, uint8_t* __restrict__ converged) {
  extern __shared__ float staging[];  // kThreadBlock * rows * cols
  const int cells = rows * cols;
  const int64_t first = int64_t(blockIdx.x) * kThreadBlock;
  const int64_t count = batch - first < kThreadBlock ? batch - first : int64_t(kThreadBlock);
  // Coalesced: the block's problems are contiguous in global memory.
  const float* src = costs + first * cells;
  for (int64_t k = threadIdx.x; k < count * cells; k += blockDim.x) staging[k] = sign * src[k];
  __syncthreads();
  if (threadIdx.x >= count) return;
  const int64_t b = first + threadIdx.x;
  const float* mine = staging + int64_t(threadIdx.x) * cells;

  int32_t cost[kThreadMaxCols * kThreadMaxCols];
  int64_t price[kThreadMaxCols];
  int32_t owner[kThreadMaxCols], col4row[kThreadMaxCols], stack[kThreadMaxCols];
  double cmin, cmax;
  bool ok = auction::CostRange(mine, cells, &cmin, &cmax);
  if (ok) {
    const AuctionScaling s = auction::ChooseScaling(cmin, cmax, rows);
    for (int k = 0; k < cells; ++k) cost[k] = auction::Quantize(mine[k], s);
    AuctionState st{cost, price, owner, col4row, stack};
    auction::SerialTeam team;
    ok = auction::RunAuction(team, st, rows, cols, s);
  }
  for (int i = 0; i < rows; ++i) colForRow[b * rows + i] = ok ? col4row[i] : -1;
  converged[b] = ok ? 1 : 0;
}

// Per-warp working set in shared memory.
struct WarpSlot {
  int32_t cost[kWarpMaxCols * kWarpMaxCols];
  int64_t price[kWarpMaxCols];
  int32_t owner[kWarpMaxCols], col4row[kWarpMaxCols], stack[kWarpMaxCols];
};

__device__ __forceinline__ void WarpMinMax(float& lo, float& hi, bool& finite) {
  for (int o = 16; o > 0; o >>= 1) {
    lo = fminf(lo, __shfl_xor_sync(0xffffffffu, lo, o));
    hi = fmaxf(hi, __shfl_xor_sync(0xffffffffu, hi, o));
  }
  finite = __all_sync(0xffffffffu, finite);
}

__global__ void AuctionWarpKernel(const float* __restrict__ costs, float sign, int64_t batch, int rows, int cols,
                                  int32_t* __restrict__ colForRow, uint8_t* __restrict__ converged) {
  __shared__ WarpSlot slots[kWarpsPerBlock];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int64_t b = int64_t(blockIdx.x) * kWarpsPerBlock + warp;
  if (b >= batch) return;  // whole warp leaves together
  WarpSlot& w = slots[warp];
  const int cells = rows * cols;
  const float* src = costs + b * cells;
  float lo = INFINITY, hi = -INFINITY;
  bool finite = true;
  for (int k = lane; k < cells; k += 32) {
    const float c = sign * src[k];
    finite = finite && (c - c == 0.0f);
    lo = fminf(lo, c);
    hi = fmaxf(hi, c);
  }
  WarpMinMax(lo, hi, finite);
  bool ok = finite;
  if (ok) {
    const AuctionScaling s = auction::ChooseScaling(lo, hi, rows);
    for (int k = lane; k < cells; k += 32) w.cost[k] = auction::Quantize(sign * src[k], s);
    __syncwarp();
    AuctionState st{w.cost, w.price, w.owner, w.col4row, w.stack};
    auction::WarpTeam team{lane};
    ok = auction::RunAuction(team, st, rows, cols, s);
  }
  __syncwarp();
  for (int i = lane; i < rows; i += 32) colForRow[b * rows + i] = ok ? w.col4row[i] : -1;
  if (lane == 0) converged[b] = ok ? 1 : 0;
}

// kJacobi: all unassigned rows bid at once (RunAuctionJacobi), one thread per row; else the
// Gauss-Seidel driver with the block reducing each single bid.
template <bool kJacobi>
__global__ void AuctionBlockKernel(const float* __restrict__ costs, float sign, int rows, int cols,
                                   int32_t* __restrict__ colForRow, uint8_t* __restrict__ converged) {
  extern __shared__ int64_t dyn[];
  int64_t* price = dyn;                                                // cols
  uint64_t* bids = reinterpret_cast<uint64_t*>(price + cols);          // cols
  auction::Bid* slots = reinterpret_cast<auction::Bid*>(bids + cols);  // 32
  int* active = reinterpret_cast<int*>(slots + 32);                    // 2
  int32_t* owner = active + 2;                                         // cols
  int32_t* col4row = owner + cols;                                     // cols
  int32_t* stack = col4row + cols;                                     // cols
  int32_t* cost = stack + cols;                                        // rows * cols
  __shared__ float redLo[32], redHi[32];
  __shared__ int redFinite[32];

  const int64_t b = blockIdx.x;
  const int cells = rows * cols;
  const float* src = costs + b * cells;
  float lo = INFINITY, hi = -INFINITY;
  bool finite = true;
  for (int k = threadIdx.x; k < cells; k += blockDim.x) {
    const float c = sign * src[k];
    finite = finite && (c - c == 0.0f);
    lo = fminf(lo, c);
    hi = fmaxf(hi, c);
  }
  WarpMinMax(lo, hi, finite);
  const int warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  if ((threadIdx.x & 31) == 0) {
    redLo[warp] = lo;
    redHi[warp] = hi;
    redFinite[warp] = finite ? 1 : 0;
  }
  __syncthreads();
  lo = redLo[0];
  hi = redHi[0];
  finite = redFinite[0] != 0;
  for (int k = 1; k < warps; ++k) {
    lo = fminf(lo, redLo[k]);
    hi = fmaxf(hi, redHi[k]);
    finite = finite && redFinite[k] != 0;
  }
  bool ok = finite;
  if (ok) {
    const AuctionScaling s = auction::ChooseScaling(lo, hi, rows);
    for (int k = threadIdx.x; k < cells; k += blockDim.x) cost[k] = auction::Quantize(sign * src[k], s);
    __syncthreads();
    AuctionState st{cost, price, owner, col4row, stack};
    auction::BlockTeam team{slots};
    if (kJacobi) {
      const auction::JacobiState js{bids, active};
      ok = auction::RunAuctionJacobi(team, st, js, rows, cols, s);
    } else {
      ok = auction::RunAuction(team, st, rows, cols, s);
    }
  }
  __syncthreads();
  for (int i = threadIdx.x; i < rows; i += blockDim.x) colForRow[b * rows + i] = ok ? col4row[i] : -1;
  if (threadIdx.x == 0) converged[b] = ok ? 1 : 0;
}

size_t BlockSharedBytes(int rows, int cols) {
  return size_t(cols) * 16 + 32 * sizeof(auction::Bid) + 2 * sizeof(int) + size_t(3) * cols * 4 +
         size_t(rows) * cols * 4;
}

void Launch(const std::string& kernel, const float* dCosts, float sign, int64_t batch, int rows, int cols,
            int32_t* dOut, uint8_t* dConv, cudaStream_t stream) {
  if (batch == 0) return;
  if (kernel == "exact-thread") {
    LaunchExactThread(dCosts, sign, batch, rows, cols, dOut, dConv, stream);
    return;
  }
  if (kernel == "exact-warp") {
    LaunchExactWarp(dCosts, sign, batch, rows, cols, dOut, dConv, stream);
    return;
  }
  if (kernel == "thread") {
    const size_t shared = size_t(kThreadBlock) * rows * cols * sizeof(float);
    const int64_t blocks = (batch + kThreadBlock - 1) / kThreadBlock;
    AuctionThreadKernel<<<unsigned(blocks), kThreadBlock, shared, stream>>>(dCosts, sign, batch, rows, cols, dOut,
                                                                            dConv);
  } else if (kernel == "warp") {
    const int64_t blocks = (batch + kWarpsPerBlock - 1) / kWarpsPerBlock;
    AuctionWarpKernel<<<unsigned(blocks), 32 * kWarpsPerBlock, 0, stream>>>(dCosts, sign, batch, rows, cols, dOut,
                                                                            dConv);
  } else {
    const bool jacobi = kernel == "block";
    const size_t shared = BlockSharedBytes(rows, cols);
    if (shared > 48 * 1024) {
      LWFM_CUDA_CHECK(cudaFuncSetAttribute(jacobi ? AuctionBlockKernel<true> : AuctionBlockKernel<false>,
                                           cudaFuncAttributeMaxDynamicSharedMemorySize, int(shared)));
    }
    const int threads = std::min(128, 32 * ((cols + 31) / 32));
    if (jacobi)
      AuctionBlockKernel<true><<<unsigned(batch), threads, shared, stream>>>(dCosts, sign, rows, cols, dOut, dConv);
    else
      AuctionBlockKernel<false><<<unsigned(batch), threads, shared, stream>>>(dCosts, sign, rows, cols, dOut, dConv);
  }
  LWFM_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

// The exact kernels by default: on an H200 they beat every auction variant at every size
// measured (1M 9x9: 3.95 vs 5.46 ms; 100k 49x49: 9.3 vs 46 ms; 10k 100x100: 9.6 vs 41 ms)
// and need no bound. The auction's fastest variant per size: thread, warp, then Gauss-Seidel
// block (46.0 vs 62.8 ms for 100k 49x49, 0.64 vs 1.36 ms for 256 64x64).
const char* GpuAssignmentKernelFor(int cols, GpuSolver solver) {
  if (solver == GpuSolver::kAuction)
    return cols <= kThreadMaxCols ? "thread" : cols <= kWarpMaxCols ? "warp" : "block-gs";
  if (cols <= 9) return "exact-thread";
  return "exact-warp";
}

void SolveAssignmentsGpuWith(const char* kernelName, const float* costs, int64_t batch, int rows, int cols,
                             int32_t* colForRow, uint8_t* converged, GpuAssignmentTimings* timings, bool maximize) {
  RequireDevice();
  if (rows < 1 || rows > cols || cols > kMaxGpuCols) {
    throw std::invalid_argument("SolveAssignmentsGpu needs 1 <= rows <= cols <= " + std::to_string(kMaxGpuCols));
  }
  std::string kernel = kernelName ? kernelName : GpuAssignmentKernelFor(cols);
  const bool known = kernel == "thread" || kernel == "warp" || kernel == "block" || kernel == "block-gs" ||
                     kernel == "exact-thread" || kernel == "exact-warp";
  if (!known || (kernel == "thread" && cols > kThreadMaxCols) || (kernel == "warp" && cols > kWarpMaxCols) ||
      (kernel == "exact-thread" && cols > kExactThreadMaxCols) ||
      (kernel == "exact-warp" && cols > kExactWarpMaxCols)) {
    kernel = GpuAssignmentKernelFor(cols);
  }
  if (batch <= 0) return;
  const int64_t cells = int64_t(rows) * cols;
  // Chunks of at most ~256 MiB of costs bound device memory for huge batches.
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(batch, (int64_t(64) << 20) / cells));
  DeviceBuffer<float> dCosts(size_t(chunk * cells));
  DeviceBuffer<int32_t> dOut(size_t(chunk * rows));
  DeviceBuffer<uint8_t> dConv{size_t(chunk)};
  cudaEvent_t e0, e1, e2, e3;
  LWFM_CUDA_CHECK(cudaEventCreate(&e0));
  LWFM_CUDA_CHECK(cudaEventCreate(&e1));
  LWFM_CUDA_CHECK(cudaEventCreate(&e2));
  LWFM_CUDA_CHECK(cudaEventCreate(&e3));
  struct Events {
    cudaEvent_t* e;
    ~Events() {
      for (int k = 0; k < 4; ++k) cudaEventDestroy(e[k]);
    }
  };
  cudaEvent_t all[4] = {e0, e1, e2, e3};
  Events guard{all};
  double kernelMs = 0, transferMs = 0;
  for (int64_t start = 0; start < batch; start += chunk) {
    const int64_t n = std::min(chunk, batch - start);
    LWFM_CUDA_CHECK(cudaEventRecord(e0));
    StagedUpload(dCosts.get(), costs + start * cells, size_t(n * cells) * sizeof(float), 0);
    LWFM_CUDA_CHECK(cudaEventRecord(e1));
    Launch(kernel, dCosts.get(), maximize ? -1.0f : 1.0f, n, rows, cols, dOut.get(), dConv.get(), 0);
    LWFM_CUDA_CHECK(cudaEventRecord(e2));
    StagedDownload(colForRow + start * rows, dOut.get(), size_t(n * rows) * sizeof(int32_t), 0);
    StagedDownload(converged + start, dConv.get(), size_t(n), 0);
    LWFM_CUDA_CHECK(cudaEventRecord(e3));
    LWFM_CUDA_CHECK(cudaEventSynchronize(e3));
    float a = 0, k = 0, c = 0;
    LWFM_CUDA_CHECK(cudaEventElapsedTime(&a, e0, e1));
    LWFM_CUDA_CHECK(cudaEventElapsedTime(&k, e1, e2));
    LWFM_CUDA_CHECK(cudaEventElapsedTime(&c, e2, e3));
    kernelMs += k;
    transferMs += a + c;
  }
  if (timings) {
    timings->kernelMs = kernelMs;
    timings->transferMs = transferMs;
  }
}

void SolveAssignmentsGpu(const float* costs, int64_t batch, int rows, int cols, int32_t* colForRow, uint8_t* converged,
                         GpuAssignmentTimings* timings, bool maximize, GpuSolver solver) {
  SolveAssignmentsGpuWith(GpuAssignmentKernelFor(cols, solver), costs, batch, rows, cols, colForRow, converged, timings,
                          maximize);
}

}  // namespace cuda
}  // namespace lwfm
