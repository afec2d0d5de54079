#include "core/image_embedding.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "core/matched_cosine.h"
#include "core/nonfinite_message.h"
#include "core/thread_pool.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

namespace lwfm {
namespace {

double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

__attribute__((always_inline)) inline void AddBody(float* h, const float* z, int n) {
  for (int i = 0; i < n; ++i) h[i] += z[i];
}
void AddScalar(float* h, const float* z, int n) { AddBody(h, z, n); }
__attribute__((always_inline)) inline void ScaleInPlaceBody(float* h, float s, int n) {
  for (int i = 0; i < n; ++i) h[i] *= s;
}
void ScaleInPlaceScalar(float* h, float s, int n) { ScaleInPlaceBody(h, s, n); }
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2,fma"))) void AddAvx2(float* h, const float* z, int n) { AddBody(h, z, n); }
__attribute__((target("avx2,fma"))) void ScaleInPlaceAvx2(float* h, float s, int n) { ScaleInPlaceBody(h, s, n); }
#endif

// h <- (h + z) / max(|h + z|, 1e-8) per row (z may be null) and norm[row] = |h + z|: the matched
// vector of docs/computation.md §3.3 without its positive attention factor, which each pair applies
// through core/matched_cosine.h. The element-wise steps are the same float operations at every
// SIMD level.
void AddAndNormalizeRows(float* h, const float* z, std::size_t rows, int c, DotFn dot, SimdLevel level, int threads,
                         float* norm) {
  void (*add)(float*, const float*, int) = AddScalar;
  void (*scale)(float*, float, int) = ScaleInPlaceScalar;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (level != SimdLevel::kScalar) {
    add = AddAvx2;
    scale = ScaleInPlaceAvx2;
  }
#endif
  (void)level;
  ParallelFor(rows, threads, 64, [&](std::size_t begin, std::size_t end) {
    for (std::size_t r = begin; r < end; ++r) {
      float* row = h + r * c;
      if (z) add(row, z + r * c, c);
      const float n = std::sqrt(dot(row, row, c));
      norm[r] = n;
      scale(row, 1.0f / std::max(n, kCosineNormGuard), c);
    }
  });
}

// Centring kernels (docs/computation.md §3.1), one set per SIMD level. Every level performs the same float
// and double operations on the same values in the same order, so all levels agree bit for bit.
struct CenterFns {
  // sums[q] = sum over c of x[c * p + q], in double: four interleaved partial sums per pixel
  // (channels c = 0, 1, 2, 3 mod 4) so the loop runs over contiguous memory. partial: 4 p doubles.
  void (*pixel_sums)(const float* x, int channels, int p, double* partial, double* sums);
  // z[q * cl + c] = x[c * p + q] - mean[q]: channel-major to pixel-major while centring.
  void (*transpose_centre)(const float* x, int cl, int p, const float* mean, float* z);
  // out[i] = in[i] * s.
  void (*scale)(const float* in, float s, float* out, int n);
};

__attribute__((always_inline)) inline void PixelSumsBody(const float* x, int channels, int p, double* partial,
                                                         double* sums) {
  const int chunk = 4 * p;
  for (int k = 0; k < chunk; ++k) partial[k] = 0.0;
  int c = 0;
  for (; c + 4 <= channels; c += 4) {
    const float* xc = x + static_cast<std::size_t>(c) * p;
    for (int k = 0; k < chunk; ++k) partial[k] += static_cast<double>(xc[k]);
  }
  for (int q = 0; q < p; ++q) sums[q] = (partial[q] + partial[p + q]) + (partial[2 * p + q] + partial[3 * p + q]);
  for (; c < channels; ++c)
    for (int q = 0; q < p; ++q) sums[q] += static_cast<double>(x[static_cast<std::size_t>(c) * p + q]);
}

__attribute__((always_inline)) inline void ScaleBody(const float* in, float s, float* out, int n) {
  for (int i = 0; i < n; ++i) out[i] = in[i] * s;
}

void PixelSumsScalar(const float* x, int channels, int p, double* partial, double* sums) {
  PixelSumsBody(x, channels, p, partial, sums);
}

void ScaleScalar(const float* in, float s, float* out, int n) { ScaleBody(in, s, out, n); }

void TransposeCentreScalar(const float* x, int cl, int p, const float* mean, float* z) {
  // 8 channels at a time so every pixel row receives whole 32-byte runs.
  int c = 0;
  for (; c + 8 <= cl; c += 8) {
    const float* xc = x + static_cast<std::size_t>(c) * p;
    for (int q = 0; q < p; ++q) {
      float* zq = z + static_cast<std::size_t>(q) * cl + c;
      const float m = mean[q];
      for (int cc = 0; cc < 8; ++cc) zq[cc] = xc[cc * p + q] - m;
    }
  }
  for (; c < cl; ++c)
    for (int q = 0; q < p; ++q)
      z[static_cast<std::size_t>(q) * cl + c] = x[static_cast<std::size_t>(c) * p + q] - mean[q];
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

__attribute__((target("avx2,fma"))) void PixelSumsAvx2(const float* x, int channels, int p, double* partial,
                                                       double* sums) {
  PixelSumsBody(x, channels, p, partial, sums);
}

__attribute__((target("avx2,fma"))) void ScaleAvx2(const float* in, float s, float* out, int n) {
  ScaleBody(in, s, out, n);
}

// 8 channels x 8 pixels per step as an in-register 8 x 8 transpose; the last p mod 8 pixels
// of each 8-channel block are gathered.
__attribute__((target("avx2,fma"))) void TransposeCentreAvx2(const float* x, int cl, int p, const float* mean,
                                                             float* z) {
  const __m256i column = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(p));
  int c = 0;
  for (; c + 8 <= cl; c += 8) {
    const float* xc = x + static_cast<std::size_t>(c) * p;
    int q = 0;
    for (; q + 8 <= p; q += 8) {
      __m256 r0 = _mm256_loadu_ps(xc + 0 * p + q), r1 = _mm256_loadu_ps(xc + 1 * p + q);
      __m256 r2 = _mm256_loadu_ps(xc + 2 * p + q), r3 = _mm256_loadu_ps(xc + 3 * p + q);
      __m256 r4 = _mm256_loadu_ps(xc + 4 * p + q), r5 = _mm256_loadu_ps(xc + 5 * p + q);
      __m256 r6 = _mm256_loadu_ps(xc + 6 * p + q), r7 = _mm256_loadu_ps(xc + 7 * p + q);
      const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
      const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
      const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
      const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
      const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
      const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
      const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
      const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
      // Row k of the transpose = pixel q + k across the 8 channels.
      const __m256 rows[8] = {_mm256_permute2f128_ps(s0, s4, 0x20), _mm256_permute2f128_ps(s1, s5, 0x20),
                              _mm256_permute2f128_ps(s2, s6, 0x20), _mm256_permute2f128_ps(s3, s7, 0x20),
                              _mm256_permute2f128_ps(s0, s4, 0x31), _mm256_permute2f128_ps(s1, s5, 0x31),
                              _mm256_permute2f128_ps(s2, s6, 0x31), _mm256_permute2f128_ps(s3, s7, 0x31)};
      for (int k = 0; k < 8; ++k)
        _mm256_storeu_ps(z + static_cast<std::size_t>(q + k) * cl + c,
                         _mm256_sub_ps(rows[k], _mm256_set1_ps(mean[q + k])));
    }
    for (; q < p; ++q)
      _mm256_storeu_ps(z + static_cast<std::size_t>(q) * cl + c,
                       _mm256_sub_ps(_mm256_i32gather_ps(xc + q, column, 4), _mm256_set1_ps(mean[q])));
  }
  for (; c < cl; ++c)
    for (int q = 0; q < p; ++q)
      z[static_cast<std::size_t>(q) * cl + c] = x[static_cast<std::size_t>(c) * p + q] - mean[q];
}

#endif

CenterFns CenterFor(SimdLevel level) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (level != SimdLevel::kScalar) return {PixelSumsAvx2, TransposeCentreAvx2, ScaleAvx2};
#endif
  (void)level;
  return {PixelSumsScalar, TransposeCentreScalar, ScaleScalar};
}
}  // namespace

