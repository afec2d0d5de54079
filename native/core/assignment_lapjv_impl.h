// The Jonker-Volgenant solver body, compiled once per SIMD level: it is #included (no
// include guard on purpose) inside an anonymous namespace of assignment_lapjv_<level>.cc,
// after that file defines the three kernels for its level:
//   void ColumnMinima(const double* cost, int rows, int stride, double* minima, double* at_row);
//   TwoSmallest TwoSmallestOf(const double* row, const double* v, int stride);
//   int RelaxArgmin(const double* cost_row, const double* w, double* dist, std::int64_t* pred,
//                   double h, std::int64_t row, int stride);
// Compiling the whole solver per level lets the kernels inline: for 9x9 problems the calls
// through function pointers cost as much as the arithmetic.
//
// Algorithm: Jonker-Volgenant (1987) for dense problems with finite costs: column reduction and
// reduction transfer give most rows a column and good duals in O(n^2); augmenting row
// reduction settles most of the rest; Dijkstra shortest augmenting paths finish.
// Row duals are implicit (u_i = c[i][x(i)] - v[x(i)]); column duals are doubles.
//
// Rectangular problems (rows < cols) skip the column reduction: optimality then needs
// every unassigned column to keep the largest dual, which holds because duals start at
// 0 and only ever decrease for columns that are (and stay) assigned.
// Needs <cstddef>, <cstdint>, core/assignment_internal.h and a constexpr double kInf.

constexpr int kRescanBudget = 16;  // immediate re-scans per ARR pass
// Up to this many columns, reduction transfer and augmenting row reduction are skipped: with
// SIMD Dijkstra steps that cheap, going straight from column reduction to augmentation was
// measured ~6% faster at 9x9 and 16x16 (and no different with scalar kernels).
constexpr int kDirectAugmentCols = 16;

// Column reduction (columns in reverse, as JV do) then reduction transfer.
// Returns the number of free rows written to b.free_rows.
int ReduceSquare(const LapBuffers& b) {
  const int n = b.rows;
  const int stride = b.stride;
  double* at_row = b.settled;              // borrowed scratch
  std::int32_t* matches = b.settled_cols;  // borrowed scratch, n <= stride entries
  ColumnMinima(b.cost, n, stride, b.v, at_row);
  for (int j = n; j < stride; ++j) b.v[j] = 0.0;  // padding: keeps (+inf) - v = +inf, never NaN
  for (int i = 0; i < n; ++i) matches[i] = 0;
  for (int j = n - 1; j >= 0; --j) {
    const int at = static_cast<int>(at_row[j]);
    if (++matches[at] == 1) {
      b.col4row[at] = j;
      b.row4col[j] = at;
    } else if (b.v[j] < b.v[b.col4row[at]]) {
      // Keep the row on the column where it is cheaper relative to the column minimum.
      const int previous = b.col4row[at];
      b.col4row[at] = j;
      b.row4col[j] = at;
      b.row4col[previous] = -1;
    } else {
      b.row4col[j] = -1;
    }
  }
  int num_free = 0;
  for (int i = 0; i < n; ++i) {
    if (matches[i] == 0) {
      b.free_rows[num_free++] = i;
    } else if (matches[i] == 1 && n > kDirectAugmentCols) {
      // Reduction transfer: hand the row's slack over to its column's dual.
      const int j1 = b.col4row[i];
      const TwoSmallest two = TwoSmallestOf(b.cost + static_cast<std::size_t>(i) * stride, b.v, stride);
      b.v[j1] -= two.at == j1 ? two.second : two.first;
    }
  }
  return num_free;
}

// Two passes of augmenting row reduction over the free rows; returns how many stay free.
int AugmentingRowReduction(const LapBuffers& b, int num_free) {
  for (int pass = 0; pass < 2 && num_free > 0; ++pass) {
    // Re-scanning a displaced row at once (JV's "k--") pays off for small n, but with a
    // SIMD Dijkstra behind it long chains of re-scans cost more than they save (measured:
    // 100x100 twice as slow unbounded). The bound also rules out cycling when, in floating
    // point, a dual lowering rounds to nothing.
    int budget = kRescanBudget;
    int k = 0;
    const int previous_free = num_free;
    num_free = 0;
    while (k < previous_free) {
      const int i = b.free_rows[k++];
      const double* row = b.cost + static_cast<std::size_t>(i) * b.stride;
      const TwoSmallest two = TwoSmallestOf(row, b.v, b.stride);
      const double umin = two.first, usubmin = two.second;
      int j1 = two.at;
      int i0 = b.row4col[j1];
      const bool strict = umin < usubmin;
      if (strict) {
        b.v[j1] -= usubmin - umin;
      } else if (i0 >= 0) {
        // A tie: take another column at the same reduced cost instead of displacing i0.
        int j2 = 0;
        while (j2 == j1 || row[j2] - b.v[j2] != usubmin) ++j2;
        j1 = j2;
        i0 = b.row4col[j2];
      }
      b.col4row[i] = j1;
      b.row4col[j1] = i;
      if (i0 >= 0) {
        b.col4row[i0] = -1;
        if (strict && budget-- > 0)
          b.free_rows[--k] = i0;
        else
          b.free_rows[num_free++] = i0;
      }
    }
  }
  return num_free;
}

// Dijkstra from free row `start` to the nearest unassigned column, then flips the path.
bool Augment(const LapBuffers& b, int start) {
  const int stride = b.stride;
  for (int j = 0; j < stride; ++j) {
    b.dist[j] = kInf;
    b.w[j] = b.v[j];
  }
  int num_settled = 0;
  int j = RelaxArgmin(b.cost + static_cast<std::size_t>(start) * stride, b.w, b.dist, b.pred, 0.0, start, stride);
  double reach = 0.0;
  for (;;) {
    if (j < 0) return false;  // unreachable with finite costs; the caller falls back
    reach = b.dist[j];
    const int i = b.row4col[j];
    if (i < 0) break;
    b.settled[j] = reach;
    b.settled_cols[num_settled++] = j;
    b.dist[j] = kInf;
    b.w[j] = -kInf;  // makes (h + c) - w = +inf: a settled column is never relaxed again
    const double* row = b.cost + static_cast<std::size_t>(i) * stride;
    const double h = reach - (row[j] - b.v[j]);
    j = RelaxArgmin(row, b.w, b.dist, b.pred, h, i, stride);
  }
  for (int k = 0; k < num_settled; ++k) {
    const int c = b.settled_cols[k];
    b.v[c] += b.settled[c] - reach;
  }
  for (;;) {
    const int i = static_cast<int>(b.pred[j]);
    b.row4col[j] = i;
    const int previous = b.col4row[i];
    b.col4row[i] = j;
    if (i == start) break;
    j = previous;
  }
  return true;
}

bool SolveLapjvImpl(const LapBuffers& b) {
  for (int j = 0; j < b.stride; ++j) {
    b.v[j] = 0.0;
    b.row4col[j] = -1;
  }
  for (int i = 0; i < b.rows; ++i) b.col4row[i] = -1;
  int num_free;
  if (b.rows == b.cols) {
    num_free = ReduceSquare(b);
  } else {
    for (int i = 0; i < b.rows; ++i) b.free_rows[i] = i;
    num_free = b.rows;
  }
  if (b.cols > kDirectAugmentCols) num_free = AugmentingRowReduction(b, num_free);
  for (int k = 0; k < num_free; ++k)
    if (!Augment(b, b.free_rows[k])) return false;
  return true;
}
