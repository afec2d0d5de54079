// Per-image work of docs/computation.md §3.1 and §4, done once per image and reused by every pair:
// centring, unit pixel vectors, the matcher MLP on centred pixel vectors (valid for every pair
// because g is positively homogeneous and the attention weights are positive), and the
// within-image Gram matrices the pooled global term needs.
#pragma once

#include <cstddef>
#include <vector>

#include "core/head_model.h"
#include "core/simd_ops.h"

namespace lwfm {

struct EmbeddedImages {
  int count = 0;
  // Per tap, pixel-major rows (image * P + pixel) of C_l floats.
  std::vector<std::vector<float>> centered;  // z; kept only when requested
  std::vector<std::vector<float>> unit;      // z / sqrt(|z|^2 + 1e-6)
  std::vector<std::vector<float>> match;     // (z + g(z)) / max(|z + g(z)|, 1e-8); empty when matching is off
  // |z + g(z)| per row (same layout as norm): the matched cosine's attention factor needs it
  // (core/matched_cosine.h); empty when matching is off.
  std::vector<std::vector<float>> match_norm;
  // Per tap, per row: r = sqrt(|z|^2 + 1e-6) (so z.z' = unit.unit' * r * r'), and
  // cos_scale = r / |z| (0 for a zero vector: its cosine is defined as 0).
  std::vector<std::vector<float>> norm;
  std::vector<std::vector<float>> cos_scale;
  // Per tap, per image: P x P matrix z_i . z_j in double; only when requested.
  std::vector<std::vector<double>> gram;
};

struct EmbedRequest {
  bool keep_centered = false;
  bool want_gram = false;
  // Index of features[0] in the caller's whole array (query tiles), for error messages.
  long long first_image = 0;
};

// Seconds spent in each stage, accumulated across calls.
struct EmbedTimings {
  double center = 0, mlp = 0, gram = 0;
};

// Buffers reused across calls (hidden layer, packed GEMM operand).
struct EmbedScratch {
  std::vector<float> hidden, pack;
};

// Fills `out` (whose vectors are reused: same-shape calls allocate nothing).
// features: count x C x P (docs/computation.md layout). Throws std::range_error naming the first non-finite
// value as "<name> ... at index i (image, channel, pixel)".
void EmbedImages(const HeadModel& model, const float* features, int count, const char* name,
                 const EmbedRequest& request, SimdLevel level, int threads, EmbedTimings* timings, EmbeddedImages& out,
                 EmbedScratch& scratch);

// z rows of a tap: a . b over C_l channels, as used for Gram entries.
double CenteredDot(const EmbeddedImages& images, int tap, int channels, std::size_t row_a, std::size_t row_b,
                   DotFn dot);

}  // namespace lwfm
