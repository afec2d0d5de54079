// Run-time choice of SIMD code paths: prebuilt binaries are compiled for baseline
// x86-64 and pick AVX2/AVX-512 kernels only when the CPU running them has them.
#pragma once

namespace lwfm {

enum class SimdLevel { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

// Best level this CPU supports, capped by the LWFM_SPM_SIMD environment variable
// ("scalar", "avx2", "avx512") so tests can exercise every path on one machine.
SimdLevel ActiveSimd();

// Highest level the CPU supports, ignoring the override.
SimdLevel CpuSimd();

const char* SimdName(SimdLevel level);

}  // namespace lwfm
