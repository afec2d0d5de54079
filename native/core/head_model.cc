#include "core/head_model.h"

#include <cmath>
#include <stdexcept>

namespace lwfm {

HeadModel::HeadModel(HeadConfig config) : config_(std::move(config)) {
  const std::string problem = CheckHeadConfig(config_);
  if (!problem.empty()) throw std::range_error(problem);
  offsets_.assign(1, 0);
  for (int c : config_.channels) offsets_.push_back(offsets_.back() + c);
}

const HeadModel::TapPack& HeadModel::Packed(int tap, SimdLevel level) const {
  std::lock_guard<std::mutex> lock(pack_mutex_);
  auto& per_tap = packs_[static_cast<int>(level)];
  if (per_tap.empty()) per_tap.resize(config_.channels.size());
  auto& slot = per_tap[tap];
  if (!slot) {
    const int c = channels(tap), h = c / 2;
    auto pack = std::make_unique<TapPack>();
    // Layer 1: [pixels, C] x W1^T, W1 is (h x C) = N x K. Layer 2: [pixels, h] x W2^T, W2 is C x h.
    pack->w1 = PackB(config_.w1[tap].data(), h, c, c, level, 1);
    pack->w2 = PackB(config_.w2[tap].data(), c, h, h, level, 1);
    slot = std::move(pack);
  }
  return *slot;
}

}  // namespace lwfm
