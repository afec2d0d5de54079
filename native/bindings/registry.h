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

}  // namespace lwfm
