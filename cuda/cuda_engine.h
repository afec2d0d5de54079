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
  CudaError(const std::string& what, bool unavailable) : std::runtime_error(what), unavailable_(unavailable) {}
  bool unavailable() const { return unavailable_; }

 private:
  bool unavailable_;
};

// Throws CudaError(unavailable = true) unless a device is usable.
void RequireDevice();

struct GpuAssignmentTimings {
  double kernelMs = 0;    // solver kernels only (CUDA events)
  double transferMs = 0;  // host <-> device copies
};

// The two GPU solvers. kExact, the default: shortest augmenting paths with double potentials
// (exact_assignment.cuh), a thread per problem up to 9 columns and a warp above; on an H200 it
// beat every auction variant at every size measured (benchmarks/RESULTS.md: 1M 9x9 1.19 vs
// 5.47 ms, 100k 49x49 9.38 vs 46.0 ms, 10k 100x100 vs 41.2 ms kernel). kAuction: the design's
// auction-style GPU Hungarian (auction.cuh, epsilon scaling on quantized costs), a thread per
// problem up to 10 columns, a warp up to 32, a Gauss-Seidel block above; optimal for the
// quantized costs, within a stated bound of the float optimum.
enum class GpuSolver { kExact, kAuction };

// Solves `batch` rows x cols problems (rows <= cols <= kMaxGpuCols) stored back to back:
// colForRow[b * rows + i], converged[b] = 1 when solved (0 for non-finite costs, or an
// auction kernel that hit its iteration cap: callers fall back to the exact CPU solver).
// maximize: maximizes the total instead (costs negated as they are loaded).
constexpr int kMaxGpuCols = 128;
void SolveAssignmentsGpu(const float* costs, std::int64_t batch, int rows, int cols, std::int32_t* colForRow,
                         std::uint8_t* converged, GpuAssignmentTimings* timings = nullptr, bool maximize = false,
                         GpuSolver solver = GpuSolver::kExact);

// The kernel SolveAssignmentsGpu runs for `cols`: "exact-thread" or "exact-warp" (kExact);
// "thread", "warp" or "block-gs" (kAuction). SolveAssignmentsGpuWith takes a kernel name
// (also "block", the Jacobi block auction; nullptr = kExact's; kernels too small for `cols`
// fall back to kExact's), for the device check's comparisons.
const char* GpuAssignmentKernelFor(int cols, GpuSolver solver = GpuSolver::kExact);
void SolveAssignmentsGpuWith(const char* kernel, const float* costs, std::int64_t batch, int rows, int cols,
                             std::int32_t* colForRow, std::uint8_t* converged, GpuAssignmentTimings* timings,
                             bool maximize = false);

}  // namespace cuda
}  // namespace lwfm
