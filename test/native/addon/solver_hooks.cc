// Test hooks (test addon only, never in the package's addon): the GPU solvers' per-problem code
// run on the CPU, and the exact CPU solver's totals, for test/cuda_auction.test.ts and
// test/cuda_exact.test.ts.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "auction_host.h"
#include "auction_thread_team.h"
#include "bindings/arg_readers.h"
#include "bindings/cuda_binding_util.h"
#include "bindings/registry.h"
#include "core/assignment.h"
#include "exact_thread_team.h"

namespace lwfm {
namespace {

// { assignment, converged } of the host runs of the GPU solvers.
Napi::Object AssignmentResult(Napi::Env env, Napi::Int32Array assignment, Napi::Uint8Array converged) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("assignment", assignment);
  out.Set("converged", converged);
  return out;
}

// _auctionSolveSync(costs, batch, rows, cols, jacobi?): the GPU's per-problem auction
// (Gauss-Seidel as in the thread/warp kernels, or the block kernel's Jacobi variant), on the CPU.
Napi::Value AuctionSolveSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const BatchArgs a = ReadBatchArgs(info, "_auctionSolveSync");
  Napi::Int32Array assignment = Napi::Int32Array::New(env, size_t(a.batch * a.rows));
  Napi::Uint8Array converged = Napi::Uint8Array::New(env, size_t(a.batch));
  Napi::Float64Array bound = Napi::Float64Array::New(env, size_t(a.batch));
  auction::HostAuctionWorkspace ws;
  const bool jacobi = info.Length() > 4 && info[4].ToBoolean().Value();
  const int64_t cells = int64_t(a.rows) * a.cols;
  for (int64_t b = 0; b < a.batch; ++b) {
    double bd = 0;
    converged.Data()[b] = auction::SolveAuctionHost(a.costs.data() + b * cells, a.rows, a.cols,
                                                    assignment.Data() + b * a.rows, &bd, ws, jacobi)
                              ? 1
                              : 0;
    bound.Data()[b] = bd;
  }
  Napi::Object out = AssignmentResult(env, assignment, converged);
  out.Set("bound", bound);
  return out;
}

// _auctionSolveTeamSync(costs, batch, rows, cols, members, jacobi?): the same auction driven by a
// team of `members` real threads with the GPU block team's sync protocol (race check).
Napi::Value AuctionSolveTeamSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const BatchArgs a = ReadBatchArgs(info, "_auctionSolveTeamSync");
  const int members = int(ReadCount(info, 4, "members", "_auctionSolveTeamSync", 1, 64));
  const bool jacobi = info.Length() > 5 && info[5].ToBoolean().Value();
  Napi::Int32Array assignment = Napi::Int32Array::New(env, size_t(a.batch * a.rows));
  Napi::Uint8Array converged = Napi::Uint8Array::New(env, size_t(a.batch));
  const int64_t cells = int64_t(a.rows) * a.cols;
  std::vector<int32_t> cost(size_t(a.cols) * a.cols), owner(a.cols), col4row(a.cols), stack(a.cols);
  std::vector<int64_t> price(a.cols);
  for (int64_t b = 0; b < a.batch; ++b) {
    double cmin = 0, cmax = 0;
    bool ok = auction::CostRange(a.costs.data() + b * cells, cells, &cmin, &cmax);
    if (ok) {
      const auction::AuctionScaling s = auction::ChooseScaling(cmin, cmax, a.rows);
      for (int64_t k = 0; k < cells; ++k) cost[k] = auction::Quantize(a.costs.data()[b * cells + k], s);
      auction::AuctionState st{cost.data(), price.data(), owner.data(), col4row.data(), stack.data()};
      ok = auction::RunAuctionWithThreads(members, st, a.rows, a.cols, s, jacobi);
    }
    for (int i = 0; i < a.rows; ++i) assignment.Data()[b * a.rows + i] = ok ? col4row[i] : -1;
    converged.Data()[b] = ok ? 1 : 0;
  }
  return AssignmentResult(env, assignment, converged);
}

