// Shortest augmenting path with explicit duals (Crouse 2016 style), used only for
// problems containing +inf entries (forbidden pairs): +inf never enters a dual, and a
// search that can reach no free column proves that no finite assignment exists.
// Rare in practice, so it favours simplicity over speed.
#include <cstdint>
#include <limits>
#include <vector>

#include "core/assignment_internal.h"

namespace lwfm {
namespace assign_detail {

bool SolveWithForbidden(const double* cost, int nr, int nc, int stride, std::int32_t* col4row) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> u(nr, 0.0), v(nc, 0.0), shortest(nc);
  std::vector<std::int32_t> path(nc, -1), row4col(nc, -1), remaining(nc);
  std::vector<std::uint8_t> seen_rows(nr), seen_cols(nc);
  for (int i = 0; i < nr; ++i) col4row[i] = -1;

  for (int cur = 0; cur < nr; ++cur) {
    for (int j = 0; j < nc; ++j) {
      remaining[j] = nc - 1 - j;
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
      const double* row = cost + static_cast<std::size_t>(i) * stride;
      for (int it = 0; it < n_remaining; ++it) {
        const int j = remaining[it];
        const double r = min_val + row[j] - u[i] - v[j];
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
      if (min_val == kInf) return false;
      const int j = remaining[index];
      if (row4col[j] < 0)
        sink = j;
      else
        i = row4col[j];
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
  return true;
}

}  // namespace assign_detail
}  // namespace lwfm
