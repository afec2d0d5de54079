// Auction assignment (Bertsekas) with epsilon scaling on integer-scaled costs, written once
// as __host__ __device__ code: the CPU build runs it in unit tests (a one-thread "team"),
// the GPU kernels run the very same driver with a thread, a warp or a block per problem.
//
// Why integers: with float prices the auction stalls once epsilon falls below the prices'
// rounding step, and a final epsilon of 1e-3/n still leaves problems suboptimal (measured
// when the GPU solver was first written). Here every cost is quantized, c_q = round((c - cmin) * scale) with scale =
// 2^k, and the auction maximizes -(n + 1) * c_q with integer prices. A final phase with epsilon = 1 leaves the total
// within n * 1 < n + 1 of the optimum of the (n + 1)-scaled integer problem, whose totals are multiples of n + 1: the
// result is EXACTLY optimal for the quantized costs. (n = cols: rectangular problems are padded with zero-cost rows.)
//
// Bound against the exact solver on the float costs: each quantized cost is within
// 0.5 / scale of the true one, so for the auction's sigma_a and any optimum sigma*,
//   total(sigma_a) - total(sigma*) <= rows / scale.
// scale = 2^k with k = ceil(log2(rows)) + 18 whenever (cmax - cmin) * 2^k <= 2^30, i.e. the
// bound is <= 2^-18 ~= 3.8e-6 (< 1e-5) for cost ranges up to 2^12 / 2^ceil(log2 rows)
// (32 for 100 x 100, 256 for 9 x 9; cosine costs span at most 2). Wider ranges lower k so
// the quantized costs stay in int32: the bound is then <= rows * (cmax - cmin) * 2^-29,
// below float32 resolution relative to the range. AuctionScaling::bound reports it.
#pragma once

#include <cstdint>
#include <cmath>

#include "hd.cuh"

