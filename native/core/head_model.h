// A Head's configuration (core/head_config.h) with its per-tap matcher MLP weights packed for
// the GEMM once per SIMD level and reused.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/gemm.h"
#include "core/head_config.h"

namespace lwfm {

class HeadModel {
 public:
  // Runs CheckHeadConfig (core/head_config.h); throws std::range_error with its message.
  explicit HeadModel(HeadConfig config);

  const HeadConfig& config() const { return config_; }
  int taps() const { return static_cast<int>(config_.channels.size()); }
  int channels(int tap) const { return config_.channels[tap]; }
  int offset(int tap) const { return offsets_[tap]; }
  int total_channels() const { return offsets_.back(); }
  int pixels() const { return config_.feature_size * config_.feature_size; }
  bool has_matcher() const { return !config_.w1.empty(); }
  bool matching() const { return config_.matcher_weight != 0.0f; }

  // Packed W1 / W2 of a tap for `level`, packed on first use (thread-safe).
  const PackedB& PackedW1(int tap, SimdLevel level) const { return Packed(tap, level).w1; }
  const PackedB& PackedW2(int tap, SimdLevel level) const { return Packed(tap, level).w2; }

 private:
  struct TapPack {
    PackedB w1, w2;
  };
  const TapPack& Packed(int tap, SimdLevel level) const;

  HeadConfig config_;
  std::vector<int> offsets_;
  mutable std::mutex pack_mutex_;
  mutable std::array<std::vector<std::unique_ptr<TapPack>>, 3> packs_;  // [level][tap]
};

}  // namespace lwfm
