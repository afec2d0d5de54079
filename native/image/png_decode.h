// A decoder for the plain PNGs that image datasets are made of (issue 13): 8-bit RGB, RGBA,
// gray and gray+alpha, and gray or palette images of 1, 2, 4 or 8 bits, not interlaced, to
// interleaved 8-bit RGB (alpha dropped, gray replicated), the bytes sharp produces for them.
//
// Why native: on 2 cores, decoding ran between backbone batches on one JavaScript thread
// (pngjs: 0.3-0.4 ms per 96 x 96 PNG, of which inflating is 0.1 ms) while the other core
// idled. Here the same work is about 0.1 ms, and a batch's images decode on every core.
//
// The decoder decides itself which files it takes: no colour management (iCCP, gAMA, cHRM),
// EXIF (eXIf) or animation (acTL) chunks, which sharp applies. Anything outside the subset,
// and anything malformed (bad CRC, bad zlib data, too little or too much image data, a palette
// index past the palette, a reserved chunk-name bit), is declined rather than guessed at: the
// caller then hands the file to sharp, which decodes it or names what is wrong.
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
// `max_pixels`. Throws std::bad_alloc when memory for the image cannot be had, and
// std::runtime_error if zlib cannot start for another reason.
bool DecodePlainPng(const uint8_t* png, size_t size, uint64_t max_pixels, DecodedRgb* out);

// The width and height an IHDR at the start of `png` declares, unchecked (for estimating the
// memory a decode will take before starting it); false when the bytes do not start that way.
bool PngHeaderSize(const uint8_t* png, size_t size, uint32_t* width, uint32_t* height);

}  // namespace lwfm
