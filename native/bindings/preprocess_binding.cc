// _preprocessRgb(src, width, height, spec, out, outOffset): resize / crop / normalize of one
// decoded image (core/pil_resize.h), called synchronously from the backbone workers (about
// 0.05 ms for a 96 x 96 image; never on the main thread). Re-validates every size.
#include <napi.h>

#include <cmath>
#include <string>

#include "bindings/arg_readers.h"
#include "bindings/registry.h"
#include "core/pil_resize.h"

namespace lwfm {
namespace {

constexpr const char* kFn = "_preprocessRgb";

double ReadNumber(Napi::Object o, const char* key) {
  const Napi::Value v = o.Get(key);
  if (!v.IsNumber())
    throw Napi::TypeError::New(o.Env(), std::string("Expected number for spec.") + key + " of " + kFn +
                                            " but received " + Describe(v));
  return v.As<Napi::Number>().DoubleValue();
}

void ReadTriple(Napi::Object o, const char* key, double* out) {
  const Napi::Value v = o.Get(key);
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 3)
    throw Napi::TypeError::New(o.Env(), std::string("Expected 3 numbers for spec.") + key + " of " + kFn);
  for (uint32_t c = 0; c < 3; ++c) {
    const Napi::Value x = v.As<Napi::Array>().Get(c);
    if (!x.IsNumber() || !std::isfinite(x.As<Napi::Number>().DoubleValue()))
      throw Napi::TypeError::New(o.Env(), std::string("Expected finite numbers in spec.") + key + " of " + kFn);
    out[c] = x.As<Napi::Number>().DoubleValue();
  }
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
  const double resize = ReadNumber(s, "resize"), crop = ReadNumber(s, "crop"), offset = ReadNumber(s, "offset");
  if (!(resize >= 1 && resize <= 4096 && resize == std::floor(resize)) || !(crop >= 1 && crop <= resize && crop == std::floor(crop)) ||
      !(offset >= 0 && offset + crop <= resize && offset == std::floor(offset)))
    throw Napi::RangeError::New(env, std::string("Expected integers 1 <= crop <= resize <= 4096 and 0 <= offset <= resize - crop for spec of ") + kFn);
  spec.resize = int(resize);
  spec.crop = int(crop);
  spec.offset = int(offset);
  ReadTriple(s, "mean", spec.mean);
  ReadTriple(s, "std", spec.std);
  for (double d : spec.std)
    if (!(d != 0)) throw Napi::RangeError::New(env, std::string("Expected non-zero spec.std of ") + kFn);
  const int64_t outOffset = ReadCount(info, 5, "outOffset", kFn, 0, int64_t(1) << 40);
  // Then the arrays; nothing below runs JavaScript.
  const ArrayArg<uint8_t> src = ArrayArg<uint8_t>::Read(info[0], "src", kFn, Copy::kIfShared);
  ExpectLength(env, src.size(), double(width) * double(height) * 3, "width * height * 3", "src", kFn);
  if (!info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw ArgTypeError(env, "Float32Array", "out", kFn, info[4]);
  Napi::Float32Array out = info[4].As<Napi::Float32Array>();
  const double need = double(outOffset) + 3.0 * crop * crop;
  if (need > double(out.ElementLength()))
    throw ArgRangeError(env, "Float32Array of at least outOffset + 3 * crop^2 = " + std::to_string(int64_t(need)) + " floats",
                        "out", kFn, "length " + std::to_string(out.ElementLength()));
  PreprocessRgb(src.data(), int(width), int(height), spec, out.Data() + outOffset);
  return env.Undefined();
}

const RegisterExports kRegister([](Napi::Env env, Napi::Object exports) {
  exports.Set(kFn, Napi::Function::New(env, PreprocessRgbBinding, kFn));
});

}  // namespace
}  // namespace lwfm
