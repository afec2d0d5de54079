// preprocessRgb(src, width, height, spec, out, outOffset): resize / crop / normalize of one
// decoded image (core/pil_resize.h), called synchronously from the backbone workers (about
// 0.05 ms for a 96 x 96 image; never on the main thread). Re-validates every size.
#include <napi.h>

#include <cmath>
#include <string>

#include "bindings/arg_readers.h"
#include "bindings/registry.h"
#include "bindings/safe_call.h"
#include "core/pil_resize.h"

namespace lwfm {
namespace {

constexpr const char* kFn = "preprocessRgb";

// spec.<key>: three finite numbers.
void ReadTriple(Napi::Object o, const char* key, double* out) {
  const std::string name = std::string("spec.") + key;
  const Napi::Value v = o.Get(key);
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 3)
    throw ArgTypeError(o.Env(), "array of 3 numbers", name, kFn, v);
  for (uint32_t c = 0; c < 3; ++c)
    out[c] = ReadFinite(v.As<Napi::Array>().Get(c), name + "[" + std::to_string(c) + "]", kFn);
}

Napi::Value PreprocessRgbBinding(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // Sides up to 2^20 and 2^29 pixels: beyond sharp's default limitInputPixels (2^28).
  const int64_t width = ReadCount(info, 1, "width", kFn, 1, 1 << 20);
  const int64_t height = ReadCount(info, 2, "height", kFn, 1, 1 << 20);
  if (width * height > (int64_t(1) << 29))
    throw ArgRangeError(env, "at most 2^29 pixels", "width * height", kFn,
                        std::to_string(width) + " x " + std::to_string(height));
  // The spec first: its property reads can run getters, which must not find the arrays read.
  if (!info[3].IsObject()) throw ArgTypeError(env, "object", "spec", kFn, info[3]);
  const Napi::Object s = info[3].As<Napi::Object>();
  PreprocessSpec spec{};
  const int64_t resize = ReadInteger(s.Get("resize"), "spec.resize", kFn, 1, 4096);
  const int64_t crop = ReadInteger(s.Get("crop"), "spec.crop", kFn, 1, resize);
  const int64_t offset = ReadInteger(s.Get("offset"), "spec.offset", kFn, 0, resize - crop);
  spec.resize = int(resize);
  spec.crop = int(crop);
  spec.offset = int(offset);
  ReadTriple(s, "mean", spec.mean);
  ReadTriple(s, "std", spec.std);
  for (double d : spec.std)
    if (!(d != 0)) throw ArgRangeError(env, "non-zero numbers", "spec.std", kFn, std::to_string(d));
  const int64_t outOffset = ReadCount(info, 5, "outOffset", kFn, 0, int64_t(1) << 40);
  // Then the arrays; nothing below runs JavaScript.
  const ArrayArg<uint8_t> src = ArrayArg<uint8_t>::Read(info[0], "src", kFn, Copy::kIfShared);
  ExpectLength(env, src.size(), double(width) * double(height) * 3, "width * height * 3", "src", kFn);
  if (!info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw ArgTypeError(env, "Float32Array", "out", kFn, info[4]);
  Napi::Float32Array out = info[4].As<Napi::Float32Array>();
  const double need = double(outOffset) + 3.0 * crop * crop;
  if (need > double(out.ElementLength()))
    throw ArgRangeError(
        env, "Float32Array of at least outOffset + 3 * crop^2 = " + std::to_string(int64_t(need)) + " floats", "out",
        kFn, "length " + std::to_string(out.ElementLength()));
  PreprocessRgb(src.data(), int(width), int(height), spec, out.Data() + outOffset);
  return env.Undefined();
}

const RegisterExports kRegister([](Napi::Env env, Napi::Object exports) {
  Export<PreprocessRgbBinding>(env, exports, kFn);
});

}  // namespace
}  // namespace lwfm
