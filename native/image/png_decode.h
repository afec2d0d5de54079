// A decoder for the plain PNGs that image datasets are made of (issue 13): 8-bit RGB, RGBA,
// gray and gray+alpha, and gray or palette images of 1, 2, 4 or 8 bits, not interlaced, to
// interleaved 8-bit RGB (alpha dropped, gray replicated), the bytes sharp produces for them.
//
// Why native: on 2 cores, decoding ran between backbone batches on one JavaScript thread
// (pngjs: 0.3-0.4 ms per 96 x 96 PNG, of which inflating is 0.1 ms) while the other core
// idled. Here the same work is about 0.12 ms and runs on libuv's pool, two images at once.
//
// Which files it takes is decided by the caller (src/backbone/png_decode.ts: no colour
// management, EXIF or animation chunks); everything below is re-checked because it protects
// memory. Anything outside the subset, and anything malformed (bad CRC, bad zlib data, too
// little or too much image data, a palette index past the palette), is declined rather
// than guessed at: the caller then hands the file to sharp, whose error message it keeps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lwfm {

struct DecodedRgb {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3
};

// Decodes `png` into `out`; false when declined (see above) or when width * height exceeds
// `max_pixels`. Throws std::bad_alloc only when memory for the image itself cannot be had.
bool DecodePlainPng(const uint8_t* png, size_t size, uint64_t max_pixels, DecodedRgb* out);

}  // namespace lwfm
