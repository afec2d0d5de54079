// One wording for a NaN, an Infinity or an out-of-range value in feature arrays, shared by the
// CPU and GPU engines, so a caller sees the same error whichever engine a call ran on: where
// the value is, both as a flat index into the caller's array and as image / channel / pixel.
#pragma once
#include <cmath>
#include <cstdio>
#include <string>

namespace lwfm {

// Largest feature magnitude the head accepts. The head sums squares and products of features
// in float32 (norms, pooled attention-weighted maps, cosines): with up to 65536 channels per
// tap and 4096 pixels those sums stay finite for |x| <= 1e10, while 1e19 overflowed and made
// the assignment fail. Backbone features are ten orders of magnitude smaller.
constexpr float kMaxFeatureMagnitude = 1e10f;

// False for NaN, +-Infinity and |v| > kMaxFeatureMagnitude.
inline bool FeatureInRange(float v) { return std::fabs(v) <= kMaxFeatureMagnitude; }

inline std::string NonFiniteFeatureMessage(const std::string& name, float value, long long index, long long channels,
                                           long long pixels) {
  const long long per_image = channels * pixels;
  const long long within = index % per_image;
  const std::string where = " at index " + std::to_string(index) + " (image " + std::to_string(index / per_image) +
                            ", channel " + std::to_string(within / pixels) + ", pixel " +
                            std::to_string(within % pixels) + ")";
  if (!std::isfinite(value))
    return "Expected finite values for " + name + " but found " + std::to_string(value) + where;
  char text[64];
  std::snprintf(text, sizeof text, "%g", static_cast<double>(value));
  return "Expected feature values of magnitude at most 1e10 for " + name +
         " (larger ones overflow the head's float32 sums) but found " + text + where;
}

}  // namespace lwfm
