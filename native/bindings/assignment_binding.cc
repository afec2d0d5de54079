// solveAssignmentsSync / solveAssignments: batched exact linear assignment for JS.
// The TypeScript layer validates first; everything here is re-checked so a direct call
// with bad arguments throws instead of reading out of bounds.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bindings/arg_readers.h"
#include "bindings/registry.h"
#include "bindings/safe_call.h"
#include "core/assignment.h"

namespace lwfm {
namespace {

constexpr int64_t kMaxSide = 65536;          // rows, cols
constexpr int64_t kMaxResults = 2147483647;  // batch * rows (one Int32Array)

struct Shape {
  std::size_t batch = 0;
  int rows = 0, cols = 0;
  bool maximize = false;
};

// Parses (costs, batch, rows, cols, maximize) and checks every size relation; `copy` says
// whether the costs are copied into native memory (async) or borrowed (sync; see arg_readers.h).
Shape ParseShape(const Napi::CallbackInfo& info, const char* fn, Copy copy, ArrayArg<float>* costs) {
  Napi::Env env = info.Env();
  Shape shape;
  const int64_t batch = ReadCount(info, 1, "batch", fn, 1, kMaxResults);
  const int64_t rows = ReadCount(info, 2, "rows", fn, 1, kMaxSide);
  const int64_t cols = ReadCount(info, 3, "cols", fn, 1, kMaxSide);
  if (rows > cols)
    throw ArgRangeError(env, "rows <= cols", "rows", fn,
                        "rows " + std::to_string(rows) + " and cols " + std::to_string(cols));
  if (batch * rows > kMaxResults)
    throw ArgRangeError(env, "batch * rows at most 2^31 - 1 (one Int32Array of results)", "batch", fn,
                        std::to_string(batch) + " x " + std::to_string(rows));
  shape.maximize = ReadFlag(info[4], "maximize", fn, false);
  // Read last: nothing after it runs JavaScript. batch * rows * cols < 2^47, exact in a double.
  *costs = ReadFloat32(info, 0, "costs", fn, Copy::kIfShared);
  ExpectLength(env, costs->size(), double(batch) * double(rows) * double(cols), "batch * rows * cols", "costs", fn);
  if (copy == Copy::kAlways) costs->TakeCopy();
  shape.batch = static_cast<std::size_t>(batch);
  shape.rows = static_cast<int>(rows);
  shape.cols = static_cast<int>(cols);
  return shape;
}

// Solves into `out` (batch * rows); rows of a failed problem become -1. Returns the first
// failed index or -1; `first_status` receives its status.
std::int64_t SolveInto(const float* costs, const Shape& s, int threads, int32_t* out, AssignStatus* first_status) {
  std::vector<AssignStatus> status(s.batch);
  const std::int64_t first =
      SolveAssignmentBatch(costs, s.batch, s.rows, s.cols, s.maximize, threads, out, status.data());
  if (first >= 0) {
    *first_status = status[static_cast<std::size_t>(first)];
    for (std::size_t b = static_cast<std::size_t>(first); b < s.batch; ++b)
      if (status[b] != AssignStatus::kOk)
        for (int i = 0; i < s.rows; ++i) out[b * s.rows + i] = -1;
  }
  return first;
}

// RangeError naming the failed problem; `results` keeps every other problem's answer.
Napi::Error FailureError(Napi::Env env, const Shape& s, std::int64_t index, AssignStatus status,
                         Napi::Int32Array results) {
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
  ArrayArg<float> costs;
  const Shape shape = ParseShape(info, "solveAssignmentsSync", Copy::kIfShared, &costs);
  Napi::Int32Array out = Napi::Int32Array::New(env, shape.batch * shape.rows);
  AssignStatus status = AssignStatus::kOk;
  // An exception (std::bad_alloc for a huge matrix) becomes a coded error in Export's wrapper.
  const std::int64_t first = SolveInto(costs.data(), shape, 1, out.Data(), &status);
  if (first >= 0) throw FailureError(env, shape, first, status, out);
  return out;
}

// Owns its costs (copied at submission, so nothing the caller does to its array while the
// pool threads run can reach them) and its result array, which JavaScript cannot see before
// OnOK hands it over.
class SolveWorker : public PromiseWorker {
 public:
  SolveWorker(Napi::Env env, ArrayArg<float> costs, Shape shape, int threads)
      : PromiseWorker(env, "lwfm:solveAssignments"), shape_(shape), threads_(threads), costs_(std::move(costs)) {
    Napi::Int32Array out = Napi::Int32Array::New(env, shape.batch * shape.rows);
    out_data_ = out.Data();
    out_ref_ = Napi::Persistent(static_cast<Napi::Object>(out));
  }

 protected:
  void Run() override { first_ = SolveInto(costs_.data(), shape_, threads_, out_data_, &status_); }
  Napi::Value Settle(Napi::Env env) override {
    Napi::Int32Array out = out_ref_.Value().As<Napi::Int32Array>();
    if (first_ >= 0) throw FailureError(env, shape_, first_, status_, out);
    return out;
  }

 private:
  Shape shape_;
  int threads_;
  ArrayArg<float> costs_;
  int32_t* out_data_ = nullptr;
  Napi::ObjectReference out_ref_;
  std::int64_t first_ = -1;
  AssignStatus status_ = AssignStatus::kOk;
};

Napi::Value SolveAsync(const Napi::CallbackInfo& info) {
  const char* fn = "solveAssignments";
  int threads = 0;  // all hardware threads
  if (!info[5].IsUndefined()) threads = static_cast<int>(ReadCount(info, 5, "threads", fn, 1, 4096));
  ArrayArg<float> costs;
  const Shape shape = ParseShape(info, fn, Copy::kAlways, &costs);
  auto* worker = new SolveWorker(info.Env(), std::move(costs), shape, threads);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

const RegisterExports kRegister([](Napi::Env env, Napi::Object exports) {
  Export<SolveSync>(env, exports, "solveAssignmentsSync");
  Export<SolveAsync>(env, exports, "solveAssignments");
});

}  // namespace
}  // namespace lwfm
