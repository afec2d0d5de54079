// Error shaping and batch arguments shared by the CUDA bindings.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <string>

#include "bindings/arg_readers.h"

#ifdef LWFM_WITH_CUDA
#include "cuda_engine.h"
#endif

namespace lwfm {

constexpr const char* kNotCompiledReason =
    "CUDA support is not compiled into this build of lwfm-spm (rebuild with `npm run build:cuda` "
    "on a machine with the CUDA toolkit)";

struct DeviceFailure {
  bool unavailable = false;  // no usable device -> ERR_LWFM_DEVICE_UNAVAILABLE
  bool range = false;        // bad input found while running -> RangeError
  std::string message;
};

inline Napi::Error MakeDeviceError(Napi::Env env, const DeviceFailure& f) {
  if (f.range) return Napi::RangeError::New(env, f.message);
  Napi::Error e = Napi::Error::New(env, f.message);
  e.Set("code", f.unavailable ? "ERR_LWFM_DEVICE_UNAVAILABLE" : "ERR_LWFM_CUDA");
  e.Set("name", f.unavailable ? "DeviceUnavailableError" : "CudaError");
  return e;
}

#ifdef LWFM_WITH_CUDA
// What an exception from the CUDA engine means for JS: a CudaError says whether the device
// is unusable; anything else is a runtime failure.
inline DeviceFailure FailureOf(const std::exception& e) {
  const auto* c = dynamic_cast<const cuda::CudaError*>(&e);
  return DeviceFailure{c != nullptr && c->unavailable(), false, e.what()};
}
#endif

struct BatchArgs {
  ArrayArg<float> costs;
  int64_t batch = 0;
  int rows = 0, cols = 0;
};

// (costs: Float32Array, batch, rows, cols) with costs.length == batch * rows * cols, rows <= cols.
// The costs are borrowed (sync use); an async caller calls costs.TakeCopy() before returning.
inline BatchArgs ReadBatchArgs(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  BatchArgs a;
  a.batch = ReadCount(info, 1, "batch", fn, 0, int64_t(1) << 40);
  a.rows = int(ReadCount(info, 2, "rows", fn, 1, 1 << 20));
  a.cols = int(ReadCount(info, 3, "cols", fn, 1, 1 << 20));
  if (a.rows > a.cols) {
    throw ArgRangeError(env, "rows <= cols", "rows", fn,
                        "rows " + std::to_string(a.rows) + " and cols " + std::to_string(a.cols));
  }
  a.costs = ReadFloat32(info, 0, "costs", fn, Copy::kIfShared);
  ExpectLength(env, a.costs.size(), double(a.batch) * a.rows * a.cols, "batch * rows * cols", "costs", fn);
  return a;
}

}  // namespace lwfm
