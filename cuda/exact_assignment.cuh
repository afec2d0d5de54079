// Exact linear assignment by shortest augmenting paths (the algorithm family of SciPy's
// linear_sum_assignment: one Dijkstra search per row over reduced costs, double potentials),
// written once as __host__ __device__ code for a "team" of cooperating members:
//  - one member (SerialTeam): a GPU thread per problem (the head's 9 x 9 pairs, small
//    batches), and the CPU unit tests;
//  - a warp: 32 lanes, each owning the columns j = lane, lane + 32, ...; one argmin
//    reduction per Dijkstra step;
//  - real host threads with a barrier (exact_thread_team.h): checks the sync placement.
//
// Why exact rather than the auction here: the head scores cos(u_i, v_sigma(i)) of MLP
// vectors, a quantity the assignment costs do not bound, so an assignment within 1e-5 of the
// optimum can still move a logit by 1e-2 (seen on an H200: 100-way x 1000 queries). With the
// optimum itself, GPU and CPU differ only where two assignments tie to float rounding.
//
// Ties are broken the same way for every team size (smallest reduced cost, then a free
// column, then the smallest column index), so a warp and a single thread give identical
// assignments, which the tests use.
#pragma once

#include <cmath>
#include <cstdint>

#include "hd.cuh"

namespace lwfm {
namespace exact {

// One Dijkstra step's candidate column.
struct Candidate {
  double value;  // reduced path length; INFINITY when none
  int32_t col;
  int32_t taken;  // 0: the column is free (ends the search), 1: assigned
};

LWFM_HD Candidate NoCandidate() { return Candidate{INFINITY, INT32_MAX, 1}; }

LWFM_HD bool Better(const Candidate& a, const Candidate& b) {
  if (a.value != b.value) return a.value < b.value;
  if (a.taken != b.taken) return a.taken < b.taken;
  return a.col < b.col;
}

LWFM_HD Candidate Merge(const Candidate& a, const Candidate& b) { return Better(b, a) ? b : a; }

struct SerialTeam {
  LWFM_HD int rank() const { return 0; }
  LWFM_HD int size() const { return 1; }
  LWFM_HD Candidate reduce(const Candidate& c) { return c; }
  LWFM_HD void sync() {}
};

// Working memory of one problem. cost: rows x cols, row stride ld, read-only; the team's
// arrays (cols entries, col4row rows entries) must be visible to every member (shared
// memory for a warp). Member m only touches v/shortest/path/scanned of its own columns.
struct ExactState {
  const float* cost;
  int64_t ld;
  float sign;  // -1 maximizes
  double* v;
  double* shortest;
  int32_t* path;
  uint8_t* scanned;
  int32_t* row4col;
  int32_t* col4row;
};

// True when every cost of the rows x cols problem is finite (the search needs it; callers
// send the others to the exact CPU solver, which reports them).
LWFM_HD bool AllFinite(const float* cost, int64_t ld, int rows, int cols) {
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      const float c = cost[i * ld + j];
      if (!(c - c == 0.0f)) return false;
    }
  return true;
}

// Minimum-cost assignment of every row (rows <= cols, finite costs). col4row[i] = column of
// row i. All members call it and all return the same value: false only if a search found no
// column, which finite costs exclude.
template <class Team>
LWFM_HD bool SolveExact(Team& team, const ExactState& st, int rows, int cols) {
  const int me = team.rank(), members = team.size();
  for (int j = me; j < cols; j += members) {
    st.v[j] = 0;
    st.row4col[j] = -1;
  }
  for (int i = me; i < rows; i += members) st.col4row[i] = -1;
  team.sync();
  for (int cur = 0; cur < rows; ++cur) {
    for (int j = me; j < cols; j += members) {
      st.shortest[j] = INFINITY;
      st.scanned[j] = 0;
    }
    // Dijkstra from the free row `cur`. Rows met on the way are assigned, so their row
    // potential is implied by their tight edge: u_i = c[i][col4row[i]] - v[col4row[i]]
    // (and u_cur = 0: a free row's potential is never raised before its own search).
    int i = cur;
    double ui = 0, minVal = 0;
    int sink = -1;
    while (true) {
      const float* row = st.cost + i * st.ld;
      Candidate best = NoCandidate();
      for (int j = me; j < cols; j += members) {
        if (st.scanned[j]) continue;
        const double reduced = minVal + double(st.sign * row[j]) - ui - st.v[j];
        if (reduced < st.shortest[j]) {
          st.shortest[j] = reduced;
          st.path[j] = i;
        }
        const Candidate c{st.shortest[j], j, st.row4col[j] != -1 ? 1 : 0};
        if (Better(c, best)) best = c;
      }
      best = team.reduce(best);
      if (!(best.value < INFINITY)) return false;
      minVal = best.value;
      const int jb = best.col;
      if (jb % members == me) st.scanned[jb] = 1;
      if (!best.taken) {
        sink = jb;
        break;
      }
      i = st.row4col[jb];
      ui = double(st.sign * st.cost[i * st.ld + jb]) - st.v[jb];
    }
    // Potentials of the scanned columns (the sink's changes by 0). Every member finished
    // reading v during the search: the reduction above is the last point all passed.
    for (int j = me; j < cols; j += members)
      if (st.scanned[j]) st.v[j] -= minVal - st.shortest[j];
    team.sync();  // path[] of every column written
    if (me == 0) {
      int j = sink;
      while (true) {
        const int r = st.path[j];
        st.row4col[j] = r;
        const int previous = st.col4row[r];
        st.col4row[r] = j;
        if (r == cur) break;
        j = previous;
      }
    }
    team.sync();
  }
  return true;
}

// The same search for exactly kN x kN problems with every per-column value in registers:
// the column loops unroll (compile-time indices), the scanned set is a bitmask, and the few
// run-time column lookups are unrolled selects. For the head's 9 x 9 pair problems, where
// local-memory traffic, not arithmetic, bounds the generic search on a GPU thread. Same
// candidate order as SolveExact (ascending columns), so the same assignment. Cost row stride
// kN; returns false (instead of looping) if a search finds no column, which only non-finite
// costs cause: callers check AllFinite first.
template <int kN>
LWFM_HD bool SolveExactFixed(const float* cost, float sign, int32_t* colForRow) {
  static_assert(kN >= 1 && kN <= 32, "bitmask of kN columns");
  double v[kN], shortest[kN];
  int path[kN], row4col[kN], col4row[kN];
  LWFM_UNROLL
  for (int j = 0; j < kN; ++j) {
    v[j] = 0;
    row4col[j] = -1;
    col4row[j] = -1;
    path[j] = 0;
  }
  for (int cur = 0; cur < kN; ++cur) {
    LWFM_UNROLL
    for (int j = 0; j < kN; ++j) shortest[j] = INFINITY;
    uint32_t scanned = 0;
    int i = cur, sink = 0;
    double ui = 0, minVal = 0;
    while (true) {
      const float* row = cost + i * kN;
      double bestValue = INFINITY;
      int bestCol = 0, bestTaken = 2;
      LWFM_UNROLL
      for (int j = 0; j < kN; ++j) {
        if ((scanned >> j) & 1u) continue;
        const double reduced = minVal + double(sign * row[j]) - ui - v[j];
        if (reduced < shortest[j]) {
          shortest[j] = reduced;
          path[j] = i;
        }
        const int taken = row4col[j] != -1 ? 1 : 0;
        if (shortest[j] < bestValue || (shortest[j] == bestValue && taken < bestTaken)) {
          bestValue = shortest[j];
          bestCol = j;
          bestTaken = taken;
        }
      }
      if (!(bestValue < INFINITY)) return false;
      minVal = bestValue;
      scanned |= 1u << bestCol;
      if (!bestTaken) {
        sink = bestCol;
        break;
      }
      int next = 0;
      double vBest = 0;
      LWFM_UNROLL
      for (int j = 0; j < kN; ++j)
        if (j == bestCol) {
          next = row4col[j];
          vBest = v[j];
        }
      i = next;
      ui = double(sign * cost[i * kN + bestCol]) - vBest;
    }
    LWFM_UNROLL
    for (int j = 0; j < kN; ++j)
      if ((scanned >> j) & 1u) v[j] -= minVal - shortest[j];
    int j = sink;
    while (true) {
      int r = 0, previous = 0;
      LWFM_UNROLL
      for (int k = 0; k < kN; ++k)
        if (k == j) {
          r = path[k];
          row4col[k] = r;
        }
      LWFM_UNROLL
      for (int k = 0; k < kN; ++k)
        if (k == r) {
          previous = col4row[k];
          col4row[k] = j;
        }
      if (r == cur) break;
      j = previous;
    }
  }
  LWFM_UNROLL
  for (int k = 0; k < kN; ++k) colForRow[k] = col4row[k];
  return true;
}

}  // namespace exact
}  // namespace lwfm