double CenteredDot(const EmbeddedImages& images, int tap, int channels, std::size_t row_a, std::size_t row_b,
                   DotFn dot) {
  const float* z = images.centered[tap].data();
  return dot(z + row_a * channels, z + row_b * channels, channels);
}

void EmbedImages(const HeadModel& model, const float* features, int count, const char* name,
                 const EmbedRequest& request, SimdLevel level, int threads, EmbedTimings* timings, EmbeddedImages& out,
                 EmbedScratch& scratch) {
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
  const CenterFns center = CenterFor(level);
  ParallelFor(count, threads, 1, [&](std::size_t begin, std::size_t end) {
    std::vector<double> mean(p), partial(4 * static_cast<std::size_t>(p));
    std::vector<float> mean_f(p);
    for (std::size_t img = begin; img < end; ++img) {
      const float* x = features + img * static_cast<std::size_t>(c_total) * p;
      center.pixel_sums(x, c_total, p, partial.data(), mean.data());
      bool finite = true;
      for (int q = 0; q < p; ++q) {
        finite = finite && std::isfinite(mean[q]);
        mean[q] /= c_total;
        mean_f[q] = static_cast<float>(mean[q]);
      }
      const std::size_t n = static_cast<std::size_t>(c_total) * p;
      if (finite) {
        // Finite means leave huge finite values to find: the largest |x| as integer bits
        // (positive floats order like their bit patterns), a branch-free pass.
        std::uint32_t top = 0;
        for (std::size_t i = 0; i < n; ++i) {
          std::uint32_t bits;
          std::memcpy(&bits, x + i, sizeof bits);
          top = std::max(top, bits & 0x7fffffffu);
        }
        float largest;
        std::memcpy(&largest, &top, sizeof largest);
        finite = FeatureInRange(largest);
      }
      if (!finite) {
        for (std::size_t i = 0; i < n; ++i)
          if (!FeatureInRange(x[i])) {
            bad[img] = static_cast<long long>(img * c_total * p + i);
            break;
          }
        continue;
      }
      for (int l = 0; l < taps; ++l) {
        const int cl = model.channels(l), off = model.offset(l);
        float* z = out.centered[l].data() + img * p * cl;
        center.transpose_centre(x + static_cast<std::size_t>(off) * p, cl, p, mean_f.data(), z);
        float* u = out.unit[l].data() + img * p * cl;
        for (int q = 0; q < p; ++q) {
          const float* zq = z + q * cl;
          const double sumsq = dot(zq, zq, cl);
          const double r = std::sqrt(sumsq + 1e-6);
          const double len = std::sqrt(sumsq);
          out.norm[l][img * p + q] = static_cast<float>(r);
          out.cos_scale[l][img * p + q] = len > 0 ? static_cast<float>(r / len) : 0.0f;
          center.scale(zq, static_cast<float>(1.0 / r), u + q * cl, cl);
        }
      }
    }
  });
  for (int img = 0; img < count; ++img) {
    if (bad[img] < 0) continue;
    const long long per_image = static_cast<long long>(c_total) * p;
    const long long index = (request.first_image + img) * per_image + bad[img] % per_image;
    throw std::range_error(NonFiniteFeatureMessage(name, features[bad[img]], index, c_total, p));
  }
  double t1 = Now();
  if (timings) timings->center += t1 - t0;

  if (model.matching()) {
    out.match.resize(taps);
    out.match_norm.resize(taps);
    for (int l = 0; l < taps; ++l) {
      const int cl = model.channels(l);
      auto& h = out.match[l];
      h.resize(rows * cl);
      out.match_norm[l].resize(rows);
      if (model.has_matcher()) {
        const int hidden = cl / 2;
        if (scratch.hidden.size() < rows * hidden) scratch.hidden.resize(rows * hidden);
        float* h1 = scratch.hidden.data();
        GemmABt(out.centered[l].data(), static_cast<int>(rows), cl, model.PackedW1(l, level), h1, hidden,
                GemmEpilogue::kRelu, threads, &scratch.pack);
        GemmABt(h1, static_cast<int>(rows), hidden, model.PackedW2(l, level), h.data(), cl, GemmEpilogue::kRelu,
                threads, &scratch.pack);
        AddAndNormalizeRows(h.data(), out.centered[l].data(), rows, cl, dot, level, threads, out.match_norm[l].data());
      } else {
        std::copy(out.centered[l].begin(), out.centered[l].end(), h.begin());
        AddAndNormalizeRows(h.data(), nullptr, rows, cl, dot, level, threads, out.match_norm[l].data());
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
