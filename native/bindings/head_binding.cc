// N-API surface of the CPU head: opaque handles (type-tagged Externals) for an engine and its
// prepared supports, sync and AsyncWorker (Promise) variants of prepare and score. src/head.ts is
// the public API; this layer re-validates as a backstop so bad input never crashes the process.
#include <napi.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings/arg_readers.h"
#include "bindings/head_config_reader.h"
#include "bindings/registry.h"
#include "bindings/safe_call.h"
#include "core/head.h"

namespace lwfm {
namespace {

const napi_type_tag kHeadTag = {0x6c77666d68656164ULL, 0x8f1c2a9b3d4e5f60ULL};
const napi_type_tag kSupportTag = {0x6c77666d73757070ULL, 0x1a2b3c4d5e6f7081ULL};

struct HeadState {
  explicit HeadState(HeadConfig options) : engine(std::move(options)) {}
  HeadEngine engine;
  std::mutex timings_mutex;
  HeadTimings last_prepare, last_score;
};

// What an External points at; dispose() empties it, in-flight workers keep their own shared_ptr.
struct HeadBox {
  std::shared_ptr<HeadState> state;
};
struct SupportBox {
  std::shared_ptr<const PreparedSupport> support;
  const HeadState* owner = nullptr;
};

// A handle whose object was disposed: src/native_errors.ts makes this a DisposedError.
Napi::Error DisposedError(Napi::Env env, const char* what) {
  return CodedError(env, std::string(what) + " was used after dispose()", "ERR_LWFM_DISPOSED");
}

std::shared_ptr<HeadState> HeadArg(const Napi::CallbackInfo& info, std::size_t index) {
  Napi::Env env = info.Env();
  if (index >= info.Length() || !info[index].IsExternal() ||
      !info[index].As<Napi::External<HeadBox>>().CheckTypeTag(&kHeadTag))
    throw Napi::TypeError::New(env, "Expected a native head handle");
  auto state = info[index].As<Napi::External<HeadBox>>().Data()->state;
  if (!state) throw DisposedError(env, "Head");
  return state;
}

SupportBox SupportArg(const Napi::CallbackInfo& info, std::size_t index) {
  Napi::Env env = info.Env();
  if (index >= info.Length() || !info[index].IsExternal() ||
      !info[index].As<Napi::External<SupportBox>>().CheckTypeTag(&kSupportTag))
    throw Napi::TypeError::New(env, "Expected a native prepared-support handle");
  SupportBox box = *info[index].As<Napi::External<SupportBox>>().Data();
  if (!box.support) throw DisposedError(env, "PreparedSupport");
  return box;
}

// Number of images in a flat features array, or a RangeError.
int ImageCount(Napi::Env env, const HeadModel& model, std::size_t length, const char* name) {
  const std::size_t per = static_cast<std::size_t>(model.total_channels()) * model.pixels();
  if (length == 0 || length % per != 0 || length / per > (1u << 24))
    throw Napi::RangeError::New(env, std::string("Expected ") + name + " of length n x " + std::to_string(per) +
                                         " (C x P) with n >= 1 but received length " + std::to_string(length));
  return static_cast<int>(length / per);
}

Napi::Object TimingsObject(Napi::Env env, const HeadTimings& t) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("supportCenter", t.support.center * 1e3);
  o.Set("supportMlp", t.support.mlp * 1e3);
  o.Set("supportGram", t.support.gram * 1e3);
  o.Set("queryCenter", t.query.center * 1e3);
  o.Set("queryMlp", t.query.mlp * 1e3);
  o.Set("queryGram", t.query.gram * 1e3);
  o.Set("correlate", t.correlate * 1e3);
  o.Set("pairs", t.pairs * 1e3);
  o.Set("global", t.global * 1e3);
  return o;
}

Napi::Value HeadCreate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HeadConfig options = ReadHeadConfig(info[0], "headCreate");
  auto state = std::make_shared<HeadState>(std::move(options));
  auto handle = Napi::External<HeadBox>::New(env, new HeadBox{state}, [](Napi::Env, HeadBox* box) { delete box; });
  handle.TypeTag(&kHeadTag);
  return handle;
}

Napi::Value HeadDispose(const Napi::CallbackInfo& info) {
  if (info.Length() >= 1 && info[0].IsExternal() && info[0].As<Napi::External<HeadBox>>().CheckTypeTag(&kHeadTag))
    info[0].As<Napi::External<HeadBox>>().Data()->state.reset();
  return info.Env().Undefined();
}

Napi::Value WrapSupport(Napi::Env env, std::shared_ptr<const PreparedSupport> support, const HeadState* owner) {
  auto handle = Napi::External<SupportBox>::New(env, new SupportBox{std::move(support), owner},
                                                [](Napi::Env, SupportBox* box) { delete box; });
  handle.TypeTag(&kSupportTag);
  return handle;
}

