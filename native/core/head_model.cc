#include "core/head_model.h"

#include <cmath>
#include <stdexcept>

namespace lwfm {

HeadModel::HeadModel(HeadOptions options) : options_(std::move(options)) {
  const auto& ch = options_.channels;
  if (ch.empty()) throw std::range_error("Expected at least one tap in channels but received an empty array");
  if (ch.size() > 64) throw std::range_error("Expected at most 64 taps in channels but received " + std::to_string(ch.size()));
  offsets_.assign(1, 0);
  for (std::size_t l = 0; l < ch.size(); ++l) {
    if (ch[l] < 1 || ch[l] > (1 << 16))
      throw std::range_error("Expected channels[" + std::to_string(l) + "] in [1, 65536] but received " + std::to_string(ch[l]));
    offsets_.push_back(offsets_.back() + ch[l]);
  }
  const int f = options_.feature_size;
  // The attention standardises with the unbiased variance over P pixels, undefined for P = 1.
  if (f < 2 || f > 64) throw std::range_error("Expected featureSize in [2, 64] but received " + std::to_string(f));
  if (!(options_.temperature_attn > 0) || !std::isfinite(options_.temperature_attn))
    throw std::range_error("Expected positive finite temperatureAttn");
  if (!(options_.temperature > 0) || !std::isfinite(options_.temperature))
    throw std::range_error("Expected positive finite temperature");
  if (!std::isfinite(options_.matcher_weight)) throw std::range_error("Expected finite matcherWeight");
  if (options_.top_k < 1 || options_.top_k > f * f)
    throw std::range_error("Expected topK in [1, " + std::to_string(f * f) + "] but received " + std::to_string(options_.top_k));
  if (options_.w1.size() != options_.w2.size())
    throw std::invalid_argument("Expected as many W2 as W1 matrices in matcher");
  if (!options_.w1.empty()) {
    if (options_.w1.size() != ch.size())
      throw std::range_error("Expected one matcher entry per tap (" + std::to_string(ch.size()) + ") but received " +
                             std::to_string(options_.w1.size()));
    for (std::size_t l = 0; l < ch.size(); ++l) {
      if (ch[l] % 2 != 0)
        throw std::range_error("Expected even channels[" + std::to_string(l) + "] for a matcher MLP but received " + std::to_string(ch[l]));
      const std::size_t want = static_cast<std::size_t>(ch[l] / 2) * ch[l];
      if (options_.w1[l].size() != want || options_.w2[l].size() != want)
        throw std::range_error("Expected matcher[" + std::to_string(l) + "].w1 and .w2 of length " + std::to_string(want) +
                               " (C_l/2 x C_l with C_l = " + std::to_string(ch[l]) + ") but received " +
                               std::to_string(options_.w1[l].size()) + " and " + std::to_string(options_.w2[l].size()));
      for (const auto* w : {&options_.w1[l], &options_.w2[l]})
        for (std::size_t i = 0; i < w->size(); ++i)
          if (!std::isfinite((*w)[i]))
            throw std::range_error("Expected finite matcher[" + std::to_string(l) + "] weights but found " +
                                   std::to_string((*w)[i]) + " at index " + std::to_string(i) +
                                   (w == &options_.w1[l] ? " of w1" : " of w2"));
    }
  }
}

const HeadModel::TapPack& HeadModel::Packed(int tap, SimdLevel level) const {
  std::lock_guard<std::mutex> lock(pack_mutex_);
  auto& per_tap = packs_[static_cast<int>(level)];
  if (per_tap.empty()) per_tap.resize(options_.channels.size());
  auto& slot = per_tap[tap];
  if (!slot) {
    const int c = channels(tap), h = c / 2;
    auto pack = std::make_unique<TapPack>();
    // Layer 1: [pixels, C] x W1^T, W1 is (h x C) = N x K. Layer 2: [pixels, h] x W2^T, W2 is C x h.
    pack->w1 = PackB(options_.w1[tap].data(), h, c, c, level, 1);
    pack->w2 = PackB(options_.w2[tap].data(), c, h, h, level, 1);
    slot = std::move(pack);
  }
  return *slot;
}

}  // namespace lwfm
