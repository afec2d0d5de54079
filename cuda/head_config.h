// Configuration of the LWFM-SPM head (SPEC §3) shared by the GPU engine, its host emulation
// and the bindings. Plain C++ (no CUDA types).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lwfm {
namespace cuda {

constexpr int kMaxTaps = 9;     // tap ids 0..8
constexpr int kMaxPixels = 64;  // featureSize <= 8

struct HeadConfig {
  std::vector<int> channels;  // C_l per tap
  int featureSize = 3;
  int way = 0;
  float temperatureAttn = 5.0f;
  float temperature = 0.2f;
  float matcherWeight = 0.25f;
  int topK = 1;
  // Per tap, empty when the model has no matcher MLP: W1 (C_l/2 x C_l), W2 (C_l x C_l/2), row-major.
  std::vector<const float*> w1, w2;

  int taps() const { return int(channels.size()); }
  int pixels() const { return featureSize * featureSize; }
  int totalChannels() const {
    int c = 0;
    for (int x : channels) c += x;
    return c;
  }
  bool hasMlp() const { return !w1.empty(); }
  bool matching() const { return matcherWeight != 0.0f; }
};

// Empty string when valid, else what is wrong (the bindings turn it into a RangeError).
inline std::string ValidateHeadConfig(const HeadConfig& c) {
  if (c.channels.empty() || c.taps() > kMaxTaps) return "Expected 1 to 9 taps in channels";
  for (int x : c.channels)
    if (x < 1 || x > (1 << 16)) return "Expected channels between 1 and 65536 per tap";
  if (c.featureSize < 2 || c.pixels() > kMaxPixels) return "Expected featureSize between 2 and 8";
  if (c.way < 1) return "Expected way >= 1";
  if (!(c.temperatureAttn > 0) || !(c.temperature > 0)) return "Expected positive temperatures";
  if (!(c.matcherWeight >= 0) || c.matcherWeight > 1e30f) return "Expected a finite non-negative matcherWeight";
  if (c.topK < 1 || c.topK > c.pixels()) return "Expected topK between 1 and featureSize^2";
  if (!c.w1.empty() && (int(c.w1.size()) != c.taps() || int(c.w2.size()) != c.taps()))
    return "Expected one matcher MLP per tap";
  for (int x : c.channels)
    if (c.hasMlp() && (x % 2 != 0)) return "Expected even channels per tap with a matcher MLP";
  return "";
}

}  // namespace cuda
}  // namespace lwfm
