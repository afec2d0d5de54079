// docs/computation.md §1 image preprocessing after decoding: Pillow's BILINEAR resize (what torchvision's
// Resize does to PIL images), center crop, scale to [0, 1], normalize, HWC uint8 -> CHW float.
#pragma once

#include <cstdint>

namespace lwfm {

struct PreprocessSpec {
  int resize;  // R: the image is resized to R x R, ignoring aspect
  int crop;    // S <= R
  int offset;  // crop offset round((R - S) / 2), Python's rounding (computed by the caller)
  double mean[3], std[3];
};

// src: width x height x 3 interleaved RGB. Writes 3 x S x S floats to out (channel planes).
// Pillow's algorithm (Resample.c): a separable triangle filter widened by the downscale
// factor, horizontal pass then vertical pass, 8-bit intermediate, 22-bit fixed-point
// weights with round-half-up; only the pixels inside the crop are computed.
void PreprocessRgb(const std::uint8_t* src, int width, int height, const PreprocessSpec& spec, float* out);

}  // namespace lwfm
