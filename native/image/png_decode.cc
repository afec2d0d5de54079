// See png_decode.h. zlib comes from Node itself: Node re-exports its zlib symbols for addons,
// so the inflate used here is the one Node's own zlib module runs.
#include "image/png_decode.h"

#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>

namespace lwfm {
namespace {

uint32_t Be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

bool IsLetter(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

bool Is(const uint8_t* type, const char* name) { return std::memcmp(type, name, 4) == 0; }

// deflate's best case is 258 bytes from one 1-bit code after the first: a stream can expand
// about 1032-fold. Data too short for the image it declares is declined before allocating.
constexpr uint64_t kMaxInflateRatio = 1032;

constexpr uint32_t kMaxSide = uint32_t(1) << 20;

struct Span {
  const uint8_t* data;
  uint32_t size;
};

struct Layout {
  uint32_t width = 0, height = 0;
  int depth = 0, color = 0, channels = 0;
  std::vector<Span> idat;
  bool saw_idat = false;
  const uint8_t* palette = nullptr;  // RGB triplets
  int palette_entries = 0;
};

// The samples per pixel of a colour type we decode, or 0.
int ChannelsOf(int color, int depth) {
  const bool low_ok = depth == 1 || depth == 2 || depth == 4 || depth == 8;
  switch (color) {
    case 0:
    case 3:
      return low_ok ? 1 : 0;
    case 2:
      return depth == 8 ? 3 : 0;
    case 4:
      return depth == 8 ? 2 : 0;
    case 6:
      return depth == 8 ? 4 : 0;
    default:
      return 0;
  }
}

// Chunks whose meaning sharp applies and this decoder does not (colour management, EXIF
// orientation, animation): such files are sharp's.
bool SharpOnly(const uint8_t* type) {
  return Is(type, "iCCP") || Is(type, "gAMA") || Is(type, "cHRM") || Is(type, "eXIf") || Is(type, "acTL");
}

// Walks the chunk list: every length within the file, every CRC right, the chunk order the
// PNG specification requires. Fills `l` and returns true only for a file of the subset.
bool ReadLayout(const uint8_t* png, size_t size, uint64_t max_pixels, Layout* l) {
  static const uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  if (size < 8 || std::memcmp(png, kSignature, 8) != 0) return false;
  bool idat_ended = false;
  size_t at = 8;
  for (;;) {
    if (size - at < 12) return false;  // no IEND
    const uint32_t length = Be32(png + at);
    if (length > 0x7fffffffu || size - at - 12 < length) return false;
    const uint8_t* type = png + at + 4;
    const uint8_t* data = type + 4;
    for (int k = 0; k < 4; ++k)
      if (!IsLetter(type[k])) return false;
    // The third letter's case is a reserved bit that must be clear: libpng rejects such a chunk
    // before the image data (sharp then fails the file) and skips it after.
    if (type[2] & 0x20) return false;
    if (uint32_t(crc32(crc32(0L, Z_NULL, 0), type, length + 4)) != Be32(data + length)) return false;
    const bool critical = (type[0] & 0x20) == 0;
    if (at == 8 && !Is(type, "IHDR")) return false;
    if (l->saw_idat && !Is(type, "IDAT")) idat_ended = true;
    if (Is(type, "IHDR")) {
      if (at != 8 || length != 13) return false;
      l->width = Be32(data);
      l->height = Be32(data + 4);
      l->depth = data[8];
      l->color = data[9];
      // Compression 0 (deflate), filter method 0, no interlacing: the only ones decoded here.
      if (data[10] != 0 || data[11] != 0 || data[12] != 0) return false;
      // Sides up to 2^20, as the preprocessing takes (preprocess_binding.cc): the sharp path
      // reports a longer side, and the two paths must agree.
      if (l->width == 0 || l->height == 0 || l->width > kMaxSide || l->height > kMaxSide) return false;
      if (uint64_t(l->width) * l->height > max_pixels) return false;
      l->channels = ChannelsOf(l->color, l->depth);
      if (l->channels == 0) return false;
    } else if (Is(type, "PLTE")) {
      if (l->palette || l->saw_idat || length == 0 || length % 3 != 0 || length > 768) return false;
      if (l->color == 0 || l->color == 4) return false;  // forbidden for gray
      if (l->color == 3) {
        if (int(length / 3) > (1 << l->depth)) return false;
        l->palette = data;
        l->palette_entries = int(length / 3);
      }
    } else if (Is(type, "tRNS")) {
      // Palette alpha only (dropped with the alpha channel); a gray or RGB colour key is sharp's.
      if (l->color != 3 || !l->palette || l->saw_idat || int(length) > l->palette_entries) return false;
    } else if (Is(type, "IDAT")) {
      if (idat_ended || (l->color == 3 && !l->palette)) return false;
      if (length > 0) l->idat.push_back({data, length});  // empty IDATs add nothing to the stream
      l->saw_idat = true;
    } else if (Is(type, "IEND")) {
      return !l->idat.empty();  // no image data at all: sharp's to report
    } else if (critical || SharpOnly(type)) {
      return false;
    }
    at += 12 + size_t(length);
  }
}

// Inflates the IDAT spans into exactly `out_size` bytes: false on a zlib error, on a stream
// that ends early or late, and on data after the stream's end.
bool Inflate(const std::vector<Span>& idat, uint8_t* out, uint64_t out_size) {
  if (out_size > std::numeric_limits<uInt>::max()) return false;
  z_stream z;
  std::memset(&z, 0, sizeof z);
  const int init = inflateInit(&z);
  if (init == Z_MEM_ERROR) throw std::bad_alloc();
  if (init != Z_OK) throw std::runtime_error("zlib's inflateInit failed with code " + std::to_string(init));
  z.next_out = out;
  z.avail_out = uInt(out_size);
  bool ended = false, ok = true;
  for (const Span& s : idat) {
    z.next_in = const_cast<Bytef*>(s.data);
    z.avail_in = s.size;
    while (ok && z.avail_in > 0) {
      if (ended) {
        ok = false;
        break;
      }
      const int r = inflate(&z, Z_NO_FLUSH);
      if (r == Z_STREAM_END)
        ended = true;
      else if (r == Z_MEM_ERROR) {
        inflateEnd(&z);
        throw std::bad_alloc();
      } else if (r != Z_OK)
        ok = false;  // Z_BUF_ERROR with input left: more image data than the header allows
    }
    if (!ok) break;
  }
  const bool complete = ok && ended && z.avail_out == 0;
  inflateEnd(&z);
  return complete;
}

int Paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

// Undoes the row filter in place; `prev` is the row above, already unfiltered, or null.
bool Unfilter(int filter, uint8_t* row, const uint8_t* prev, size_t n, size_t bpp) {
  switch (filter) {
    case 0:
      return true;
    case 1:
      for (size_t i = bpp; i < n; ++i) row[i] = uint8_t(row[i] + row[i - bpp]);
      return true;
    case 2:
      if (prev)
        for (size_t i = 0; i < n; ++i) row[i] = uint8_t(row[i] + prev[i]);
      return true;
    case 3:
      for (size_t i = 0; i < n; ++i) {
        const int left = i >= bpp ? row[i - bpp] : 0;
        const int up = prev ? prev[i] : 0;
        row[i] = uint8_t(row[i] + ((left + up) >> 1));
      }
      return true;
    case 4:
      for (size_t i = 0; i < n; ++i) {
        const int left = i >= bpp ? row[i - bpp] : 0;
        const int up = prev ? prev[i] : 0;
        const int up_left = prev && i >= bpp ? prev[i - bpp] : 0;
        row[i] = uint8_t(row[i] + Paeth(left, up, up_left));
      }
      return true;
    default:
      return false;
  }
}

// One unfiltered row to RGB; false on a palette index past the palette.
bool RowToRgb(const Layout& l, const uint8_t* row, uint8_t* rgb) {
  const uint32_t w = l.width;
  if (l.depth == 8) {
    switch (l.color) {
      case 2:
        std::memcpy(rgb, row, size_t(w) * 3);
        return true;
      case 6:
        for (uint32_t x = 0; x < w; ++x) std::memcpy(rgb + 3 * size_t(x), row + 4 * size_t(x), 3);
        return true;
      case 0:
      case 4:
        for (uint32_t x = 0; x < w; ++x) {
          const uint8_t g = row[size_t(x) * l.channels];
          rgb[3 * size_t(x)] = rgb[3 * size_t(x) + 1] = rgb[3 * size_t(x) + 2] = g;
        }
        return true;
      default:
        break;
    }
  }
  // Gray or palette of 1-8 bits: samples packed from the high bit down.
  const int d = l.depth;
  const int mask = (1 << d) - 1;
  const int scale = 255 / mask;  // 255, 85, 17 or 1: libpng's expansion of low-bit gray
  for (uint32_t x = 0; x < w; ++x) {
    const size_t bit = size_t(x) * d;
    const int v = (row[bit >> 3] >> (8 - d - int(bit & 7))) & mask;
    uint8_t* o = rgb + 3 * size_t(x);
    if (l.color == 0) {
      o[0] = o[1] = o[2] = uint8_t(v * scale);
    } else {
      if (v >= l.palette_entries) return false;
      std::memcpy(o, l.palette + 3 * v, 3);
    }
  }
  return true;
}

}  // namespace

bool PngHeaderSize(const uint8_t* png, size_t size, uint32_t* width, uint32_t* height) {
  static const uint8_t kStart[16] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  if (png == nullptr || size < 24 || std::memcmp(png, kStart, 16) != 0) return false;
  *width = Be32(png + 16);
  *height = Be32(png + 20);
  return true;
}

bool DecodePlainPng(const uint8_t* png, size_t size, uint64_t max_pixels, DecodedRgb* out) {
  Layout l;
  if (png == nullptr || !ReadLayout(png, size, max_pixels, &l)) return false;
  const uint64_t row_bytes = (uint64_t(l.width) * l.channels * l.depth + 7) / 8;
  const uint64_t raw_size = uint64_t(l.height) * (row_bytes + 1);
  uint64_t compressed = 0;
  for (const Span& s : l.idat) compressed += s.size;
  if (compressed * kMaxInflateRatio + 1024 < raw_size) return false;
  std::vector<uint8_t> raw(raw_size);
  if (!Inflate(l.idat, raw.data(), raw_size)) return false;
  const size_t bpp = size_t(l.channels * l.depth + 7) / 8;  // bytes per complete pixel, at least 1
  std::vector<uint8_t> rgb(size_t(l.width) * l.height * 3);
  const uint8_t* prev = nullptr;
  for (uint32_t y = 0; y < l.height; ++y) {
    uint8_t* line = raw.data() + size_t(y) * (row_bytes + 1);
    uint8_t* row = line + 1;
    if (!Unfilter(line[0], row, prev, row_bytes, bpp)) return false;
    if (!RowToRgb(l, row, rgb.data() + size_t(y) * l.width * 3)) return false;
    prev = row;
  }
  out->width = int(l.width);
  out->height = int(l.height);
  out->rgb = std::move(rgb);
  return true;
}

}  // namespace lwfm