// _exactSolveTeamSync(costs, batch, rows, cols, members, maximize?): the GPU's exact search
// (exact_assignment.cuh) on the CPU: one member as a GPU thread per problem runs it, more
// members as real threads with the warp kernel's protocol. converged 0: non-finite costs.
Napi::Value ExactSolveTeamSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const BatchArgs a = ReadBatchArgs(info, "_exactSolveTeamSync");
  const int members = int(ReadCount(info, 4, "members", "_exactSolveTeamSync", 1, 64));
  const float sign = info.Length() > 5 && info[5].ToBoolean().Value() ? -1.0f : 1.0f;
  Napi::Int32Array assignment = Napi::Int32Array::New(env, size_t(a.batch * a.rows));
  Napi::Uint8Array converged = Napi::Uint8Array::New(env, size_t(a.batch));
  const int64_t cells = int64_t(a.rows) * a.cols;
  std::vector<double> v(a.cols), shortest(a.cols);
  std::vector<int32_t> path(a.cols), row4col(a.cols), col4row(a.rows);
  std::vector<uint8_t> scanned(a.cols);
  for (int64_t b = 0; b < a.batch; ++b) {
    const float* c = a.costs.data() + b * cells;
    bool ok = exact::AllFinite(c, a.cols, a.rows, a.cols);
    if (ok) {
      const exact::ExactState st{c,           a.cols,         sign,           v.data(),      shortest.data(),
                                 path.data(), scanned.data(), row4col.data(), col4row.data()};
      if (members == 1) {
        exact::SerialTeam team;
        ok = exact::SolveExact(team, st, a.rows, a.cols);
      } else {
        ok = exact::SolveExactWithThreads(members, st, a.rows, a.cols);
      }
    }
    for (int i = 0; i < a.rows; ++i) assignment.Data()[b * a.rows + i] = ok ? col4row[i] : -1;
    converged.Data()[b] = ok ? 1 : 0;
  }
  return AssignmentResult(env, assignment, converged);
}

// _exactSolveFixed9Sync(costs, batch): the register variant of the search for 9 x 9
// (SolveExactFixed<9>, the head's pair problems), run directly on whatever costs it gets
// (its callers check finiteness first; a test checks that it stops on NaN anyway).
Napi::Value ExactSolveFixed9Sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "_exactSolveFixed9Sync";
  const int64_t batch = ReadCount(info, 1, "batch", fn, 0, int64_t(1) << 40);
  const ArrayArg<float> costs_arg = ReadFloat32(info, 0, "costs", fn, Copy::kIfShared);
  ExpectLength(env, costs_arg.size(), double(batch) * 81, "batch * 81", "costs", fn);
  const float* costs = costs_arg.data();
  Napi::Int32Array assignment = Napi::Int32Array::New(env, size_t(batch * 9));
  Napi::Uint8Array converged = Napi::Uint8Array::New(env, size_t(batch));
  for (int64_t b = 0; b < batch; ++b)
    converged.Data()[b] = exact::SolveExactFixed<9>(costs + b * 81, 1.0f, assignment.Data() + b * 9) ? 1 : 0;
  return AssignmentResult(env, assignment, converged);
}

// _exactAssignmentTotals(costs, batch, rows, cols): totals (in double) of the exact CPU
// solver's optimum per problem, NaN where it reports no optimum. Test helper.
Napi::Value ExactAssignmentTotals(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const BatchArgs a = ReadBatchArgs(info, "_exactAssignmentTotals");
  Napi::Float64Array totals = Napi::Float64Array::New(env, size_t(a.batch));
  AssignWorkspace ws;
  std::vector<int32_t> cols(a.rows);
  const int64_t cells = int64_t(a.rows) * a.cols;
  for (int64_t b = 0; b < a.batch; ++b) {
    const float* c = a.costs.data() + b * cells;
    if (SolveAssignment(c, a.rows, a.cols, false, cols.data(), ws) != AssignStatus::kOk) {
      totals.Data()[b] = NAN;
      continue;
    }
    double t = 0;
    for (int i = 0; i < a.rows; ++i) t += double(c[int64_t(i) * a.cols + cols[i]]);
    totals.Data()[b] = t;
  }
  return totals;
}

const RegisterExports kRegister([](Napi::Env env, Napi::Object exports) {
  exports.Set("_auctionSolveSync", Napi::Function::New(env, AuctionSolveSync, "_auctionSolveSync"));
  exports.Set("_auctionSolveTeamSync", Napi::Function::New(env, AuctionSolveTeamSync, "_auctionSolveTeamSync"));
  exports.Set("_exactSolveTeamSync", Napi::Function::New(env, ExactSolveTeamSync, "_exactSolveTeamSync"));
  exports.Set("_exactSolveFixed9Sync", Napi::Function::New(env, ExactSolveFixed9Sync, "_exactSolveFixed9Sync"));
  exports.Set("_exactAssignmentTotals", Napi::Function::New(env, ExactAssignmentTotals, "_exactAssignmentTotals"));
});

}  // namespace
}  // namespace lwfm
