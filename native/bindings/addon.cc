#include <napi.h>

#include "bindings/registry.h"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) { return lwfm::InitRegistered(env, exports); }
}  // namespace

NODE_API_MODULE(lwfm_spm, Init)
