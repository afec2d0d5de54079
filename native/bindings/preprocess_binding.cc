// preprocessRgb(src, width, height, spec, out, outOffset): resize / crop / normalize of one
// decoded image (core/pil_resize.h), called synchronously from the backbone workers for images
// sharp decoded (0.12 ms for a 96 x 96 image here; never on the main thread). Re-validates
// every size. Plain PNGs are decoded and preprocessed in one pool job instead (png_binding.cc).
#include <napi.h>

#include <cmath>
#include <string>

#include "bindings/arg_readers.h"
#include "bindings/preprocess_spec_reader.h"
#include "bindings/registry.h"
#include "bindings/safe_call.h"
#include "core/pil_resize.h"

namespace lwfm {
namespace {

constexpr const char* kFn = "preprocessRgb";

Napi::Value PreprocessRgbBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // Sides up to 2^20 and 2^29 pixels: beyond sharp's default limitInputPixels (2^28).
  const int64_t width = ReadCount(info, 1, "width", kFn, 1, 1 << 20);
  const int64_t height = ReadCount(info, 2, "height", kFn, 1, 1 << 20);
  if (width * height > (int64_t(1) << 29))
    throw ArgRangeError(env, "at most 2^29 pixels", "width * height", kFn,
                        std::to_string(width) + " x " + std::to_string(height));
  // The spec first: its property reads can run getters, which must not find the arrays read.
  const PreprocessSpec spec = ReadPreprocessSpec(info[3], kFn);
  const int64_t outOffset = ReadCount(info, 5, "outOffset", kFn, 0, int64_t(1) << 40);
  // Then the arrays; nothing below runs JavaScript.
  const ArrayArg<uint8_t> src = ArrayArg<uint8_t>::Read(info[0], "src", kFn, Copy::kIfShared);
  ExpectLength(env, src.size(), double(width) * double(height) * 3, "width * height * 3", "src", kFn);
  Napi::Float32Array out = ReadPreprocessOut(info, 4, spec, outOffset, kFn);
  PreprocessRgb(src.data(), int(width), int(height), spec, out.Data() + outOffset);
  return env.Undefined();
}

const RegisterExports kRegister([](Napi::Env env, Napi::Object exports) {
  Export<PreprocessRgbBinding>(env, exports, kFn);
});

}  // namespace
}  // namespace lwfm
