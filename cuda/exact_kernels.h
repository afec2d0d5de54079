// Launchers of the exact batched assignment kernels (exact_kernels.cu): the search of
// exact_assignment.cuh with a thread per problem (cols <= kExactThreadMaxCols) or a warp per
// problem (cols <= kExactWarpMaxCols). Problems are stored back to back, rows x cols each.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace lwfm {
namespace cuda {

constexpr int kExactThreadMaxCols = 16;
constexpr int kExactWarpMaxCols = 128;

// converged[b] = 0 only for a problem with a non-finite cost (callers send it to the CPU).
void LaunchExactThread(const float* costs, float sign, std::int64_t batch, int rows, int cols, std::int32_t* colForRow,
                       std::uint8_t* converged, cudaStream_t stream);
void LaunchExactWarp(const float* costs, float sign, std::int64_t batch, int rows, int cols, std::int32_t* colForRow,
                     std::uint8_t* converged, cudaStream_t stream);

}  // namespace cuda
}  // namespace lwfm
