// The test addon: test hooks only (solver_hooks.cc, head_hooks.cc), built by
// scripts/build-test-addon.mjs into test/native/addon/build/Release/lwfm_spm_test.node.
#include <napi.h>

#include "bindings/registry.h"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) { return lwfm::InitRegistered(env, exports); }
}  // namespace

NODE_API_MODULE(lwfm_spm_test, Init)
