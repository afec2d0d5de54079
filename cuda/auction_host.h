// Host driver for the auction of auction.cuh: runs the exact per-problem code the GPU runs
// (one-thread team) so the CPU build can test it, and quantizes one problem the way the
// kernels do.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "auction.cuh"

namespace lwfm {
namespace auction {

struct HostAuctionWorkspace {
  std::vector<int32_t> cost, owner, colForRow, stack;
  std::vector<int64_t> price;
  std::vector<uint64_t> bid;
};

// Solves one rows x cols problem (rows <= cols). Returns true when the auction converged;
// colForRow then holds an assignment optimal for the quantized costs, at most
// *bound above the float optimum.
inline bool SolveAuctionHost(const float* cost, int rows, int cols, int32_t* colForRow, double* bound,
                             HostAuctionWorkspace& ws, bool jacobi = false) {
  double cmin = 0, cmax = 0;
  *bound = INFINITY;
  if (rows < 1 || rows > cols || !CostRange(cost, int64_t(rows) * cols, &cmin, &cmax)) {
    for (int i = 0; i < rows; ++i) colForRow[i] = -1;
    return false;
  }
  const AuctionScaling s = ChooseScaling(cmin, cmax, rows);
  ws.cost.resize(size_t(cols) * cols);
  for (int64_t k = 0; k < int64_t(rows) * cols; ++k) ws.cost[k] = Quantize(cost[k], s);
  ws.price.resize(cols);
  ws.owner.resize(cols);
  ws.colForRow.resize(cols);
  ws.stack.resize(cols);
  AuctionState st{ws.cost.data(), ws.price.data(), ws.owner.data(), ws.colForRow.data(), ws.stack.data()};
  SerialTeam team;
  ws.bid.assign(size_t(cols), 0);
  int active[2] = {0, 0};
  const JacobiState js{ws.bid.data(), active};
  const bool ran = jacobi ? RunAuctionJacobi(team, st, js, rows, cols, s) : RunAuction(team, st, rows, cols, s);
  const bool ok = ran && IsPermutationPrefix(ws.colForRow.data(), rows, cols);
  for (int i = 0; i < rows; ++i) colForRow[i] = ws.colForRow[i];
  *bound = s.bound;
  return ok;
}

}  // namespace auction
}  // namespace lwfm
