// What a Head is configured with (SPEC §3): tap layout, hyperparameters and the optional
// per-tap matcher MLP, whose weights are packed for the GEMM once per SIMD level and reused.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/gemm.h"

namespace lwfm {

struct HeadOptions {
  std::vector<int> channels;  // C_l per tap
  int feature_size = 3;
  float temperature_attn = 5.0f;
  float temperature = 0.2f;
  float matcher_weight = 0.25f;
  int top_k = 1;
  // Per tap: W1 ((C_l/2) x C_l) and W2 (C_l x (C_l/2)), row-major; empty = no matcher MLP.
  std::vector<std::vector<float>> w1, w2;
  int threads = 0;  // <= 0: all hardware threads
};

class HeadModel {
 public:
  // Validates everything; throws std::invalid_argument (wrong kind) or std::range_error
  // (out of range) with a message naming the option.
  explicit HeadModel(HeadOptions options);

  const HeadOptions& options() const { return options_; }
  int taps() const { return static_cast<int>(options_.channels.size()); }
  int channels(int tap) const { return options_.channels[tap]; }
  int offset(int tap) const { return offsets_[tap]; }
  int total_channels() const { return offsets_.back(); }
  int pixels() const { return options_.feature_size * options_.feature_size; }
  bool has_matcher() const { return !options_.w1.empty(); }
  bool matching() const { return options_.matcher_weight != 0.0f; }

  // Packed W1 / W2 of a tap for `level`, packed on first use (thread-safe).
  const PackedB& PackedW1(int tap, SimdLevel level) const { return Packed(tap, level).w1; }
  const PackedB& PackedW2(int tap, SimdLevel level) const { return Packed(tap, level).w2; }

 private:
  struct TapPack {
    PackedB w1, w2;
  };
  const TapPack& Packed(int tap, SimdLevel level) const;

  HeadOptions options_;
  std::vector<int> offsets_;
  mutable std::mutex pack_mutex_;
  mutable std::array<std::vector<std::unique_ptr<TapPack>>, 3> packs_;  // [level][tap]
};

}  // namespace lwfm
