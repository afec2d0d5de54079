// Reading and checking the GPU head's configuration, features and labels (CUDA head bindings).
#pragma once
#include <napi.h>

#include <cmath>
#include <string>
#include <vector>

#include "bindings/cuda_binding_util.h"
#include "core/nonfinite_message.h"
#include "bindings/head_config_reader.h"
#include "gpu_head_limits.h"

namespace lwfm {

// The head options (head_config_reader.h, shared with the CPU head) plus the support's `way`
// and the per-pair solver ('exact', the default, or 'auction'), checked against what the GPU
// code holds (gpu_head_limits.h).
inline HeadConfig ReadGpuHeadConfig(const Napi::Value& value, const char* fn, int* way) {
  HeadConfig c = ReadHeadConfig(value, fn);
  *way = int(ReadInteger(value.As<Napi::Object>().Get("way"), "way", fn, 1, 1 << 24));
  const Napi::Value solver = value.As<Napi::Object>().Get("solver");
  if (!solver.IsUndefined()) {
    const std::string name = solver.IsString() ? solver.As<Napi::String>().Utf8Value() : "";
    if (name != "exact" && name != "auction")
      throw ArgTypeError(value.Env(), "'exact' or 'auction'", "solver", fn, solver);
    c.gpu_auction = name == "auction";
  }
  const std::string problem = cuda::CheckGpuHeadConfig(c, *way);
  if (!problem.empty()) throw Napi::RangeError::New(value.Env(), problem + " (options of " + fn + ")");
  return c;
}

// A Float32Array of count x C x P finite features (count >= 1), copied per `copy`.
inline ArrayArg<float> ReadFeatures(const Napi::CallbackInfo& info, size_t k, const char* name, const char* fn,
                                    const HeadConfig& c, Copy copy) {
  ArrayArg<float> f = ReadFloat32(info, k, name, fn, Copy::kIfShared);
  const size_t length = f.size();
  const size_t per = size_t(c.total_channels()) * c.pixels();
  if (length == 0 || length % per != 0 || length / per > size_t(1) << 24) {
    throw ArgRangeError(info.Env(), "Float32Array of length a positive multiple of C * P = " + std::to_string(per),
                        name, fn, "length " + std::to_string(length));
  }
  if (copy == Copy::kAlways) f.TakeCopy();
  for (size_t i = 0; i < length; ++i) {
    if (!FeatureInRange(f.data()[i])) {
      throw Napi::RangeError::New(info.Env(), NonFiniteFeatureMessage(std::string(name) + " of " + fn, f.data()[i],
                                                                      (long long)i, c.total_channels(), c.pixels()));
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
