// The LWFM-SPM head on the CPU (SPEC §3): logits of queries against a prepared support set.
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

class HeadEngine {
 public:
  explicit HeadEngine(HeadOptions options);
  ~HeadEngine();

  const HeadModel& model() const { return model_; }

  std::shared_ptr<const PreparedSupport> Prepare(const float* features, int size, const int32_t* labels,
                                                 HeadTimings* timings = nullptr) const;

  // logits: queries x support.way, row-major. Throws std::range_error on non-finite queries.
  void Score(const PreparedSupport& support, const float* queries, int count, float* logits,
             HeadTimings* timings = nullptr) const;

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
