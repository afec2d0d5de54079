// Reads the `spec` argument of the preprocessing exports (preprocessRgb, decodePngBatch):
// { resize, crop, offset, mean: [3], std: [3] }, every field range-checked, std non-zero.
#pragma once
#include <napi.h>

#include <string>

#include "bindings/arg_readers.h"
#include "core/pil_resize.h"

namespace lwfm {

// spec.<key>: three finite numbers.
inline void ReadSpecTriple(Napi::Object o, const char* key, const char* fn, double* out) {
  const std::string name = std::string("spec.") + key;
  const Napi::Value v = o.Get(key);
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 3) throw ArgTypeError(o.Env(), "array of 3 numbers", name, fn, v);
  for (uint32_t c = 0; c < 3; ++c)
    out[c] = ReadFinite(v.As<Napi::Array>().Get(c), name + "[" + std::to_string(c) + "]", fn);
}

// Property reads can run getters: call this before reading any typed array of the same call.
inline PreprocessSpec ReadPreprocessSpec(const Napi::Value& v, const char* fn) {
  if (!v.IsObject()) throw ArgTypeError(v.Env(), "object", "spec", fn, v);
  const Napi::Object s = v.As<Napi::Object>();
  PreprocessSpec spec{};
  const int64_t resize = ReadInteger(s.Get("resize"), "spec.resize", fn, 1, 4096);
  const int64_t crop = ReadInteger(s.Get("crop"), "spec.crop", fn, 1, resize);
  const int64_t offset = ReadInteger(s.Get("offset"), "spec.offset", fn, 0, resize - crop);
  spec.resize = int(resize);
  spec.crop = int(crop);
  spec.offset = int(offset);
  ReadSpecTriple(s, "mean", fn, spec.mean);
  ReadSpecTriple(s, "std", fn, spec.std);
  for (double d : spec.std)
    if (!(d != 0)) throw ArgRangeError(v.Env(), "non-zero numbers", "spec.std", fn, std::to_string(d));
  return spec;
}

// `out` (argument k): a Float32Array with room for 3 * crop^2 floats from `out_offset`.
inline Napi::Float32Array ReadPreprocessOut(const Napi::CallbackInfo& info, size_t k, const PreprocessSpec& spec,
                                            int64_t out_offset, const char* fn) {
  const Napi::Value v = info[k];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw ArgTypeError(info.Env(), "Float32Array", "out", fn, v);
  Napi::Float32Array out = v.As<Napi::Float32Array>();
  const double need = double(out_offset) + 3.0 * spec.crop * spec.crop;
  if (need > double(out.ElementLength()))
    throw ArgRangeError(
        info.Env(), "Float32Array of at least outOffset + 3 * crop^2 = " + std::to_string(int64_t(need)) + " floats",
        "out", fn, "length " + std::to_string(out.ElementLength()));
  return out;
}

}  // namespace lwfm
