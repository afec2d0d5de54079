#include "core/image_embedding.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/thread_pool.h"

namespace lwfm {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// h <- (h + z) / max(|h + z|, 1e-8) per row (z may be null): the matched vector of SPEC §3.3
// up to the positive attention factor, which the cosine ignores.
void AddAndNormalizeRows(float* h, const float* z, std::size_t rows, int c, DotFn dot, int threads) {
  ParallelFor(rows, threads, 64, [&](std::size_t begin, std::size_t end) {
    for (std::size_t r = begin; r < end; ++r) {
      float* row = h + r * c;
      if (z) {
        const float* zr = z + r * c;
        for (int i = 0; i < c; ++i) row[i] += zr[i];
      }
      const float n = std::sqrt(dot(row, row, c));
      const float inv = 1.0f / std::max(n, 1e-8f);
      for (int i = 0; i < c; ++i) row[i] *= inv;
    }
  });
}

}  // namespace

double CenteredDot(const EmbeddedImages& images, int tap, int channels, std::size_t row_a, std::size_t row_b,
                   DotFn dot) {
  const float* z = images.centered[tap].data();
  return dot(z + row_a * channels, z + row_b * channels, channels);
}

void EmbedImages(const HeadModel& model, const float* features, int count, const char* name,
                 const EmbedRequest& request, SimdLevel level, int threads, EmbedTimings* timings,
                 EmbeddedImages& out, EmbedScratch& scratch) {
  const int taps = model.taps(), p = model.pixels(), c_total = model.total_channels();
  const std::size_t rows = static_cast<std::size_t>(count) * p;
  const DotFn dot = DotFor(level);
  out.count = count;
  out.centered.resize(taps);
  out.unit.resize(taps);
  out.norm.resize(taps);
  out.cos_scale.resize(taps);
  for (int l = 0; l < taps; ++l) {
    out.centered[l].resize(rows * model.channels(l));
    out.unit[l].resize(rows * model.channels(l));
    out.norm[l].resize(rows);
    out.cos_scale[l].resize(rows);
  }

  double t0 = Now();
  std::vector<long long> bad(count, -1);
  ParallelFor(count, threads, 1, [&](std::size_t begin, std::size_t end) {
    std::vector<double> mean(p);
    std::vector<float> mean_f(p);
    for (std::size_t img = begin; img < end; ++img) {
      const float* x = features + img * static_cast<std::size_t>(c_total) * p;
      std::fill(mean.begin(), mean.end(), 0.0);
      for (int c = 0; c < c_total; ++c)
        for (int q = 0; q < p; ++q) mean[q] += x[c * p + q];
      bool finite = true;
      for (int q = 0; q < p; ++q) {
        finite = finite && std::isfinite(mean[q]);
        mean[q] /= c_total;
        mean_f[q] = static_cast<float>(mean[q]);
      }
      if (!finite) {
        for (std::size_t i = 0; i < static_cast<std::size_t>(c_total) * p; ++i)
          if (!std::isfinite(x[i])) { bad[img] = static_cast<long long>(img * c_total * p + i); break; }
        continue;
      }
      for (int l = 0; l < taps; ++l) {
        const int cl = model.channels(l), off = model.offset(l);
        float* z = out.centered[l].data() + img * p * cl;
        // Transpose to pixel-major while centring, 8 channels at a time so every pixel row
        // receives whole 32-byte runs.
        const float* xt = x + static_cast<std::size_t>(off) * p;
        int c = 0;
        for (; c + 8 <= cl; c += 8) {
          const float* xc = xt + static_cast<std::size_t>(c) * p;
          for (int q = 0; q < p; ++q) {
            float* zq = z + q * cl + c;
            const float m = mean_f[q];
            for (int cc = 0; cc < 8; ++cc) zq[cc] = xc[cc * p + q] - m;
          }
        }
        for (; c < cl; ++c)
          for (int q = 0; q < p; ++q) z[q * cl + c] = xt[static_cast<std::size_t>(c) * p + q] - mean_f[q];
        float* u = out.unit[l].data() + img * p * cl;
        for (int q = 0; q < p; ++q) {
          const float* zq = z + q * cl;
          const double sumsq = dot(zq, zq, cl);
          const double r = std::sqrt(sumsq + 1e-6);
          const double len = std::sqrt(sumsq);
          out.norm[l][img * p + q] = static_cast<float>(r);
          out.cos_scale[l][img * p + q] = len > 0 ? static_cast<float>(r / len) : 0.0f;
          const float inv = static_cast<float>(1.0 / r);
          float* uq = u + q * cl;
          for (int c = 0; c < cl; ++c) uq[c] = zq[c] * inv;
        }
      }
    }
  });
  for (int img = 0; img < count; ++img) {
    if (bad[img] < 0) continue;
    const long long i = bad[img];
    const long long per_image = static_cast<long long>(c_total) * p;
    const long long within = i % per_image;
    const long long image = request.first_image + img;
    throw std::range_error(std::string("Expected finite values for ") + name + " but found " +
                           std::to_string(features[i]) + " at index " + std::to_string(image * per_image + within) +
                           " (image " + std::to_string(image) + ", channel " + std::to_string(within / p) +
                           ", pixel " + std::to_string(within % p) + ")");
  }
  double t1 = Now();
  if (timings) timings->center += t1 - t0;

  if (model.matching()) {
    out.match.resize(taps);
    for (int l = 0; l < taps; ++l) {
      const int cl = model.channels(l);
      auto& h = out.match[l];
      h.resize(rows * cl);
      if (model.has_matcher()) {
        const int hidden = cl / 2;
        if (scratch.hidden.size() < rows * hidden) scratch.hidden.resize(rows * hidden);
        float* h1 = scratch.hidden.data();
        GemmABt(out.centered[l].data(), static_cast<int>(rows), cl, model.PackedW1(l, level), h1, hidden,
                GemmEpilogue::kRelu, threads, &scratch.pack);
        GemmABt(h1, static_cast<int>(rows), hidden, model.PackedW2(l, level), h.data(), cl,
                GemmEpilogue::kRelu, threads, &scratch.pack);
        AddAndNormalizeRows(h.data(), out.centered[l].data(), rows, cl, dot, threads);
      } else {
        std::copy(out.centered[l].begin(), out.centered[l].end(), h.begin());
        AddAndNormalizeRows(h.data(), nullptr, rows, cl, dot, threads);
      }
    }
  }
  double t2 = Now();
  if (timings) timings->mlp += t2 - t1;

  if (request.want_gram) {
    out.gram.resize(taps);
    for (int l = 0; l < taps; ++l) out.gram[l].resize(static_cast<std::size_t>(count) * p * p);
    ParallelFor(count, threads, 4, [&](std::size_t begin, std::size_t end) {
      for (std::size_t img = begin; img < end; ++img)
        for (int l = 0; l < taps; ++l) {
          const int cl = model.channels(l);
          double* g = out.gram[l].data() + img * p * p;
          for (int i = 0; i < p; ++i)
            for (int j = i; j < p; ++j) {
              const double v = CenteredDot(out, l, cl, img * p + i, img * p + j, dot);
              g[i * p + j] = v;
              g[j * p + i] = v;
            }
        }
    });
  }
  if (!request.keep_centered) {
    out.centered.clear();
    out.centered.shrink_to_fit();
  }
  if (timings) timings->gram += Now() - t2;
}

}  // namespace lwfm
