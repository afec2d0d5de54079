// Reading JS arguments with the package's error messages ("Expected ... for <name> of <fn> but
// received ..."): shared by the bindings that take counts and Float32Arrays.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

namespace lwfm {

inline std::string Describe(const Napi::Value& v) {
  if (v.IsNumber()) return v.ToString().Utf8Value() + " of type number";
  if (v.IsUndefined()) return "undefined";
  if (v.IsTypedArray()) return "typed array of type object";
  return std::string("value of type ") + (v.IsString() ? "string" : v.IsObject() ? "object" : "other");
}

inline int64_t ReadCount(const Napi::CallbackInfo& info, size_t k, const char* name, const char* fn,
                         int64_t min, int64_t max) {
  Napi::Env env = info.Env();
  const Napi::Value v = info[k];
  if (!v.IsNumber()) {
    throw Napi::TypeError::New(env, std::string("Expected integer for ") + name + " of " + fn +
                                        " but received " + Describe(v));
  }
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == std::floor(d)) || d < double(min) || d > double(max)) {
    throw Napi::RangeError::New(env, std::string("Expected integer in [") + std::to_string(min) + ", " +
                                         std::to_string(max) + "] for " + name + " of " + fn +
                                         " but received " + Describe(v));
  }
  return int64_t(d);
}

inline const float* ReadFloat32(const Napi::CallbackInfo& info, size_t k, const char* name, const char* fn,
                                size_t* length) {
  Napi::Env env = info.Env();
  const Napi::Value v = info[k];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, std::string("Expected Float32Array for ") + name + " of " + fn +
                                        " but received " + Describe(v));
  }
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  *length = a.ElementLength();
  return a.Data();
}

}  // namespace lwfm
