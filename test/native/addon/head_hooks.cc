// Test hooks (test addon only): the GPU head's per-pair and per-class code and its tiled matrix
// product, run on the CPU (cuda/head_host.h), for test/cuda_head.test.ts and
// test/head_device.test.ts.
#include <napi.h>

#include <string>
#include <vector>

#include "bindings/arg_readers.h"
#include "bindings/cuda_head_args.h"
#include "bindings/registry.h"
#include "head_host.h"

namespace lwfm {
namespace {

// _cudaHeadScoreHost(config, support, labels, queries) -> Q x way logits.
Napi::Value CudaHeadScoreHost(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "_cudaHeadScoreHost";
  int way = 0;
  const HeadConfig cfg = ReadGpuHeadConfig(info[0], fn, &way);
  const ArrayArg<float> support = ReadFeatures(info, 1, "support features", fn, cfg, Copy::kIfShared);
  const int S = int(support.size() / (size_t(cfg.total_channels()) * cfg.pixels()));
  const ArrayArg<int32_t> labels = ReadLabels(info, 2, fn, S, way, Copy::kIfShared);
  const ArrayArg<float> queries = ReadFeatures(info, 3, "query features", fn, cfg, Copy::kIfShared);
  const int Q = int(queries.size() / (size_t(cfg.total_channels()) * cfg.pixels()));
  const std::vector<float> logits = cuda::HeadScoreHost(cfg, way, support.data(), labels.data(), S, queries.data(), Q);
  Napi::Float32Array out = Napi::Float32Array::New(env, logits.size());
  std::copy(logits.begin(), logits.end(), out.Data());
  return out;
}

// _gemmNTHost(a, b, M, N, K, relu): the GPU matrix product's tile steps run on the CPU.
Napi::Value GemmNTHost(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "_gemmNTHost";
  const int M = int(ReadCount(info, 2, "M", fn, 1, 1 << 16));
  const int N = int(ReadCount(info, 3, "N", fn, 1, 1 << 16));
  const int K = int(ReadCount(info, 4, "K", fn, 1, 1 << 16));
  const bool relu = ReadFlag(info[5], "relu", fn, false);
  const ArrayArg<float> a = ReadFloat32(info, 0, "a", fn, Copy::kIfShared);
  const ArrayArg<float> b = ReadFloat32(info, 1, "b", fn, Copy::kIfShared);
  ExpectLength(env, a.size(), double(M) * K, "M * K", "a", fn);
  ExpectLength(env, b.size(), double(N) * K, "N * K", "b", fn);
  Napi::Float32Array out = Napi::Float32Array::New(env, size_t(M) * N);
  cuda::GemmNT(a.data(), b.data(), out.Data(), M, N, K, N, relu);
  return out;
}

const RegisterExports kRegister([](Napi::Env env, Napi::Object exports) {
  exports.Set("_cudaHeadScoreHost", Napi::Function::New(env, CudaHeadScoreHost, "_cudaHeadScoreHost"));
  exports.Set("_gemmNTHost", Napi::Function::New(env, GemmNTHost, "_gemmNTHost"));
});

}  // namespace
}  // namespace lwfm
