// solveAssignmentsSync / solveAssignments: batched exact linear assignment for JS.
// The TypeScript layer validates first; everything here is re-checked so a direct call
// with bad arguments throws instead of reading out of bounds.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "bindings/registry.h"
#include "core/assignment.h"

namespace lwfm {
namespace {

constexpr double kMaxSide = 65536;                    // rows, cols
constexpr double kMaxResults = 2147483647.0;          // batch * rows (one Int32Array)

struct Shape {
  std::size_t batch = 0;
  int rows = 0, cols = 0;
  bool maximize = false;
};

double CountArg(const Napi::CallbackInfo& info, std::size_t index, const char* name, double max) {
  Napi::Env env = info.Env();
  if (index >= info.Length() || !info[index].IsNumber())
    throw Napi::TypeError::New(env, std::string("Expected positive integer for ") + name);
  const double value = info[index].As<Napi::Number>().DoubleValue();
  if (!(value >= 1) || value != std::floor(value) || value > max)
    throw Napi::RangeError::New(env, std::string("Expected integer in [1, ") + std::to_string(static_cast<long long>(max)) +
                                         "] for " + name + " but received " + std::to_string(value));
  return value;
}

// Parses (costs, batch, rows, cols, maximize) and checks every size relation.
Shape ParseShape(const Napi::CallbackInfo& info, Napi::TypedArrayOf<float>* costs) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, "Expected Float32Array for costs");
  *costs = info[0].As<Napi::TypedArrayOf<float>>();
  Shape shape;
  const double batch = CountArg(info, 1, "batch", kMaxResults);
  const double rows = CountArg(info, 2, "rows", kMaxSide);
  const double cols = CountArg(info, 3, "cols", kMaxSide);
  if (rows > cols)
    throw Napi::RangeError::New(env, "Expected rows <= cols but received rows " + std::to_string(static_cast<int>(rows)) +
                                         " and cols " + std::to_string(static_cast<int>(cols)));
  if (batch * rows > kMaxResults)
    throw Napi::RangeError::New(env, "batch * rows exceeds the largest Int32Array result");
  // batch * rows * cols < 2^31 * 2^16 = 2^47: exact in a double and in size_t.
  const double expected = batch * rows * cols;
  if (static_cast<double>(costs->ElementLength()) != expected)
    throw Napi::RangeError::New(env, "Expected Float32Array of length " + std::to_string(static_cast<long long>(expected)) +
                                         " (batch * rows * cols) for costs but received length " +
                                         std::to_string(costs->ElementLength()));
  if (info.Length() > 4 && !info[4].IsUndefined()) {
    if (!info[4].IsBoolean()) throw Napi::TypeError::New(env, "Expected boolean for maximize");
    shape.maximize = info[4].As<Napi::Boolean>().Value();
  }
  shape.batch = static_cast<std::size_t>(batch);
  shape.rows = static_cast<int>(rows);
  shape.cols = static_cast<int>(cols);
  return shape;
}

// Solves into `out` (batch * rows); rows of a failed problem become -1. Returns the first
// failed index or -1; `first_status` receives its status.
std::int64_t SolveInto(const float* costs, const Shape& s, int threads, int32_t* out, AssignStatus* first_status) {
  std::vector<AssignStatus> status(s.batch);
  const std::int64_t first = SolveAssignmentBatch(costs, s.batch, s.rows, s.cols, s.maximize, threads, out, status.data());
  if (first >= 0) {
    *first_status = status[static_cast<std::size_t>(first)];
    for (std::size_t b = static_cast<std::size_t>(first); b < s.batch; ++b)
      if (status[b] != AssignStatus::kOk)
        for (int i = 0; i < s.rows; ++i) out[b * s.rows + i] = -1;
  }
  return first;
}

// RangeError naming the failed problem; `results` keeps every other problem's answer.
Napi::Error FailureError(Napi::Env env, const Shape& s, std::int64_t index, AssignStatus status, Napi::Int32Array results) {
  std::string message = "Cost matrix " + std::to_string(index) + " of " + std::to_string(s.batch);
  if (status == AssignStatus::kInvalid)
    message += s.maximize ? " contains NaN or +Infinity (maximize)" : " contains NaN or -Infinity";
  else
    message += " has no finite assignment (every complete assignment uses an infinite cost)";
  Napi::Error error = Napi::RangeError::New(env, message);
  error.Value().Set("batchIndex", Napi::Number::New(env, static_cast<double>(index)));
  error.Value().Set("results", results);
  return error;
}

Napi::Value SolveSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArrayOf<float> costs;
  const Shape shape = ParseShape(info, &costs);
  Napi::Int32Array out = Napi::Int32Array::New(env, shape.batch * shape.rows);
  AssignStatus status = AssignStatus::kOk;
  std::int64_t first = -1;
  try {
    first = SolveInto(costs.Data(), shape, 1, out.Data(), &status);
  } catch (const std::exception& e) {
    // e.g. std::bad_alloc for a huge matrix: a JS error, never a terminated process.
    throw Napi::Error::New(env, std::string("solveAssignmentsSync failed: ") + e.what());
  }
  if (first >= 0) throw FailureError(env, shape, first, status, out);
  return out;
}

class SolveWorker : public Napi::AsyncWorker {
 public:
  SolveWorker(Napi::Env env, Napi::TypedArrayOf<float> costs, Shape shape, int threads)
      : Napi::AsyncWorker(env, "lwfm:solveAssignments"),
        deferred_(Napi::Promise::Deferred::New(env)),
        shape_(shape),
        threads_(threads),
        costs_data_(costs.Data()) {
    // Both arrays stay referenced until the worker is done, so their memory cannot go away.
    costs_ref_ = Napi::Persistent(static_cast<Napi::Object>(costs));
    Napi::Int32Array out = Napi::Int32Array::New(env, shape.batch * shape.rows);
    out_data_ = out.Data();
    out_ref_ = Napi::Persistent(static_cast<Napi::Object>(out));
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      first_ = SolveInto(costs_data_, shape_, threads_, out_data_, &status_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Int32Array out = out_ref_.Value().As<Napi::Int32Array>();
    if (first_ >= 0) deferred_.Reject(FailureError(env, shape_, first_, status_, out).Value());
    else deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Shape shape_;
  int threads_;
  const float* costs_data_;
  int32_t* out_data_ = nullptr;
  Napi::ObjectReference costs_ref_, out_ref_;
  std::int64_t first_ = -1;
  AssignStatus status_ = AssignStatus::kOk;
};

Napi::Value SolveAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::TypedArrayOf<float> costs;
  const Shape shape = ParseShape(info, &costs);
  int threads = 0;  // all hardware threads
  if (info.Length() > 5 && !info[5].IsUndefined()) threads = static_cast<int>(CountArg(info, 5, "threads", 4096));
  auto* worker = new SolveWorker(env, costs, shape, threads);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

const RegisterExports kRegister([](Napi::Env env, Napi::Object exports) {
  exports.Set("solveAssignmentsSync", Napi::Function::New(env, SolveSync, "solveAssignmentsSync"));
  exports.Set("solveAssignments", Napi::Function::New(env, SolveAsync, "solveAssignments"));
});

}  // namespace
}  // namespace lwfm
