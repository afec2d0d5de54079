// Micro-kernels behind GemmABt: each computes one mr x nr tile over kc steps from packed A
// (kc x mr, k-major) and packed B (kc x nr, k-major). Compiled per ISA with target attributes so
// the binary still runs on baseline x86-64; gemm.cc dispatches on ActiveSimd().
#pragma once

namespace lwfm {
namespace gemm_detail {

// c: tile origin with row stride ldc. accumulate: add to c instead of overwriting.
// relu: clamp at 0 after accumulation (only on the last k block).
using MicroKernel = void (*)(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate, bool relu);

constexpr int kScalarMr = 4, kScalarNr = 8;  // 8 SSE accumulators: no spills on baseline x86-64
constexpr int kAvx2Mr = 6, kAvx2Nr = 16;
constexpr int kAvx512Mr = 12, kAvx512Nr = 32;

void MicroKernelScalar(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate, bool relu);
void MicroKernelAvx2(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate, bool relu);
void MicroKernelAvx512(int kc, const float* a, const float* b, float* c, long ldc, bool accumulate, bool relu);

}  // namespace gemm_detail
}  // namespace lwfm
