// A support set with everything every query reuses (docs/computation.md §4): embedded images and, per class and
// tap, the Gram matrix of its shots' centred pixel vectors for the pooled global term.
#pragma once

#include <cstdint>
#include <vector>

#include "core/image_embedding.h"

namespace lwfm {

struct PreparedSupport {
  int size = 0;  // S
  int way = 0;
  std::vector<int32_t> labels;
  std::vector<std::vector<int>> shots;  // support indices of each class, ascending
  EmbeddedImages images;
  // [class][tap]: (K P) x (K P), entry (a P + i, b P + j) = z_{shot a, i} . z_{shot b, j}.
  std::vector<std::vector<std::vector<double>>> class_gram;
  SimdLevel level = SimdLevel::kScalar;
  // Per tap: unit vectors packed as the B operand of the correlation GEMM for `level`.
  std::vector<PackedB> packed_unit;
};

// Labels must cover 0..way-1 with at least one shot each (way = max label + 1). Throws
// std::range_error naming the first offending label.
PreparedSupport PrepareSupport(const HeadModel& model, const float* features, int size, const int32_t* labels,
                               SimdLevel level, int threads, EmbedTimings* timings);

}  // namespace lwfm
