// The LWFM-SPM head on the CPU (docs/computation.md §3): logits of queries against a prepared support set.
// Queries are processed in tiles so memory grows with (S + Q) C P + Q S, never Q S C P.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "core/head_model.h"
#include "core/prepared_support.h"

namespace lwfm {

// Seconds per stage of the latest calls (for benchmarks and profiling).
struct HeadTimings {
  EmbedTimings support;  // prepareSupport
  EmbedTimings query;    // query embedding inside score
  double correlate = 0;  // R GEMMs
  double pairs = 0;      // attention + assignment + matching per pair
  double global = 0;     // pooled global term and logits
};

// What one Score call computed for its single query, term by term (docs/computation.md §3.2-3.4): filled only
// when a caller asks for it (explanations), so the ordinary path pays one null test per pair.
// Index order: support s, then tap l, then pixel i (support pixel for sigma and similarity).
struct HeadTrace {
  std::vector<float> attention;   // S x taps x 2P: a_s (support pixels) then a_q (query pixels)
  std::vector<int32_t> sigma;     // S x taps x P: support pixel i -> query pixel sigma[i] (matching only)
  std::vector<float> similarity;  // S x taps x P: cos(u_i, v_i) of the matched pair (matching only)
  std::vector<float> tap_match;   // S x taps: m_l = sum of the topK largest similarities
  std::vector<float> pair_match;  // S: m(q, s) = matcherWeight x max_l m_l (0 without matching)
  std::vector<double> global;     // way: g(q, k)
  std::vector<double> matching;   // way: M(q, k) = mean over the class's shots of m(q, s)
};

class HeadEngine {
 public:
  explicit HeadEngine(HeadConfig options);
  ~HeadEngine();

  const HeadModel& model() const { return model_; }

  std::shared_ptr<const PreparedSupport> Prepare(const float* features, int size, const int32_t* labels,
                                                 HeadTimings* timings = nullptr) const;

  // logits: queries x support.way, row-major. Throws std::range_error on non-finite queries.
  // trace (optional): requires count == 1 and records every term of that query's logits.
  void Score(const PreparedSupport& support, const float* queries, int count, float* logits,
             HeadTimings* timings = nullptr, HeadTrace* trace = nullptr) const;

 private:
  struct Workspace;
  // Buffers of finished score calls, reused by the next ones (one per concurrent call), so a
  // steady stream of same-shaped episodes allocates and page-faults nothing.
  std::unique_ptr<Workspace> AcquireWorkspace() const;
  void ReleaseWorkspace(std::unique_ptr<Workspace> workspace) const;

  HeadModel model_;
  mutable std::mutex workspace_mutex_;
  mutable std::vector<std::unique_ptr<Workspace>> free_workspaces_;
};

}  // namespace lwfm
