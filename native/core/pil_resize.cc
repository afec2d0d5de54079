#include "core/pil_resize.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace lwfm {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

// Taps of output pixels [first, first + count) of a resize from inSize to outSize.
struct Taps {
  std::vector<int> start, count;
  std::vector<std::int32_t> weights;  // kmax per output pixel
  int kmax = 0;
};

Taps Coefficients(int inSize, int outSize, int first, int count) {
  const double scale = double(inSize) / outSize;
  const double filterScale = std::max(scale, 1.0);
  const double support = 1.0 * filterScale;  // the bilinear filter's support is 1
  Taps t;
  t.kmax = int(std::ceil(support)) * 2 + 1;
  t.start.resize(count);
  t.count.resize(count);
  t.weights.assign(size_t(count) * t.kmax, 0);
  std::vector<double> k(t.kmax);
  const double ss = 1.0 / filterScale;
  for (int o = 0; o < count; ++o) {
    const int xx = first + o;
    const double center = (xx + 0.5) * scale;
    // Pillow casts to int (truncation toward zero) and then clamps at 0, as here.
    const int xmin = std::max(int(std::trunc(center - support + 0.5)), 0);
    const int xmax = std::min(int(std::trunc(center + support + 0.5)), inSize) - xmin;
    double total = 0;
    for (int x = 0; x < xmax; ++x) {
      const double d = std::fabs((x + xmin - center + 0.5) * ss);
      k[x] = d < 1 ? 1 - d : 0;
      total += k[x];
    }
    for (int x = 0; x < xmax; ++x) {
      const double w = total != 0 ? k[x] / total : 0;
      const double fixed = w * double(1 << kPrecisionBits);
      t.weights[size_t(o) * t.kmax + x] = std::int32_t(std::trunc(w < 0 ? fixed - 0.5 : fixed + 0.5));
    }
    t.start[o] = xmin;
    t.count[o] = xmax;
  }
  return t;
}

// Sums stay below 2^31 as in Pillow: 255 * 2^22 plus the rounding half.
inline std::uint8_t Clip8(std::int32_t v) {
  const std::int32_t s = v >> kPrecisionBits;
  return std::uint8_t(s < 0 ? 0 : s > 255 ? 255 : s);
}

}  // namespace

void PreprocessRgb(const std::uint8_t* src, int width, int height, const PreprocessSpec& spec, float* out) {
  const int R = spec.resize, S = spec.crop, o = spec.offset;
  const std::int32_t half = std::int32_t(1) << (kPrecisionBits - 1);
  // Horizontal pass, only the crop's columns: every input row -> S pixels.
  std::vector<std::uint8_t> horiz;
  const std::uint8_t* rows = src;
  int rowStride = width * 3, colBase = o;  // where crop column 0 is in `rows`
  if (width != R) {
    const Taps t = Coefficients(width, R, o, S);
    horiz.resize(size_t(height) * S * 3);
    for (int y = 0; y < height; ++y) {
      const std::uint8_t* in = src + size_t(y) * width * 3;
      std::uint8_t* dst = horiz.data() + size_t(y) * S * 3;
      for (int x = 0; x < S; ++x) {
        const std::int32_t* w = t.weights.data() + size_t(x) * t.kmax;
        const std::uint8_t* p = in + size_t(t.start[x]) * 3;
        std::int32_t r = half, g = half, b = half;
        for (int k = 0; k < t.count[x]; ++k, p += 3) {
          r += std::int32_t(p[0]) * w[k];
          g += std::int32_t(p[1]) * w[k];
          b += std::int32_t(p[2]) * w[k];
        }
        dst[3 * x] = Clip8(r);
        dst[3 * x + 1] = Clip8(g);
        dst[3 * x + 2] = Clip8(b);
      }
    }
    rows = horiz.data();
    rowStride = S * 3;
    colBase = 0;
  }
  // Vertical pass (only the crop's rows), then scale and normalize into channel planes
  // through a per-channel table of the same double arithmetic as the reference,
  // float((v / 255 - mean) / std): 768 divisions instead of two per output value.
  float table[3][256];
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) table[c][v] = float((v / 255.0 - spec.mean[c]) / spec.std[c]);
  std::vector<std::uint8_t> line(size_t(S) * 3);
  const Taps t = height != R ? Coefficients(height, R, o, S) : Taps{};
  for (int y = 0; y < S; ++y) {
    const std::uint8_t* px;
    if (height != R) {
      const std::int32_t* w = t.weights.data() + size_t(y) * t.kmax;
      const int y0 = t.start[y];
      for (int x = 0; x < S * 3; ++x) {
        std::int32_t v = half;
        const std::uint8_t* p = rows + size_t(y0) * rowStride + size_t(colBase) * 3 + x;
        for (int k = 0; k < t.count[y]; ++k, p += rowStride) v += std::int32_t(*p) * w[k];
        line[x] = Clip8(v);
      }
      px = line.data();
    } else {
      px = rows + size_t(y + o) * rowStride + size_t(colBase) * 3;
    }
    for (int c = 0; c < 3; ++c) {
      float* dst = out + (size_t(c) * S + y) * S;
      for (int x = 0; x < S; ++x) dst[x] = table[c][px[3 * x + c]];
    }
  }
}

}  // namespace lwfm
