// Host API of the CUDA engine, free of CUDA types so the addon and the device check can
// include it with a plain C++ compiler. Implemented in cuda/*.cu (lwfm_cuda library), which
// is only linked when nvcc was found (the addon defines LWFM_WITH_CUDA then).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace lwfm {
namespace cuda {

struct DeviceInfo {
  std::string name;
  int major = 0, minor = 0;
  std::uint64_t memoryBytes = 0;
};

struct RuntimeStatus {
  bool available = false;
  std::string reason;  // why not available ("no CUDA device", "driver missing or too old", ...)
  std::vector<DeviceInfo> devices;
};

// Queried once per process (cudaGetDeviceCount and friends); never throws.
const RuntimeStatus& QueryRuntime();

// A CUDA failure. `unavailable` marks "there is no usable device" (no GPU, no driver,
// driver too old) as opposed to a failure while running (out of memory, launch error).
class CudaError : public std::runtime_error {
 public:
  CudaError(const std::string& what, bool unavailable)
      : std::runtime_error(what), unavailable_(unavailable) {}
  bool unavailable() const { return unavailable_; }

 private:
  bool unavailable_;
};

// Throws CudaError(unavailable = true) unless a device is usable.
void RequireDevice();

struct AuctionTimings {
  double kernelMs = 0;    // auction kernels only (CUDA events)
  double transferMs = 0;  // host <-> device copies
};

// Solves `batch` rows x cols problems (rows <= cols <= kMaxGpuCols) stored back to back:
// colForRow[b * rows + i], converged[b] = 1 when solved (0 for non-finite costs, or an
// auction kernel that hit its iteration cap: callers fall back to the exact CPU solver).
// By default the exact search of exact_assignment.cuh (thread per problem up to 9 columns,
// warp per problem above); the auction kernels of auction.cuh by name.
// maximize: maximizes the total instead (costs negated as they are loaded).
constexpr int kMaxGpuCols = 128;
void SolveAuctionBatch(const float* costs, std::int64_t batch, int rows, int cols,
                       std::int32_t* colForRow, std::uint8_t* converged,
                       AuctionTimings* timings = nullptr, bool maximize = false);

// Which kernel SolveAuctionBatch uses for `cols`: "exact-thread" or "exact-warp"; the auction
// kernels are "thread", "warp", "block" (Jacobi block per problem) and "block-gs" (Gauss-Seidel
// block per problem). SolveAuctionBatchWith takes the kernel name (nullptr = automatic;
// kernels too small for `cols` fall back to the automatic one).
const char* AuctionKernelFor(int cols);
void SolveAuctionBatchWith(const char* kernel, const float* costs, std::int64_t batch, int rows,
                           int cols, std::int32_t* colForRow, std::uint8_t* converged,
                           AuctionTimings* timings, bool maximize = false);

}  // namespace cuda
}  // namespace lwfm
