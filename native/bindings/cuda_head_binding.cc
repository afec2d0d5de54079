// GPU head exports (cudaHeadPrepare[Async] / cudaHeadScore / cudaHeadDispose). The CPU emulation
// of the GPU head's code (_cudaHeadScoreHost) is a test hook, in the test addon.
#include <napi.h>

#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bindings/cuda_binding_util.h"
#include "bindings/cuda_head_args.h"
#include "bindings/registry.h"
#include "bindings/safe_call.h"
#ifdef LWFM_WITH_CUDA
#include "cuda_head.h"
#endif

namespace lwfm {
namespace {

// (config, support, labels) of cudaHeadPrepare[Async], checked; the async call owns copies of
// the arrays (arg_readers.h). Throws the device error when this build or machine cannot run it.
struct PrepareArgs {
  HeadConfig cfg;  // owns its matcher weights
  int way = 0;
  ArrayArg<float> support;
  ArrayArg<int32_t> labels;
  int S = 0;
};

PrepareArgs ReadPrepareArgs(const Napi::CallbackInfo& info, const char* fn, Copy copy) {
  Napi::Env env = info.Env();
  PrepareArgs a;
  a.cfg = ReadGpuHeadConfig(info[0], fn, &a.way);
  a.support = ReadFeatures(info, 1, "support features", fn, a.cfg, copy);
  a.S = int(a.support.size() / (size_t(a.cfg.total_channels()) * a.cfg.pixels()));
  a.labels = ReadLabels(info, 2, fn, a.S, a.way, copy);
#ifdef LWFM_WITH_CUDA
  if (a.cfg.pixels() > cuda::kMaxGpuPixels)
    throw Napi::RangeError::New(env, std::string("Expected featureSize at most 5 for ") + fn + " (GPU) but received " +
                                         std::to_string(a.cfg.feature_size));
  const cuda::RuntimeStatus& s = cuda::QueryRuntime();
  if (!s.available) throw MakeDeviceError(env, DeviceFailure{true, false, s.reason});
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

class HeadScoreWorker : public PromiseWorker {
 public:
  HeadScoreWorker(Napi::Env env, std::shared_ptr<cuda::CudaHead> head, ArrayArg<float> queries, int Q)
      : PromiseWorker(env, "lwfm:cudaHeadScore"), head_(std::move(head)), queries_(std::move(queries)), Q_(Q) {
    out_.resize(size_t(Q) * head_->way());
  }

 protected:
  void Run() override {
    const float* data_ = queries_.data();
    const size_t count = size_t(Q_) * size_t(head_->featureLength());
    for (size_t i = 0; i < count; ++i) {
      if (!FeatureInRange(data_[i])) {
        failure_ = DeviceFailure{false, true,
                                 NonFiniteFeatureMessage("query features of cudaHeadScore", data_[i], (long long)i,
                                                         head_->featureLength() / head_->pixels(), head_->pixels())};
        failed_ = true;
        return;
      }
    }
    try {
      head_->Score(data_, Q_, out_.data());
    } catch (const std::exception& e) {
      failure_ = FailureOf(e);
      failed_ = true;
    }
  }
  Napi::Value Settle(Napi::Env env) override {
    if (failed_) throw MakeDeviceError(env, failure_);
    Napi::Float32Array result = Napi::Float32Array::New(env, out_.size());
    std::copy(out_.begin(), out_.end(), result.Data());
    return result;
  }

 private:
  std::shared_ptr<cuda::CudaHead> head_;
  ArrayArg<float> queries_;  // a copy made at submission
  int Q_;
  std::vector<float> out_;
  DeviceFailure failure_;
  bool failed_ = false;
};

// Prepares a support on the GPU off the event loop: the first CUDA call of a process also
// creates the context (tens to hundreds of ms), and a large support's upload and preparation
// take milliseconds more. It owns copies of every array it reads (made at submission).
class HeadPrepareWorker : public PromiseWorker {
 public:
  HeadPrepareWorker(Napi::Env env, PrepareArgs args)
      : PromiseWorker(env, "lwfm:cudaHeadPrepare"), args_(std::move(args)) {}

 protected:
  void Run() override {
    try {
      head_ =
          std::make_shared<cuda::CudaHead>(args_.cfg, args_.way, args_.support.data(), args_.labels.data(), args_.S);
    } catch (const std::exception& e) {
      failure_ = FailureOf(e);
      failed_ = true;
    }
  }
  Napi::Value Settle(Napi::Env env) override {
    if (failed_) throw MakeDeviceError(env, failure_);
    return WrapHead(env, std::move(head_));
  }

 private:
  PrepareArgs args_;  // owns copies of the matcher weights, support and labels
  std::shared_ptr<cuda::CudaHead> head_;
  DeviceFailure failure_;
  bool failed_ = false;
};
#endif

// cudaHeadPrepare(config, support, labels) -> handle (support prepared on the GPU).
Napi::Value CudaHeadPrepare(const Napi::CallbackInfo& info) {
  PrepareArgs a = ReadPrepareArgs(info, "cudaHeadPrepare", Copy::kIfShared);
#ifdef LWFM_WITH_CUDA
  try {
    return WrapHead(info.Env(), std::make_shared<cuda::CudaHead>(a.cfg, a.way, a.support.data(), a.labels.data(), a.S));
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
  PrepareArgs a = ReadPrepareArgs(info, "cudaHeadPrepareAsync", Copy::kAlways);
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
  ArrayArg<float> queries = ReadFloat32(info, 1, "queries", fn, Copy::kIfShared);
  const size_t length = queries.size();
  const size_t per = size_t(head->featureLength());
  if (length == 0 || length % per != 0 || length / per > size_t(1) << 24)
    throw ArgRangeError(env, "Float32Array of length a positive multiple of C * P = " + std::to_string(per), "queries",
                        fn, "length " + std::to_string(length));
  queries.TakeCopy();  // finiteness is checked off the event loop, in the worker, on this copy
  auto* worker = new HeadScoreWorker(env, head, std::move(queries), int(length / per));
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
  Export<CudaHeadPrepare>(env, exports, "cudaHeadPrepare");
  Export<CudaHeadPrepareAsync>(env, exports, "cudaHeadPrepareAsync");
  Export<CudaHeadScore>(env, exports, "cudaHeadScore");
  Export<CudaHeadDispose>(env, exports, "cudaHeadDispose");
});

}  // namespace
}  // namespace lwfm
