#include "staged_copy.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "core/thread_pool.h"
#include "runtime.cuh"

namespace lwfm {
namespace cuda {
namespace {

// 2 x 16 MiB: large enough that each DMA runs near the link's rate, small enough to pin once.
constexpr std::size_t kSlice = std::size_t(16) << 20;

struct Stager {
  std::mutex mutex;  // one copy at a time uses the buffer
  char* half[2] = {nullptr, nullptr};
  cudaEvent_t free[2] = {nullptr, nullptr};  // recorded after the DMA that last used a half

  // All four handles are published together, so a failure part-way (out of pinned memory)
  // leaves the stager empty and the next call tries again.
  void Ensure() {
    if (half[0]) return;
    void* p[2] = {nullptr, nullptr};
    cudaEvent_t e[2] = {nullptr, nullptr};
    cudaError_t err = cudaSuccess;
    for (int h = 0; h < 2 && err == cudaSuccess; ++h) {
      err = cudaHostAlloc(&p[h], kSlice, cudaHostAllocDefault);
      if (err == cudaSuccess) err = cudaEventCreateWithFlags(&e[h], cudaEventDisableTiming);
    }
    if (err != cudaSuccess) {
      for (int h = 0; h < 2; ++h) {
        if (p[h]) cudaFreeHost(p[h]);
        if (e[h]) cudaEventDestroy(e[h]);
      }
      (void)cudaGetLastError();
      ThrowCuda(err, "pinned staging buffer");
    }
    for (int h = 0; h < 2; ++h) {
      free[h] = e[h];
      half[h] = static_cast<char*>(p[h]);
    }
  }
};

Stager& Instance() {
  static Stager* s = new Stager();  // never destroyed: pinned memory outlives static teardown order
  return *s;
}

// Host memcpy split over the pool (memory bandwidth, not one core, is then the limit).
void ParallelCopy(char* dst, const char* src, std::size_t bytes) {
  constexpr std::size_t kPiece = std::size_t(1) << 20;
  const std::size_t pieces = (bytes + kPiece - 1) / kPiece;
  ParallelFor(pieces, 0, 1, [&](std::size_t begin, std::size_t end) {
    const std::size_t a = begin * kPiece, b = std::min(bytes, end * kPiece);
    std::memcpy(dst + a, src + a, b - a);
  });
}

}  // namespace

void StagedUpload(void* dst, const void* src, std::size_t bytes, cudaStream_t stream) {
  Stager& s = Instance();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.Ensure();
  int h = 0;
  for (std::size_t off = 0; off < bytes; off += kSlice, h ^= 1) {
    const std::size_t n = std::min(kSlice, bytes - off);
    LWFM_CUDA_CHECK(cudaEventSynchronize(s.free[h]));  // its previous DMA has finished
    ParallelCopy(s.half[h], static_cast<const char*>(src) + off, n);
    LWFM_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(dst) + off, s.half[h], n, cudaMemcpyHostToDevice, stream));
    LWFM_CUDA_CHECK(cudaEventRecord(s.free[h], stream));
  }
}

void StagedDownload(void* dst, const void* src, std::size_t bytes, cudaStream_t stream) {
  // The producing kernels finish before the buffer is locked: other threads' copies need not
  // wait for them.
  LWFM_CUDA_CHECK(cudaStreamSynchronize(stream));
  Stager& s = Instance();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.Ensure();
  // Slice k's DMA overlaps the host's copy-out of slice k - 1.
  std::size_t pendingOff = 0, pendingBytes = 0;
  int pendingHalf = 0, h = 0;
  for (std::size_t off = 0; off < bytes; off += kSlice, h ^= 1) {
    const std::size_t n = std::min(kSlice, bytes - off);
    // An upload on another stream may still be reading this half (StagedUpload returns
    // before its last slice has left).
    LWFM_CUDA_CHECK(cudaEventSynchronize(s.free[h]));
    LWFM_CUDA_CHECK(cudaMemcpyAsync(s.half[h], static_cast<const char*>(src) + off, n, cudaMemcpyDeviceToHost, stream));
    LWFM_CUDA_CHECK(cudaEventRecord(s.free[h], stream));
    if (pendingBytes) {
      LWFM_CUDA_CHECK(cudaEventSynchronize(s.free[pendingHalf]));
      ParallelCopy(static_cast<char*>(dst) + pendingOff, s.half[pendingHalf], pendingBytes);
    }
    pendingOff = off;
    pendingBytes = n;
    pendingHalf = h;
  }
  if (pendingBytes) {
    LWFM_CUDA_CHECK(cudaEventSynchronize(s.free[pendingHalf]));
    ParallelCopy(static_cast<char*>(dst) + pendingOff, s.half[pendingHalf], pendingBytes);
  }
}

}  // namespace cuda
}  // namespace lwfm
