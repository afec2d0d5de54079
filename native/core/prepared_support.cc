#include "core/prepared_support.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "core/thread_pool.h"

namespace lwfm {

PreparedSupport PrepareSupport(const HeadModel& model, const float* features, int size, const int32_t* labels,
                               SimdLevel level, int threads, EmbedTimings* timings) {
  if (size < 1) throw std::range_error("Expected at least one support image but received 0");
  PreparedSupport out;
  out.size = size;
  out.level = level;
  out.labels.assign(labels, labels + size);
  int way = 0;
  for (int s = 0; s < size; ++s) {
    if (labels[s] < 0 || labels[s] >= size)
      throw std::range_error("Expected labels[" + std::to_string(s) + "] in [0, " + std::to_string(size - 1) +
                             "] but received " + std::to_string(labels[s]));
    way = std::max(way, labels[s] + 1);
  }
  out.way = way;
  out.shots.assign(way, {});
  for (int s = 0; s < size; ++s) out.shots[labels[s]].push_back(s);
  for (int k = 0; k < way; ++k)
    if (out.shots[k].empty())
      throw std::range_error("Expected at least one support image of class " + std::to_string(k) +
                             " (labels must cover 0.." + std::to_string(way - 1) + ") but received none");

  EmbedRequest request;
  request.keep_centered = true;
  EmbedScratch scratch;
  EmbedImages(model, features, size, "support features", request, level, threads, timings, out.images, scratch);

  const int taps = model.taps(), p = model.pixels();
  const DotFn dot = DotFor(level);
  out.class_gram.assign(way, std::vector<std::vector<double>>(taps));
  ParallelFor(way, threads, 1, [&](std::size_t begin, std::size_t end) {
    for (std::size_t k = begin; k < end; ++k) {
      const auto& shots = out.shots[k];
      const int kp = static_cast<int>(shots.size()) * p;
      for (int l = 0; l < taps; ++l) {
        auto& g = out.class_gram[k][l];
        g.resize(static_cast<std::size_t>(kp) * kp);
        for (int a = 0; a < kp; ++a)
          for (int b = a; b < kp; ++b) {
            const std::size_t ra = static_cast<std::size_t>(shots[a / p]) * p + a % p;
            const std::size_t rb = static_cast<std::size_t>(shots[b / p]) * p + b % p;
            const double v = CenteredDot(out.images, l, model.channels(l), ra, rb, dot);
            g[static_cast<std::size_t>(a) * kp + b] = v;
            g[static_cast<std::size_t>(b) * kp + a] = v;
          }
      }
    }
  });
  for (int l = 0; l < taps; ++l)
    out.packed_unit.push_back(
        PackB(out.images.unit[l].data(), size * p, model.channels(l), model.channels(l), level, threads));
  // Centred vectors were only needed for the Grams; queries use unit/match vectors and norms.
  out.images.centered.clear();
  out.images.centered.shrink_to_fit();
  return out;
}

}  // namespace lwfm