// Features and labels as native memory for an async call (Copy::kAlways) or borrowed for a
// sync one (see arg_readers.h): nothing between reading them and using them runs JavaScript.
struct PrepareArgs {
  std::shared_ptr<HeadState> state;
  ArrayArg<float> features;
  ArrayArg<int32_t> labels;
  int count;
};

PrepareArgs ReadPrepareArgs(const Napi::CallbackInfo& info, const char* fn, Copy copy) {
  Napi::Env env = info.Env();
  PrepareArgs args{HeadArg(info, 0), ReadFloat32(info, 1, "support features", fn, Copy::kIfShared),
                   ArrayArg<int32_t>::Read(info[2], "labels", fn, Copy::kIfShared), 0};
  args.count = ImageCount(env, args.state->engine.model(), args.features.size(), "support features");
  if (args.labels.size() != static_cast<std::size_t>(args.count))
    throw ArgRangeError(env, std::to_string(args.count) + " labels (one per support image)", "labels", fn,
                        "length " + std::to_string(args.labels.size()));
  if (copy == Copy::kAlways) {
    args.features.TakeCopy();
    args.labels.TakeCopy();
  }
  return args;
}

Napi::Value HeadPrepareSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  PrepareArgs args = ReadPrepareArgs(info, "headPrepareSupportSync", Copy::kIfShared);
  HeadTimings timings;
  std::shared_ptr<const PreparedSupport> support =
      args.state->engine.Prepare(args.features.data(), args.count, args.labels.data(), &timings);
  {
    std::lock_guard<std::mutex> lock(args.state->timings_mutex);
    args.state->last_prepare = timings;
  }
  return WrapSupport(env, std::move(support), args.state.get());
}

class PrepareWorker : public PromiseWorker {
 public:
  PrepareWorker(Napi::Env env, PrepareArgs args)
      : PromiseWorker(env, "lwfm.head.prepareSupport"), args_(std::move(args)) {}

 protected:
  void Run() override {
    support_ = args_.state->engine.Prepare(args_.features.data(), args_.count, args_.labels.data(), &timings_);
  }
  Napi::Value Settle(Napi::Env env) override {
    {
      std::lock_guard<std::mutex> lock(args_.state->timings_mutex);
      args_.state->last_prepare = timings_;
    }
    return WrapSupport(env, std::move(support_), args_.state.get());
  }

 private:
  PrepareArgs args_;  // owns copies of the features and labels
  std::shared_ptr<const PreparedSupport> support_;
  HeadTimings timings_;
};

Napi::Value HeadPrepare(const Napi::CallbackInfo& info) {
  auto* worker = new PrepareWorker(info.Env(), ReadPrepareArgs(info, "headPrepareSupport", Copy::kAlways));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

struct ScoreArgs {
  std::shared_ptr<HeadState> state;
  SupportBox support;
  ArrayArg<float> query;
  int count;
};

ScoreArgs ReadScoreArgs(const Napi::CallbackInfo& info, const char* fn, Copy copy) {
  Napi::Env env = info.Env();
  ScoreArgs args{HeadArg(info, 0), SupportArg(info, 1), ReadFloat32(info, 2, "query features", fn, Copy::kIfShared), 0};
  if (args.support.owner != args.state.get())
    throw Napi::TypeError::New(env, "Expected a PreparedSupport made by this head's prepareSupport()");
  args.count = ImageCount(env, args.state->engine.model(), args.query.size(), "query features");
  if (copy == Copy::kAlways) args.query.TakeCopy();
  return args;
}

Napi::Value HeadScoreSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ScoreArgs args = ReadScoreArgs(info, "headScoreSync", Copy::kIfShared);
  const int way = args.support.support->way;
  Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<std::size_t>(args.count) * way);
  HeadTimings timings;
  args.state->engine.Score(*args.support.support, args.query.data(), args.count, out.Data(), &timings);
  std::lock_guard<std::mutex> lock(args.state->timings_mutex);
  args.state->last_score = timings;
  return out;
}

class ScoreWorker : public PromiseWorker {
 public:
  ScoreWorker(Napi::Env env, ScoreArgs args) : PromiseWorker(env, "lwfm.head.score"), args_(std::move(args)) {}

 protected:
  void Run() override {
    logits_.resize(static_cast<std::size_t>(args_.count) * args_.support.support->way);
    args_.state->engine.Score(*args_.support.support, args_.query.data(), args_.count, logits_.data(), &timings_);
  }
  Napi::Value Settle(Napi::Env env) override {
    {
      std::lock_guard<std::mutex> lock(args_.state->timings_mutex);
      args_.state->last_score = timings_;
    }
    Napi::Float32Array out = Napi::Float32Array::New(env, logits_.size());
    std::copy(logits_.begin(), logits_.end(), out.Data());
    return out;
  }

