#include "core/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace lwfm {

SimdLevel CpuSimd() {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  static const SimdLevel level = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma"))
      return SimdLevel::kAvx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SimdLevel::kAvx2;
    return SimdLevel::kScalar;
  }();
  return level;
#else
  return SimdLevel::kScalar;
#endif
}

SimdLevel ActiveSimd() {
  // Read on every call (cheap) so a test can change the override between calls.
  SimdLevel cap = SimdLevel::kAvx512;
  if (const char* env = std::getenv("LWFM_SPM_SIMD")) {
    if (std::strcmp(env, "scalar") == 0)
      cap = SimdLevel::kScalar;
    else if (std::strcmp(env, "avx2") == 0)
      cap = SimdLevel::kAvx2;
  }
  const SimdLevel cpu = CpuSimd();
  return static_cast<int>(cpu) < static_cast<int>(cap) ? cpu : cap;
}

const char* SimdName(SimdLevel level) {
  switch (level) {
    case SimdLevel::kAvx512:
      return "avx512";
    case SimdLevel::kAvx2:
      return "avx2";
    default:
      return "scalar";
  }
}

}  // namespace lwfm
