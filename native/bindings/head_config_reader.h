// Reads the head configuration object that src/ passes to headCreate (CPU) and cudaHeadPrepare*
// (GPU) into the one HeadConfig struct, then runs the engines' own checks (CheckHeadConfig).
// The TypeScript layer has validated the options fully already; this reader keeps the type,
// length and finiteness checks that protect memory, in the shared message format.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "bindings/arg_readers.h"
#include "core/head_config.h"

namespace lwfm {

// { channels, featureSize, temperatureAttn, temperature, matcherWeight, topK, matcher?, threads? }.
// Matcher weights are copied at once (a getter read later cannot reach them).
inline HeadConfig ReadHeadConfig(const Napi::Value& value, const char* fn) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) throw ArgTypeError(env, "head options object", "options", fn, value);
  const Napi::Object o = value.As<Napi::Object>();
  HeadConfig c;
  const Napi::Value channels = o.Get("channels");
  if (!channels.IsArray()) throw ArgTypeError(env, "array of channel counts", "channels", fn, channels);
  const Napi::Array arr = channels.As<Napi::Array>();
  if (arr.Length() > uint32_t(kHeadMaxTaps))
    throw ArgRangeError(env, "at most " + std::to_string(kHeadMaxTaps) + " taps", "channels", fn,
                        std::to_string(arr.Length()));
  for (uint32_t l = 0; l < arr.Length(); ++l)
    c.channels.push_back(int(ReadInteger(arr.Get(l), "channels[" + std::to_string(l) + "]", fn, 1, kHeadMaxChannels)));
  c.feature_size = int(ReadInteger(o.Get("featureSize"), "featureSize", fn, 2, kHeadMaxFeatureSize));
  c.temperature_attn = float(ReadFinite(o.Get("temperatureAttn"), "temperatureAttn", fn));
  c.temperature = float(ReadFinite(o.Get("temperature"), "temperature", fn));
  c.matcher_weight = float(ReadFinite(o.Get("matcherWeight"), "matcherWeight", fn));
  c.top_k = int(ReadInteger(o.Get("topK"), "topK", fn, 1, int64_t(kHeadMaxFeatureSize) * kHeadMaxFeatureSize));
  const Napi::Value threads = o.Get("threads");
  if (!threads.IsUndefined()) c.threads = int(ReadInteger(threads, "threads", fn, 0, 2147483647));
  const Napi::Value matcher = o.Get("matcher");
  if (!matcher.IsUndefined() && !matcher.IsNull()) {
    if (!matcher.IsArray()) throw ArgTypeError(env, "array of { w1, w2 } (one per tap)", "matcher", fn, matcher);
    const Napi::Array ma = matcher.As<Napi::Array>();
    if (ma.Length() != arr.Length())
      throw ArgRangeError(env, "one { w1, w2 } per tap (" + std::to_string(arr.Length()) + ")", "matcher", fn,
                          std::to_string(ma.Length()));
    for (uint32_t l = 0; l < ma.Length(); ++l) {
      const std::string entry = "matcher[" + std::to_string(l) + "]";
      const Napi::Value e = ma.Get(l);
      if (!e.IsObject()) throw ArgTypeError(env, "{ w1, w2 }", entry, fn, e);
      for (const char* key : {"w1", "w2"}) {
        const ArrayArg<float> w =
            ArrayArg<float>::Read(e.As<Napi::Object>().Get(key), entry + "." + key, fn, Copy::kIfShared);
        (key[1] == '1' ? c.w1 : c.w2).emplace_back(w.data(), w.data() + w.size());
      }
    }
  }
  const std::string problem = CheckHeadConfig(c);
  if (!problem.empty()) throw Napi::RangeError::New(env, problem + " (options of " + fn + ")");
  return c;
}

}  // namespace lwfm
