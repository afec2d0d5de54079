// What the GPU head (and its host emulation) can hold beyond the engines' common checks
// (CheckHeadConfig in core/head_config.h): fixed per-tap arrays and per-pair scratch sizes.
#pragma once

#include <string>

#include "core/head_config.h"

namespace lwfm {
namespace cuda {

constexpr int kMaxTaps = 9;     // tap ids 0..8
constexpr int kMaxPixels = 64;  // featureSize <= 8

// Empty when the GPU code can run `c` with `way` classes, else what is wrong.
inline std::string CheckGpuHeadConfig(const HeadConfig& c, int way) {
  std::string problem = CheckHeadConfig(c);
  if (!problem.empty()) return problem;
  if (c.taps() > kMaxTaps) return "Expected 1 to 9 taps in channels (GPU) but received " + std::to_string(c.taps());
  if (c.pixels() > kMaxPixels)
    return "Expected featureSize between 2 and 8 (GPU) but received " + std::to_string(c.feature_size);
  if (way < 1) return "Expected way >= 1 but received " + std::to_string(way);
  return "";
}

}  // namespace cuda
}  // namespace lwfm
