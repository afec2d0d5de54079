// GPU head (docs/computation.md §3): prepared support kept on the device, query batches scored to host
// logits. Free of CUDA types; implemented in head_engine.cu. Every method throws
// CudaError (cuda_engine.h) on failure, with unavailable() set when there is no device.
#pragma once

#include <cstdint>
#include <memory>

#include "cuda_engine.h"
#include "gpu_head_limits.h"

namespace lwfm {
namespace cuda {

struct HeadTimings {
  double uploadMs = 0;    // queries host -> device
  double prepareMs = 0;   // centering, unit vectors, matcher MLP, query Grams
  double gemmMs = 0;      // correlation / matching-cosine matrix products
  double pairMs = 0;      // attention sums, assignment, matching scores
  double classMs = 0;     // global term and logits
  double downloadMs = 0;  // logits device -> host
  double totalMs = 0;     // host to host
  int chunks = 0;
};

// Per-pair scratch lives in local memory, reserved for every resident thread: P <= 25
// (featureSize <= 5) keeps it at ~6 KB per thread. Larger feature maps use the CPU head.
constexpr int kMaxGpuPixels = 25;

class CudaHead {
 public:
  // Copies what it needs (features are prepared on the device, the config's matcher
  // weights are uploaded): the host arrays may be released afterwards. Labels must be
  // valid (0..way-1, every class present) and features finite; the bindings check.
  CudaHead(const HeadConfig& config, int way, const float* support, const std::int32_t* labels, int supportCount);
  ~CudaHead();
  CudaHead(const CudaHead&) = delete;
  CudaHead& operator=(const CudaHead&) = delete;

  // queries: Q x C x P; logits: Q x way. Thread-safe (calls are serialized).
  void Score(const float* queries, int queryCount, float* logits, HeadTimings* timings = nullptr);

  int supportCount() const;
  int way() const;
  int featureLength() const;  // C * P
  int pixels() const;         // P

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cuda
}  // namespace lwfm
