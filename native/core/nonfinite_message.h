// One wording for a NaN or Infinity in feature arrays, shared by the CPU and GPU engines, so
// a caller sees the same error whichever engine a call ran on: where the value is, both as a
// flat index into the caller's array and as image / channel / pixel.
#pragma once
#include <string>

namespace lwfm {

inline std::string NonFiniteFeatureMessage(const std::string& name, float value, long long index, long long channels,
                                           long long pixels) {
  const long long per_image = channels * pixels;
  const long long within = index % per_image;
  return "Expected finite values for " + name + " but found " + std::to_string(value) + " at index " +
         std::to_string(index) + " (image " + std::to_string(index / per_image) + ", channel " +
         std::to_string(within / pixels) + ", pixel " + std::to_string(within % pixels) + ")";
}

}  // namespace lwfm
