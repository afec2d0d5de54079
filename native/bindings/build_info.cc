// buildInfo(): what this binary was compiled with and what it found at load time.
#include <napi.h>

#include "core/cpu_features.h"
#include "bindings/registry.h"
#include "bindings/safe_call.h"
#include "core/thread_pool.h"

namespace lwfm {
namespace {

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
#ifdef LWFM_WITH_CUDA
  out.Set("cuda", true);
#else
  out.Set("cuda", false);
#endif
  out.Set("simd", SimdName(ActiveSimd()));
  out.Set("cpuSimd", SimdName(CpuSimd()));
  out.Set("hardwareThreads", HardwareThreads());
  out.Set("napiVersion", NAPI_VERSION);
  return out;
}

const RegisterExports kRegister([](Napi::Env env, Napi::Object exports) {
  Export<BuildInfo>(env, exports, "buildInfo");
});

}  // namespace
}  // namespace lwfm
