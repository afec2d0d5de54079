// Reading and checking the head configuration and feature arrays for the CUDA head bindings.
#pragma once
#include <napi.h>

#include <cmath>
#include <string>
#include <vector>

#include "bindings/cuda_binding_util.h"
#include "core/nonfinite_message.h"
#include "head_config.h"

namespace lwfm {

inline double ReadNumberField(Napi::Object o, const char* key, const char* fn) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) {
    throw Napi::TypeError::New(o.Env(), std::string("Expected number for config.") + key + " of " + fn +
                                            " but received " + Describe(v));
  }
  return v.As<Napi::Number>().DoubleValue();
}

inline int ReadIntField(Napi::Object o, const char* key, const char* fn) {
  const double d = ReadNumberField(o, key, fn);
  if (d != std::floor(d) || d < -2147483648.0 || d > 2147483647.0) {
    throw Napi::RangeError::New(o.Env(), std::string("Expected integer for config.") + key + " of " + fn +
                                             " but received " + std::to_string(d));
  }
  return int(d);
}

// Parses the config object. The matcher weights are copied into `weights` (the config points
// into them): reading a later property can run a getter that resizes or detaches an earlier
// array, and an async preparation reads them on another thread.
inline cuda::HeadConfig ReadHeadConfig(Napi::Value value, const char* fn, std::vector<ArrayArg<float>>* weights) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) throw Napi::TypeError::New(env, std::string("Expected config object for ") + fn);
  Napi::Object o = value.As<Napi::Object>();
  cuda::HeadConfig c;
  Napi::Value ch = o.Get("channels");
  if (!ch.IsArray()) throw Napi::TypeError::New(env, std::string("Expected array for config.channels of ") + fn);
  Napi::Array arr = ch.As<Napi::Array>();
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value x = arr.Get(k);
    if (!x.IsNumber() || x.As<Napi::Number>().DoubleValue() != std::floor(x.As<Napi::Number>().DoubleValue()))
      throw Napi::TypeError::New(env, std::string("Expected integer channels in config.channels of ") + fn);
    const double d = x.As<Napi::Number>().DoubleValue();
    c.channels.push_back(d < 0 || d > 1e9 ? -1 : int(d));
  }
  c.featureSize = ReadIntField(o, "featureSize", fn);
  c.way = ReadIntField(o, "way", fn);
  c.temperatureAttn = float(ReadNumberField(o, "temperatureAttn", fn));
  c.temperature = float(ReadNumberField(o, "temperature", fn));
  c.matcherWeight = float(ReadNumberField(o, "matcherWeight", fn));
  c.topK = ReadIntField(o, "topK", fn);
  std::string problem = cuda::ValidateHeadConfig(c);
  if (!problem.empty()) throw Napi::RangeError::New(env, problem + " for " + fn);
  Napi::Value m = o.Get("matcher");
  if (!m.IsUndefined() && !m.IsNull()) {
    if (!m.IsArray()) throw Napi::TypeError::New(env, std::string("Expected array for config.matcher of ") + fn);
    if (m.As<Napi::Array>().Length() != uint32_t(c.taps()))
      throw Napi::RangeError::New(env, std::string("Expected one {w1, w2} per tap (") + std::to_string(c.taps()) +
                                           ") in config.matcher of " + fn + " but received " +
                                           std::to_string(m.As<Napi::Array>().Length()));
    Napi::Array ma = m.As<Napi::Array>();
    for (int l = 0; l < c.taps(); ++l) {
      Napi::Value e = ma.Get(uint32_t(l));
      if (!e.IsObject()) throw Napi::TypeError::New(env, std::string("Expected {w1, w2} in config.matcher of ") + fn);
      const int64_t Cl = c.channels[l];
      if (Cl % 2 != 0)
        throw Napi::RangeError::New(env, std::string("Expected even channels per tap with a matcher MLP for ") + fn);
      for (const char* key : {"w1", "w2"}) {
        const std::string name = "config.matcher[" + std::to_string(l) + "]." + key;
        ArrayArg<float> w = ArrayArg<float>::Read(e.As<Napi::Object>().Get(key), name, fn, Copy::kIfShared);
        ExpectLength(env, w.size(), double(Cl / 2 * Cl), "C_l / 2 * C_l", name, fn);
        w.TakeCopy();
        (std::string(key) == "w1" ? c.w1 : c.w2).push_back(w.data());
        weights->push_back(std::move(w));
      }
    }
  }
  return c;
}

// A Float32Array of count x C x P finite features (count >= 1), copied per `copy`.
inline ArrayArg<float> ReadFeatures(const Napi::CallbackInfo& info, size_t k, const char* name, const char* fn,
                                    const cuda::HeadConfig& c, Copy copy) {
  ArrayArg<float> f = ReadFloat32(info, k, name, fn, Copy::kIfShared);
  const size_t length = f.size();
  const size_t per = size_t(c.totalChannels()) * c.pixels();
  if (length == 0 || length % per != 0 || length / per > size_t(1) << 24) {
    throw ArgRangeError(info.Env(), "Float32Array of length a positive multiple of C * P = " + std::to_string(per), name,
                        fn, "length " + std::to_string(length));
  }
  if (copy == Copy::kAlways) f.TakeCopy();
  for (size_t i = 0; i < length; ++i) {
    if (!FeatureInRange(f.data()[i])) {
      throw Napi::RangeError::New(info.Env(), NonFiniteFeatureMessage(std::string(name) + " of " + fn, f.data()[i],
                                                                      (long long)i, c.totalChannels(), c.pixels()));
    }
  }
  return f;
}

// Int32Array labels in [0, way) with every class present; S entries; copied per `copy`.
inline ArrayArg<int32_t> ReadLabels(const Napi::CallbackInfo& info, size_t k, const char* fn, int S, int way,
                                    Copy copy) {
  Napi::Env env = info.Env();
  ArrayArg<int32_t> a = ArrayArg<int32_t>::Read(info[k], "labels", fn, copy);
  if (int64_t(a.size()) != S)
    throw ArgRangeError(env, "Int32Array of length " + std::to_string(S) + " (one label per support image)", "labels",
                        fn, "length " + std::to_string(a.size()));
  std::vector<int> count(size_t(way), 0);
  for (int s = 0; s < S; ++s) {
    if (a.data()[s] < 0 || a.data()[s] >= way)
      throw ArgRangeError(env, "label in [0, " + std::to_string(way) + ")", "labels[" + std::to_string(s) + "]", fn,
                          std::to_string(a.data()[s]));
    ++count[a.data()[s]];
  }
  for (int k2 = 0; k2 < way; ++k2)
    if (count[k2] == 0)
      throw ArgRangeError(env, "at least one support image", "class " + std::to_string(k2), fn, "none");
  return a;
}

}  // namespace lwfm
