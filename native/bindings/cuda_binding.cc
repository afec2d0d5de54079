// CUDA engine exports. Compiled in both builds: the node-gyp CPU build (no LWFM_WITH_CUDA)
// reports compiled:false and rejects GPU calls with ERR_LWFM_DEVICE_UNAVAILABLE. The CPU runs
// of the GPU solvers' code are test hooks, in the test addon (test/native/addon/).
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bindings/cuda_binding_util.h"
#include "bindings/registry.h"
#include "bindings/safe_call.h"
#include "core/assignment.h"
#ifdef LWFM_WITH_CUDA
#include "cuda_engine.h"
#endif

namespace lwfm {
namespace {

Napi::Value CudaInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  Napi::Array devices = Napi::Array::New(env);
#ifdef LWFM_WITH_CUDA
  const cuda::RuntimeStatus& s = cuda::QueryRuntime();
  out.Set("compiled", true);
  out.Set("available", s.available);
  if (!s.available) out.Set("reason", s.reason);
  for (size_t d = 0; d < s.devices.size(); ++d) {
    Napi::Object dev = Napi::Object::New(env);
    dev.Set("name", s.devices[d].name);
    dev.Set("computeCapability", std::to_string(s.devices[d].major) + "." + std::to_string(s.devices[d].minor));
    dev.Set("memoryBytes", double(s.devices[d].memoryBytes));
    devices.Set(uint32_t(d), dev);
  }
#else
  out.Set("compiled", false);
  out.Set("available", false);
  out.Set("reason", std::string(kNotCompiledReason));
#endif
  out.Set("devices", devices);
  return out;
}

#ifdef LWFM_WITH_CUDA
// solveAssignmentsCuda(costs, batch, rows, cols, maximize?, solver?): the GPU solver ('exact' by
// default, or 'auction'), then the exact CPU solver for every problem the GPU did not finish.
class SolveAssignmentsWorker : public PromiseWorker {
 public:
  SolveAssignmentsWorker(Napi::Env env, BatchArgs a, bool maximize, cuda::GpuSolver solver)
      : PromiseWorker(env, "lwfm:solveAssignmentsCuda"), a_(std::move(a)), maximize_(maximize), solver_(solver) {
    out_.resize(size_t(a_.batch * a_.rows));
  }

 protected:
  void Run() override {
    try {
      std::vector<uint8_t> converged(size_t(a_.batch));
      cuda::SolveAssignmentsGpu(a_.costs.data(), a_.batch, a_.rows, a_.cols, out_.data(), converged.data(), nullptr,
                                maximize_, solver_);
      AssignWorkspace ws;
      const int64_t cells = int64_t(a_.rows) * a_.cols;
      for (int64_t b = 0; b < a_.batch; ++b) {
        if (converged[b]) continue;
        const AssignStatus st =
            SolveAssignment(a_.costs.data() + b * cells, a_.rows, a_.cols, maximize_, out_.data() + b * a_.rows, ws);
        if (st != AssignStatus::kOk) {
          failure_ = DeviceFailure{false, true,
                                   "Expected finite costs with a finite assignment for costs of batch index " +
                                       std::to_string(b) + " but received " +
                                       (st == AssignStatus::kInvalid ? "NaN or -Infinity" : "no finite assignment")};
          failed_ = true;
          return;
        }
      }
    } catch (const std::exception& e) {
      failure_ = FailureOf(e);
      failed_ = true;
    }
  }
  Napi::Value Settle(Napi::Env env) override {
    if (failed_) throw MakeDeviceError(env, failure_);
    Napi::Int32Array result = Napi::Int32Array::New(env, out_.size());
    std::copy(out_.begin(), out_.end(), result.Data());
    return result;
  }

 private:
  BatchArgs a_;  // owns a copy of the costs, made at submission
  bool maximize_;
  cuda::GpuSolver solver_;
  std::vector<int32_t> out_;
  DeviceFailure failure_;
  bool failed_ = false;
};
#endif

Napi::Value SolveAssignmentsCuda(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "solveAssignmentsCuda";
  const bool maximize = ReadFlag(info[4], "maximize", fn, false);
  bool auction = false;
  if (!info[5].IsUndefined()) {
    const std::string solver = info[5].IsString() ? info[5].As<Napi::String>().Utf8Value() : "";
    if (solver != "exact" && solver != "auction")
      throw ArgTypeError(env, "'exact' or 'auction'", "solver", fn, info[5]);
    auction = solver == "auction";
  }
  BatchArgs a = ReadBatchArgs(info, fn);  // borrowed until the copy below
#ifdef LWFM_WITH_CUDA
  if (a.cols > cuda::kMaxGpuCols) {
    throw ArgRangeError(env, "integer at most " + std::to_string(cuda::kMaxGpuCols) + " (use the CPU solver)", "cols",
                        fn, std::to_string(a.cols));
  }
  const cuda::RuntimeStatus& s = cuda::QueryRuntime();
  if (!s.available) throw MakeDeviceError(env, DeviceFailure{true, false, s.reason});
  a.costs.TakeCopy();  // the worker reads the costs after this call has returned
  auto* worker = new SolveAssignmentsWorker(env, std::move(a), maximize,
                                            auction ? cuda::GpuSolver::kAuction : cuda::GpuSolver::kExact);
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
#else
  (void)maximize;
  (void)auction;
  (void)a;
  throw MakeDeviceError(env, DeviceFailure{true, false, kNotCompiledReason});
#endif
}

const RegisterExports kRegister([](Napi::Env env, Napi::Object exports) {
  Export<CudaInfo>(env, exports, "cudaInfo");
  Export<SolveAssignmentsCuda>(env, exports, "solveAssignmentsCuda");
});

}  // namespace
}  // namespace lwfm
