#include <napi.h>

#include "bindings/registry.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  for (const auto& init : lwfm::ExportRegistry()) init(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(lwfm_spm, Init)