 private:
  ScoreArgs args_;  // owns a copy of the query features
  std::vector<float> logits_;
  HeadTimings timings_;
};

Napi::Value HeadScore(const Napi::CallbackInfo& info) {
  auto* worker = new ScoreWorker(info.Env(), ReadScoreArgs(info, "headScore", Copy::kAlways));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// explain: one query's score with every term recorded (HeadTrace). The query (C x P floats) is
// copied at submission, so nothing the caller does to its array afterwards can reach the worker.
class ExplainWorker : public PromiseWorker {
 public:
  ExplainWorker(Napi::Env env, ScoreArgs args)
      : PromiseWorker(env, "lwfm.head.explain"),
        state_(args.state),
        support_(args.support.support),
        query_(std::move(args.query)) {}

 protected:
  void Run() override {
    logits_.resize(support_->way);
    state_->engine.Score(*support_, query_.data(), 1, logits_.data(), nullptr, &trace_);
  }
  Napi::Value Settle(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("logits", ToJs<Napi::Float32Array>(env, logits_));
    o.Set("attention", ToJs<Napi::Float32Array>(env, trace_.attention));
    o.Set("sigma", ToJs<Napi::Int32Array>(env, trace_.sigma));
    o.Set("similarity", ToJs<Napi::Float32Array>(env, trace_.similarity));
    o.Set("tapMatch", ToJs<Napi::Float32Array>(env, trace_.tap_match));
    o.Set("pairMatch", ToJs<Napi::Float32Array>(env, trace_.pair_match));
    o.Set("global", ToJs<Napi::Float64Array>(env, trace_.global));
    o.Set("matching", ToJs<Napi::Float64Array>(env, trace_.matching));
    return o;
  }

 private:
  template <typename Array, typename Vector>
  static Array ToJs(Napi::Env env, const Vector& v) {
    Array out = Array::New(env, v.size());
    std::copy(v.begin(), v.end(), out.Data());
    return out;
  }

  std::shared_ptr<HeadState> state_;
  std::shared_ptr<const PreparedSupport> support_;
  ArrayArg<float> query_;  // copied at submission
  std::vector<float> logits_;
  HeadTrace trace_;
};

Napi::Value HeadExplain(const Napi::CallbackInfo& info) {
  ScoreArgs args = ReadScoreArgs(info, "headExplain", Copy::kAlways);
  if (args.count != 1)
    throw Napi::RangeError::New(
        info.Env(), "Expected the features of exactly one query image but received " + std::to_string(args.count));
  auto* worker = new ExplainWorker(info.Env(), std::move(args));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value SupportInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SupportBox box = SupportArg(info, 0);
  Napi::Object o = Napi::Object::New(env);
  o.Set("way", box.support->way);
  o.Set("size", box.support->size);
  Napi::Int32Array shots = Napi::Int32Array::New(env, box.support->way);
  for (int k = 0; k < box.support->way; ++k) shots[k] = static_cast<int32_t>(box.support->shots[k].size());
  o.Set("shotsPerClass", shots);
  return o;
}

Napi::Value SupportDispose(const Napi::CallbackInfo& info) {
  if (info.Length() >= 1 && info[0].IsExternal() && info[0].As<Napi::External<SupportBox>>().CheckTypeTag(&kSupportTag))
    info[0].As<Napi::External<SupportBox>>().Data()->support.reset();
  return info.Env().Undefined();
}

Napi::Value HeadTimingsOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto state = HeadArg(info, 0);
  std::lock_guard<std::mutex> lock(state->timings_mutex);
  Napi::Object o = Napi::Object::New(env);
  o.Set("prepare", TimingsObject(env, state->last_prepare));
  o.Set("score", TimingsObject(env, state->last_score));
  return o;
}

const RegisterExports kRegister([](Napi::Env env, Napi::Object exports) {
  Export<HeadCreate>(env, exports, "headCreate");
  Export<HeadDispose>(env, exports, "headDispose");
  Export<HeadPrepare>(env, exports, "headPrepareSupport");
  Export<HeadPrepareSync>(env, exports, "headPrepareSupportSync");
  Export<HeadScore>(env, exports, "headScore");
  Export<HeadScoreSync>(env, exports, "headScoreSync");
  Export<HeadExplain>(env, exports, "headExplain");
  Export<HeadTimingsOf>(env, exports, "headTimings");
  Export<SupportInfo>(env, exports, "supportInfo");
  Export<SupportDispose>(env, exports, "supportDispose");
});

}  // namespace
}  // namespace lwfm
