// Each binding file registers its exports from a static initializer, so adding a
// native module never means editing a shared list (and parallel work never collides).
#pragma once
#include <napi.h>

#include <functional>
#include <vector>

namespace lwfm {

using ExportInit = std::function<void(Napi::Env, Napi::Object)>;

inline std::vector<ExportInit>& ExportRegistry() {
  static std::vector<ExportInit> registry;
  return registry;
}

struct RegisterExports {
  explicit RegisterExports(ExportInit init) { ExportRegistry().push_back(std::move(init)); }
};

// The module init of an addon built from registering files (the package's, the test addon).
inline Napi::Object InitRegistered(Napi::Env env, Napi::Object exports) {
  for (const auto& init : ExportRegistry()) init(env, exports);
  return exports;
}

}  // namespace lwfm
