// GPU head exports (cudaHeadPrepare[Async] / cudaHeadScore / cudaHeadDispose) and the CPU
// emulation of the GPU head's per-pair and per-class code (_cudaHeadScoreHost, both builds).
#include <napi.h>

#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bindings/cuda_binding_util.h"
#include "bindings/cuda_head_args.h"
#include "bindings/registry.h"
#include "head_host.h"
#ifdef LWFM_WITH_CUDA
#include "cuda_head.h"
#endif

namespace lwfm {
namespace {

// _cudaHeadScoreHost(config, support, labels, queries) -> Q x way logits.
Napi::Value CudaHeadScoreHost(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "_cudaHeadScoreHost";
  std::vector<Napi::ObjectReference> keep;
  const cuda::HeadConfig cfg = ReadHeadConfig(info[0], fn, &keep);
  const float* support = nullptr;
  const float* queries = nullptr;
  const int S = ReadFeatures(info, 1, "support features", fn, cfg, &support);
  const int32_t* labels = ReadLabels(info, 2, fn, S, cfg.way);
  const int Q = ReadFeatures(info, 3, "query features", fn, cfg, &queries);
  const std::vector<float> logits = cuda::HeadScoreHost(cfg, support, labels, S, queries, Q);
  Napi::Float32Array out = Napi::Float32Array::New(env, logits.size());
  std::copy(logits.begin(), logits.end(), out.Data());
  return out;
}

// _gemmNTHost(a, b, M, N, K, relu): the GPU matrix product's tile steps run on the CPU.
Napi::Value GemmNTHost(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "_gemmNTHost";
  size_t la = 0, lb = 0;
  const float* a = ReadFloat32(info, 0, "a", fn, &la);
  const float* b = ReadFloat32(info, 1, "b", fn, &lb);
  const int M = int(ReadCount(info, 2, "M", fn, 1, 1 << 16));
  const int N = int(ReadCount(info, 3, "N", fn, 1, 1 << 16));
  const int K = int(ReadCount(info, 4, "K", fn, 1, 1 << 16));
  if (la != size_t(M) * K || lb != size_t(N) * K) throw Napi::RangeError::New(env, "Expected a: M x K and b: N x K for _gemmNTHost");
  Napi::Float32Array out = Napi::Float32Array::New(env, size_t(M) * N);
  cuda::GemmNT(a, b, out.Data(), M, N, K, N, info[5].ToBoolean().Value());
  return out;
}

// (config, support, labels) of cudaHeadPrepare[Async], checked, with the JS arrays they point
// into kept referenced; throws the device error when this build or machine cannot take them.
struct PrepareArgs {
  std::vector<Napi::ObjectReference> keep;
  cuda::HeadConfig cfg;
  const float* support = nullptr;
  const int32_t* labels = nullptr;
  int S = 0;
};

PrepareArgs ReadPrepareArgs(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  PrepareArgs a;
  a.cfg = ReadHeadConfig(info[0], fn, &a.keep);
  a.S = ReadFeatures(info, 1, "support features", fn, a.cfg, &a.support);
  a.labels = ReadLabels(info, 2, fn, a.S, a.cfg.way);
#ifdef LWFM_WITH_CUDA
  if (a.cfg.pixels() > cuda::kMaxGpuPixels)
    throw Napi::RangeError::New(env, std::string("Expected featureSize at most 5 for ") + fn + " (GPU) but received " +
                                         std::to_string(a.cfg.featureSize));
  const cuda::RuntimeStatus& s = cuda::QueryRuntime();
  if (!s.available) throw MakeDeviceError(env, DeviceFailure{true, false, s.reason});
  a.keep.push_back(Napi::Persistent(info[1].As<Napi::Object>()));
  a.keep.push_back(Napi::Persistent(info[2].As<Napi::Object>()));
  return a;
#else
  throw MakeDeviceError(env, DeviceFailure{true, false, kNotCompiledReason});
#endif
}

#ifdef LWFM_WITH_CUDA
struct HeadHolder {
  std::mutex mutex;
  std::shared_ptr<cuda::CudaHead> head;  // null after dispose
};

// The JS handle of a prepared head: an External that owns it until dispose() or collection.
Napi::Value WrapHead(Napi::Env env, std::shared_ptr<cuda::CudaHead> head) {
  auto holder = std::make_unique<HeadHolder>();
  holder->head = std::move(head);
  return Napi::External<HeadHolder>::New(env, holder.release(), [](Napi::Env, HeadHolder* h) { delete h; });
}

std::shared_ptr<cuda::CudaHead> HeadFrom(const Napi::CallbackInfo& info, const char* fn) {
  Napi::Env env = info.Env();
  if (!info[0].IsExternal()) throw Napi::TypeError::New(env, std::string("Expected a CUDA head handle for ") + fn);
  HeadHolder* h = info[0].As<Napi::External<HeadHolder>>().Data();
  std::lock_guard<std::mutex> lock(h->mutex);
  if (!h->head) {
    Napi::Error e = Napi::Error::New(env, "CUDA head handle was used after dispose()");
    e.Set("code", "ERR_LWFM_DISPOSED");
    throw e;
  }
  return h->head;
}

class HeadScoreWorker : public Napi::AsyncWorker {
 public:
  HeadScoreWorker(Napi::Env env, std::shared_ptr<cuda::CudaHead> head, Napi::Float32Array queries, int Q)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), head_(std::move(head)), Q_(Q) {
    queriesRef_ = Napi::Persistent(queries.As<Napi::Object>());
    data_ = queries.Data();
    out_.resize(size_t(Q) * head_->way());
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    const size_t count = size_t(Q_) * size_t(head_->featureLength());
    for (size_t i = 0; i < count; ++i) {
      if (!std::isfinite(data_[i])) {
        failure_ = DeviceFailure{false, true,
                                 NonFiniteFeatureMessage("query features of cudaHeadScore", data_[i], (long long)i,
                                                         head_->featureLength() / head_->pixels(), head_->pixels())};
        SetError(failure_.message);
        return;
      }
    }
    try {
      head_->Score(data_, Q_, out_.data());
    } catch (const std::exception& e) {
      failure_ = FailureOf(e);
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Float32Array result = Napi::Float32Array::New(Env(), out_.size());
    std::copy(out_.begin(), out_.end(), result.Data());
    deferred_.Resolve(result);
  }
  void OnError(const Napi::Error&) override { deferred_.Reject(MakeDeviceError(Env(), failure_).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<cuda::CudaHead> head_;
  Napi::ObjectReference queriesRef_;
  const float* data_ = nullptr;
  int Q_;
  std::vector<float> out_;
  DeviceFailure failure_;
};

// Prepares a support on the GPU off the event loop: the first CUDA call of a process also
// creates the context (tens to hundreds of ms), and a large support's upload and preparation
// take milliseconds more. The JS arrays stay referenced until the worker finishes.
class HeadPrepareWorker : public Napi::AsyncWorker {
 public:
  HeadPrepareWorker(Napi::Env env, PrepareArgs args)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), args_(std::move(args)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      head_ = std::make_shared<cuda::CudaHead>(args_.cfg, args_.support, args_.labels, args_.S);
    } catch (const std::exception& e) {
      failure_ = FailureOf(e);
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(WrapHead(Env(), std::move(head_))); }
  void OnError(const Napi::Error&) override { deferred_.Reject(MakeDeviceError(Env(), failure_).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  PrepareArgs args_;  // keeps the matcher weights, support and labels referenced
  std::shared_ptr<cuda::CudaHead> head_;
  DeviceFailure failure_;
};
#endif

// cudaHeadPrepare(config, support, labels) -> handle (support prepared on the GPU).
Napi::Value CudaHeadPrepare(const Napi::CallbackInfo& info) {
  PrepareArgs a = ReadPrepareArgs(info, "cudaHeadPrepare");
#ifdef LWFM_WITH_CUDA
  try {
    return WrapHead(info.Env(), std::make_shared<cuda::CudaHead>(a.cfg, a.support, a.labels, a.S));
  } catch (const std::exception& e) {
    throw MakeDeviceError(info.Env(), FailureOf(e));
  }
#else
  (void)a;  // ReadPrepareArgs threw: nothing is compiled to run it
  return info.Env().Undefined();
#endif
}

// cudaHeadPrepareAsync(config, support, labels) -> Promise<handle>: cudaHeadPrepare off the
// event loop (arguments are checked here, synchronously, as there).
Napi::Value CudaHeadPrepareAsync(const Napi::CallbackInfo& info) {
  PrepareArgs a = ReadPrepareArgs(info, "cudaHeadPrepareAsync");
#ifdef LWFM_WITH_CUDA
  auto* worker = new HeadPrepareWorker(info.Env(), std::move(a));
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
#else
  (void)a;
  return info.Env().Undefined();
#endif
}

// cudaHeadScore(handle, queries) -> Promise<Float32Array> (Q x way logits).
Napi::Value CudaHeadScore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#ifdef LWFM_WITH_CUDA
  const char* fn = "cudaHeadScore";
  std::shared_ptr<cuda::CudaHead> head = HeadFrom(info, fn);
  size_t length = 0;
  const float* data = ReadFloat32(info, 1, "queries", fn, &length);
  const size_t per = size_t(head->featureLength());
  if (length == 0 || length % per != 0 || length / per > size_t(1) << 24)
    throw Napi::RangeError::New(env, "Expected Float32Array of length a positive multiple of C * P = " + std::to_string(per) +
                                         " for queries of cudaHeadScore but received length " + std::to_string(length));
  (void)data;  // finiteness is checked off the event loop, in the worker
  auto* worker = new HeadScoreWorker(env, head, info[1].As<Napi::Float32Array>(), int(length / per));
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
#else
  throw MakeDeviceError(env, DeviceFailure{true, false, kNotCompiledReason});
#endif
}

// cudaHeadDispose(handle): frees the device memory once running scores finish.
Napi::Value CudaHeadDispose(const Napi::CallbackInfo& info) {
#ifdef LWFM_WITH_CUDA
  if (info[0].IsExternal()) {
    HeadHolder* h = info[0].As<Napi::External<HeadHolder>>().Data();
    std::lock_guard<std::mutex> lock(h->mutex);
    h->head.reset();
  }
#else
  (void)info;
#endif
  return info.Env().Undefined();
}

const RegisterExports kRegister([](Napi::Env env, Napi::Object exports) {
  exports.Set("_cudaHeadScoreHost", Napi::Function::New(env, CudaHeadScoreHost, "_cudaHeadScoreHost"));
  exports.Set("_gemmNTHost", Napi::Function::New(env, GemmNTHost, "_gemmNTHost"));
  exports.Set("cudaHeadPrepare", Napi::Function::New(env, CudaHeadPrepare, "cudaHeadPrepare"));
  exports.Set("cudaHeadPrepareAsync", Napi::Function::New(env, CudaHeadPrepareAsync, "cudaHeadPrepareAsync"));
  exports.Set("cudaHeadScore", Napi::Function::New(env, CudaHeadScore, "cudaHeadScore"));
  exports.Set("cudaHeadDispose", Napi::Function::New(env, CudaHeadDispose, "cudaHeadDispose"));
});

}  // namespace
}  // namespace lwfm
