// The LWFM-SPM head's configuration (docs/computation.md §3): one struct for the CPU engine (core/head_model.h),
// the GPU engine and its host emulation (cuda/) and the bindings that read it from JavaScript.
// Plain C++, no CUDA types.
//
// Who checks what: the TypeScript layer (src/head_options.ts) validates every option fully and
// owns the limits. CheckHeadConfig keeps only what the engines' memory and arithmetic rely on:
// sizes they index with (taps, channels, featureSize, topK <= P, weight lengths, even C_l for
// the MLP) and values whose NaN/Infinity would flow into the assignment (finite weights,
// positive finite temperatures). An engine with tighter sizes (the GPU's P <= 25) adds its own.
#pragma once

#include <cmath>
#include <string>
#include <vector>

namespace lwfm {

struct HeadConfig {
  std::vector<int> channels;  // C_l per tap
  int feature_size = 3;       // F; P = F * F pixels per tap
  float temperature_attn = 5.0f;
  float temperature = 0.2f;
  float matcher_weight = 0.25f;
  int top_k = 1;
  // Per tap: W1 ((C_l/2) x C_l) and W2 (C_l x (C_l/2)), row-major; empty = no matcher MLP.
  std::vector<std::vector<float>> w1, w2;
  int threads = 0;           // CPU engine: <= 0 means all hardware threads
  bool gpu_auction = false;  // GPU engine: per-pair auction instead of the exact search

  int taps() const { return static_cast<int>(channels.size()); }
  int pixels() const { return feature_size * feature_size; }
  int total_channels() const {
    int c = 0;
    for (int x : channels) c += x;
    return c;
  }
  bool has_matcher() const { return !w1.empty(); }
  bool matching() const { return matcher_weight != 0.0f; }
};

// The largest sizes any engine indexes with (the CPU engine's; the GPU's are smaller).
constexpr int kHeadMaxTaps = 64;
constexpr int kHeadMaxChannels = 1 << 16;
constexpr int kHeadMaxFeatureSize = 64;

// Empty when the engines can run `c`; otherwise what is wrong, as "Expected ... but received ...".
inline std::string CheckHeadConfig(const HeadConfig& c) {
  const auto received = [](double v) { return " but received " + std::to_string(v); };
  if (c.channels.empty() || c.taps() > kHeadMaxTaps)
    return "Expected 1 to " + std::to_string(kHeadMaxTaps) + " taps in channels but received " +
           std::to_string(c.taps());
  for (int l = 0; l < c.taps(); ++l)
    if (c.channels[l] < 1 || c.channels[l] > kHeadMaxChannels)
      return "Expected channels[" + std::to_string(l) + "] in [1, " + std::to_string(kHeadMaxChannels) + "]" +
             received(c.channels[l]);
  // The attention standardises with the unbiased variance over P pixels, undefined for P = 1.
  if (c.feature_size < 2 || c.feature_size > kHeadMaxFeatureSize)
    return "Expected featureSize in [2, " + std::to_string(kHeadMaxFeatureSize) + "]" + received(c.feature_size);
  if (!(c.temperature_attn > 0) || !std::isfinite(c.temperature_attn))
    return "Expected positive finite temperatureAttn" + received(c.temperature_attn);
  if (!(c.temperature > 0) || !std::isfinite(c.temperature))
    return "Expected positive finite temperature" + received(c.temperature);
  if (!std::isfinite(c.matcher_weight)) return "Expected finite matcherWeight" + received(c.matcher_weight);
  if (c.top_k < 1 || c.top_k > c.pixels())
    return "Expected topK in [1, " + std::to_string(c.pixels()) + "] (featureSize^2)" + received(c.top_k);
  if (c.w1.size() != c.w2.size()) return "Expected as many w2 as w1 matrices in matcher";
  if (c.has_matcher()) {
    if (c.w1.size() != c.channels.size())
      return "Expected one matcher entry per tap (" + std::to_string(c.taps()) + ") but received " +
             std::to_string(c.w1.size());
    for (int l = 0; l < c.taps(); ++l) {
      const int cl = c.channels[l];
      if (cl % 2 != 0) return "Expected even channels[" + std::to_string(l) + "] for a matcher MLP" + received(cl);
      const std::size_t want = static_cast<std::size_t>(cl / 2) * cl;
      if (c.w1[l].size() != want || c.w2[l].size() != want)
        return "Expected matcher[" + std::to_string(l) + "].w1 and .w2 of length " + std::to_string(want) +
               " (C_l/2 x C_l with C_l = " + std::to_string(cl) + ") but received " + std::to_string(c.w1[l].size()) +
               " and " + std::to_string(c.w2[l].size());
      for (const std::vector<float>* w : {&c.w1[l], &c.w2[l]})
        for (std::size_t i = 0; i < w->size(); ++i)
          if (!std::isfinite((*w)[i]))
            return "Expected finite matcher[" + std::to_string(l) + "] weights but found " + std::to_string((*w)[i]) +
                   " at index " + std::to_string(i) + (w == &c.w1[l] ? " of w1" : " of w2");
    }
  }
  return "";
}

}  // namespace lwfm
