// Shortest augmenting path (Jonker-Volgenant family, as in Crouse 2016): one Dijkstra-like
// search per row over reduced costs, duals in double so ties and huge costs stay exact.
#include "core/assignment.h"

#include <cmath>
#include <algorithm>
#include <limits>

#include "core/thread_pool.h"

namespace lwfm {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

AssignStatus SolveMinimize(const float* cost, int nr, int nc, int32_t* col4row, AssignWorkspace& ws) {
  ws.u.assign(nr, 0.0);
  ws.v.assign(nc, 0.0);
  ws.shortest.resize(nc);
  ws.path.assign(nc, -1);
  ws.row4col.assign(nc, -1);
  ws.remaining.resize(nc);
  ws.seen_rows.resize(nr);
  ws.seen_cols.resize(nc);
  for (int i = 0; i < nr; ++i) col4row[i] = -1;
  double* u = ws.u.data();
  double* v = ws.v.data();
  double* shortest = ws.shortest.data();
  int32_t* path = ws.path.data();
  int32_t* row4col = ws.row4col.data();
  int32_t* remaining = ws.remaining.data();
  uint8_t* seen_rows = ws.seen_rows.data();
  uint8_t* seen_cols = ws.seen_cols.data();

  for (int cur = 0; cur < nr; ++cur) {
    for (int j = 0; j < nc; ++j) {
      remaining[j] = nc - 1 - j;  // reversed so ties prefer low column indices, like SciPy
      shortest[j] = kInf;
      seen_cols[j] = 0;
    }
    for (int i = 0; i < nr; ++i) seen_rows[i] = 0;
    int n_remaining = nc;
    double min_val = 0.0;
    int i = cur;
    int sink = -1;
    while (sink < 0) {
      seen_rows[i] = 1;
      int index = -1;
      double lowest = kInf;
      const float* row = cost + static_cast<std::size_t>(i) * nc;
      for (int it = 0; it < n_remaining; ++it) {
        const int j = remaining[it];
        const double r = min_val + static_cast<double>(row[j]) - u[i] - v[j];
        if (r < shortest[j]) {
          path[j] = i;
          shortest[j] = r;
        }
        if (shortest[j] < lowest || (shortest[j] == lowest && row4col[j] < 0)) {
          lowest = shortest[j];
          index = it;
        }
      }
      min_val = lowest;
      if (min_val == kInf) return AssignStatus::kInfeasible;
      const int j = remaining[index];
      if (row4col[j] < 0) sink = j; else i = row4col[j];
      seen_cols[j] = 1;
      remaining[index] = remaining[--n_remaining];
    }
    u[cur] += min_val;
    for (int r = 0; r < nr; ++r)
      if (seen_rows[r] && r != cur) u[r] += min_val - shortest[col4row[r]];
    for (int c = 0; c < nc; ++c)
      if (seen_cols[c]) v[c] -= min_val - shortest[c];
    int j = sink;
    for (;;) {
      const int r = path[j];
      row4col[j] = r;
      const int previous = col4row[r];
      col4row[r] = j;
      j = previous;
      if (r == cur) break;
    }
  }
  return AssignStatus::kOk;
}

}  // namespace

AssignStatus SolveAssignment(const float* cost, int rows, int cols, bool maximize,
                             int32_t* col_for_row, AssignWorkspace& ws) {
  const std::size_t n = static_cast<std::size_t>(rows) * cols;
  for (std::size_t k = 0; k < n; ++k) {
    const float c = cost[k];
    if (std::isnan(c) || c == (maximize ? std::numeric_limits<float>::infinity()
                                        : -std::numeric_limits<float>::infinity()))
      return AssignStatus::kInvalid;
  }
  if (maximize) {
    ws.scratch.resize(n);
    for (std::size_t k = 0; k < n; ++k) ws.scratch[k] = -cost[k];
    cost = ws.scratch.data();
  }
  return SolveMinimize(cost, rows, cols, col_for_row, ws);
}

std::int64_t SolveAssignmentBatch(const float* costs, std::size_t batch, int rows, int cols,
                                  bool maximize, int threads, int32_t* col_for_row,
                                  AssignStatus* status) {
  const std::size_t size = static_cast<std::size_t>(rows) * cols;
  const std::size_t grain = std::max<std::size_t>(1, 4096 / (size + 1));
  ParallelFor(batch, threads, grain, [&](std::size_t begin, std::size_t end) {
    AssignWorkspace ws;
    for (std::size_t b = begin; b < end; ++b) {
      status[b] = SolveAssignment(costs + b * size, rows, cols, maximize, col_for_row + b * rows, ws);
    }
  });
  for (std::size_t b = 0; b < batch; ++b)
    if (status[b] != AssignStatus::kOk) return static_cast<std::int64_t>(b);
  return -1;
}

}  // namespace lwfm