namespace lwfm {
namespace auction {

// Epsilon divides by this between phases (Bertsekas suggests 4-10).
constexpr int64_t kEpsilonFactor = 8;
// Accuracy bits beyond log2(rows): bound = rows / scale <= 2^-kAccuracyBits.
constexpr int kAccuracyBits = 18;
// Quantized costs stay below 2^kCostBits so they fit int32 (shared memory stays small).
constexpr int kCostBits = 30;
constexpr int64_t kNegInf = -(int64_t(1) << 62);

struct AuctionScaling {
  double cmin = 0;   // subtracted before scaling
  double scale = 1;  // 2^k
  double bound = 0;  // rows / scale: max excess of the auction's total over the optimum
  int64_t maxQuantized = 0;
};

// Smallest k with 2^k >= v (v >= 1).
LWFM_HD int CeilLog2(int v) {
  int k = 0;
  while ((1 << k) < v) ++k;
  return k;
}

LWFM_HD AuctionScaling ChooseScaling(double cmin, double cmax, int rows) {
  AuctionScaling s;
  s.cmin = cmin;
  const double range = cmax - cmin;
  int k = CeilLog2(rows) + kAccuracyBits;
  const double limit = double(int64_t(1) << kCostBits);
  // Lower k until range * 2^k fits (range may be huge; ldexp keeps it exact).
  while (k > -1000 && range * ldexp(1.0, k) > limit) --k;
  s.scale = ldexp(1.0, k);
  s.bound = double(rows) / s.scale;
  s.maxQuantized = int64_t(range * s.scale + 0.5);
  return s;
}

LWFM_HD int32_t Quantize(float c, const AuctionScaling& s) { return int32_t(llrint((double(c) - s.cmin) * s.scale)); }

// Min and max of a rows x cols problem; false if any cost is NaN or infinite (the auction
// needs a finite range; such problems go to the exact solver, which reports them).
LWFM_HD bool CostRange(const float* cost, int64_t count, double* cmin, double* cmax) {
  float lo = cost[0], hi = cost[0];
  for (int64_t k = 0; k < count; ++k) {
    const float c = cost[k];
    if (!(c - c == 0.0f)) return false;  // NaN or +-inf
    lo = c < lo ? c : lo;
    hi = c > hi ? c : hi;
  }
  *cmin = lo;
  *cmax = hi;
  return true;
}

// Best and second-best value for one bidder over some columns; Merge is associative and
// commutative (ties go to the lower column) so any reduction order gives the same bid.
struct Bid {
  int64_t best;
  int64_t second;
  int32_t col;
};

LWFM_HD Bid EmptyBid() { return Bid{kNegInf, kNegInf, INT32_MAX}; }

LWFM_HD Bid MergeBids(const Bid& a, const Bid& b) {
  const bool aWins = a.best > b.best || (a.best == b.best && a.col < b.col);
  Bid r;
  if (aWins) {
    r.best = a.best;
    r.col = a.col;
    r.second = a.second > b.best ? a.second : b.best;
  } else {
    r.best = b.best;
    r.col = b.col;
    r.second = b.second > a.best ? b.second : a.best;
  }
  return r;
}

// Bidding step for person `row` over columns first, first + stride, ...: value of column j
// is -(n + 1) * c_q[row, j] - price[j]; padded rows (row >= rows) have cost 0.
LWFM_HD Bid ScanColumns(const int32_t* cost, int row, int rows, int cols, int64_t n1, const int64_t* price, int first,
                        int stride) {
  Bid b = EmptyBid();
  const int32_t* r = cost + int64_t(row) * cols;
  for (int j = first; j < cols; j += stride) {
    const int64_t c = row < rows ? int64_t(r[j]) * n1 : 0;
    Bid one{-c - price[j], kNegInf, j};
    b = MergeBids(b, one);
  }
  return b;
}

// Price update: the winner raises the price of its best column by the margin over its
// second-best plus epsilon (>= 1, so every bid makes progress and integer prices never stall).
LWFM_HD int64_t BidIncrement(const Bid& b, int64_t eps) {
  return b.second == kNegInf ? eps : (b.best - b.second) + eps;
}

// Epsilon-scaling schedule: start near the largest scaled cost, divide by the factor,
// finish with a phase at exactly 1.
LWFM_HD int64_t FirstEpsilon(const AuctionScaling& s, int64_t n1) {
  const int64_t e = s.maxQuantized * n1 / kEpsilonFactor;
  return e > 1 ? e : 1;
}
LWFM_HD int64_t NextEpsilon(int64_t eps) {
  const int64_t e = eps / kEpsilonFactor;
  return e > 1 ? e : 1;
}

// Iteration cap per phase. After a phase at epsilon' = factor * epsilon each price can rise
// by about n * (epsilon' + epsilon) in the next, i.e. ~n * (factor + 1) bids per column;
// 4x that margin only trips on a genuine failure (reported, the caller falls back).
LWFM_HD int64_t BidCapPerPhase(int cols) { return int64_t(4) * (kEpsilonFactor + 2) * cols * cols + 64; }

// Convergence check of a finished run: every row holds a distinct column.
LWFM_HD bool IsPermutationPrefix(const int32_t* colForRow, int rows, int cols) {
  for (int i = 0; i < rows; ++i) {
    const int32_t c = colForRow[i];
    if (c < 0 || c >= cols) return false;
    for (int k = 0; k < i; ++k)
      if (colForRow[k] == c) return false;
  }
  return true;
}

// A team of cooperating threads working on one problem. The one-thread team runs on the
// host and in the GPU's thread-per-problem kernels; warp and block teams live in
// auction_teams.cuh.
struct SerialTeam {
  LWFM_HD int rank() const { return 0; }
  LWFM_HD int size() const { return 1; }
  LWFM_HD Bid reduce(const Bid& b) { return b; }
  LWFM_HD void sync() {}
  LWFM_HD void atomicMaxU64(uint64_t* p, uint64_t v) { *p = v > *p ? v : *p; }
  LWFM_HD void atomicAddInt(int* p, int v) { *p += v; }
};

// Working memory of one problem (shared memory on the GPU, any memory on the host):
// cost: cols x cols quantized (only the first rows x cols are read), price/owner/colForRow/
// stack: cols entries each.
struct AuctionState {
  const int32_t* cost;
  int64_t* price;
  int32_t* owner;      // row holding each column, -1 if none
  int32_t* colForRow;  // column of each (padded) row, -1 if none
  int32_t* stack;      // unassigned rows
};

// Runs the whole epsilon-scaled auction. All team members call it with identical
// arguments; scalar control flow is team-uniform (every member computes the same bid).
// Returns true when the final epsilon = 1 phase completed within the iteration cap.
template <class Team>
LWFM_HD_NOINLINE bool RunAuction(Team& team, const AuctionState& st, int rows, int cols,
                                 const AuctionScaling& scaling) {
  const int64_t n1 = int64_t(cols) + 1;
  const int rank = team.rank();
  const int size = team.size();
  for (int j = rank; j < cols; j += size) st.price[j] = 0;
  const int64_t cap = BidCapPerPhase(cols);
  int64_t eps = FirstEpsilon(scaling, n1);
  for (;;) {
    for (int j = rank; j < cols; j += size) {
      st.owner[j] = -1;
      st.colForRow[j] = -1;
      st.stack[j] = cols - 1 - j;  // pops row 0 first
    }
    team.sync();
    int top = cols;
    int64_t bids = 0;
    while (top > 0) {
      const int row = st.stack[top - 1];
      const Bid bid = team.reduce(ScanColumns(st.cost, row, rows, cols, n1, st.price, rank, size));
      const int col = bid.col;
      const int prev = st.owner[col];
      const int64_t newPrice = st.price[col] + BidIncrement(bid, eps);
      team.sync();  // everyone has read price/owner/stack before the leader writes
      if (rank == 0) {
        st.price[col] = newPrice;
        st.owner[col] = row;
        st.colForRow[row] = col;
        if (prev >= 0) {
          st.colForRow[prev] = -1;
          st.stack[top - 1] = prev;
        }
      }
      if (prev < 0) --top;
      team.sync();
      if (++bids > cap) return false;
    }
    if (eps == 1) break;
    eps = NextEpsilon(eps);
  }
  return true;
}

// Jacobi (parallel-bidding) variant for block-per-problem kernels: in each round every
// unassigned row bids at once (a thread per row scans all columns), each column keeps the
// highest bid (packed as price << 16 | (65535 - row), so a plain 64-bit max also breaks
// ties towards the lower row), then columns take their winners. Same integer prices,
// epsilon schedule, optimality and bound as RunAuction; fewer sequential steps when
// n threads work on one problem. Rows and columns are at most 65535.
struct JacobiState {
  uint64_t* bid;  // per column, 0 = no bid this round
  int* active;    // two counters of bidding rows (double-buffered by round parity)
};

LWFM_HD uint64_t PackBid(int64_t price, int row) { return (uint64_t(price) << 16) | uint64_t(65535 - row); }
LWFM_HD int64_t BidPrice(uint64_t packed) { return int64_t(packed >> 16); }
LWFM_HD int BidRow(uint64_t packed) { return 65535 - int(packed & 65535u); }

template <class Team>
LWFM_HD_NOINLINE bool RunAuctionJacobi(Team& team, const AuctionState& st, const JacobiState& js, int rows, int cols,
                                       const AuctionScaling& scaling) {
  const int64_t n1 = int64_t(cols) + 1;
  const int rank = team.rank();
  const int size = team.size();
  for (int j = rank; j < cols; j += size) st.price[j] = 0;
  const int64_t cap = BidCapPerPhase(cols);
  int64_t eps = FirstEpsilon(scaling, n1);
  for (;;) {
    for (int j = rank; j < cols; j += size) {
      st.owner[j] = -1;
      st.colForRow[j] = -1;
      js.bid[j] = 0;
    }
    if (rank == 0) js.active[0] = js.active[1] = 0;
    team.sync();
    for (int64_t round = 0;; ++round) {
      int* counter = js.active + (round & 1);
      // Bidding: every unassigned (padded) row, against the prices of the round's start.
      for (int row = rank; row < cols; row += size) {
        if (st.colForRow[row] >= 0) continue;
        const Bid b = ScanColumns(st.cost, row, rows, cols, n1, st.price, 0, 1);
        team.atomicMaxU64(&js.bid[b.col], PackBid(st.price[b.col] + BidIncrement(b, eps), row));
        team.atomicAddInt(counter, 1);
      }
      team.sync();
      const int bidders = *counter;
      // Assignment: each column with a bid takes its best bidder. Rows touched are distinct:
      // a winner owned nothing, and each evicted row owned exactly this column.
      for (int j = rank; j < cols; j += size) {
        const uint64_t packed = js.bid[j];
        if (packed == 0) continue;
        const int row = BidRow(packed);
        const int prev = st.owner[j];
        if (prev >= 0) st.colForRow[prev] = -1;
        st.owner[j] = row;
        st.colForRow[row] = j;
        st.price[j] = BidPrice(packed);
        js.bid[j] = 0;
      }
      if (rank == 0) js.active[(round + 1) & 1] = 0;  // nobody reads or adds to it until the next round
      team.sync();
      if (bidders == 0) break;
      if (round > cap) return false;
    }
    if (eps == 1) break;
    eps = NextEpsilon(eps);
  }
  return true;
}

}  // namespace auction
}  // namespace lwfm
