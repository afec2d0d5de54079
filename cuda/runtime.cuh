// Internal helpers for the .cu files: error checking that maps "no device" errors to
// CudaError(unavailable) and everything else to CudaError(runtime).
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "cuda_engine.h"

namespace lwfm {
namespace cuda {

inline bool IsUnavailableError(cudaError_t e) {
  return e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver || e == cudaErrorInitializationError ||
         e == cudaErrorNotSupported || e == cudaErrorSystemDriverMismatch || e == cudaErrorCompatNotSupportedOnDevice ||
         e == cudaErrorDevicesUnavailable || e == cudaErrorNoKernelImageForDevice ||
         e == cudaErrorUnsupportedPtxVersion || e == cudaErrorSystemNotReady;
}

[[noreturn]] inline void ThrowCuda(cudaError_t e, const char* what) {
  throw CudaError(
      std::string("CUDA error in ") + what + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")",
      IsUnavailableError(e));
}

#define LWFM_CUDA_CHECK(expr)                    \
  do {                                           \
    cudaError_t lwfm_err_ = (expr);              \
    if (lwfm_err_ != cudaSuccess) {              \
      (void)cudaGetLastError();                  \
      ::lwfm::cuda::ThrowCuda(lwfm_err_, #expr); \
    }                                            \
  } while (0)

// Device memory for the engine's buffers comes from one process-wide BlockCache
// (block_cache.h, device_pool.cu): blocks released by one engine are reused by the next, so a
// steady stream of episodes neither cudaMallocs nor (synchronising) cudaFrees. Setting
// LWFM_SPM_CUDA_CACHE=0 in the environment allocates and frees every buffer directly instead.
struct PoolBlock {
  void* ptr = nullptr;
  size_t bytes = 0;
  cudaEvent_t event = nullptr;
};
PoolBlock PoolAcquire(size_t bytes, cudaStream_t stream);
void PoolRelease(const PoolBlock& block, cudaStream_t stream);
// Engines that hold device memory register, so that the last one out trims the cache.
void PoolAddOwner();
void PoolRemoveOwner();

// Non-blocking streams, reused instead of created and destroyed per engine (a released stream
// stays valid, so events recorded on it by buffers released later remain legal).
cudaStream_t AcquireStream();
void ReleaseStream(cudaStream_t stream);

// The stream on which buffers resized on this thread will be used (RAII; default: the legacy
// default stream). The engine sets it around the code that resizes its buffers.
cudaStream_t CurrentStream();
class StreamScope {
 public:
  explicit StreamScope(cudaStream_t stream);
  ~StreamScope();
  StreamScope(const StreamScope&) = delete;
  StreamScope& operator=(const StreamScope&) = delete;

 private:
  cudaStream_t previous_;
};

// Owning device buffer (RAII so every error path releases what it acquired). Remembers the
// stream it was sized on: releasing records the block's reuse event there.
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t count) { resize(count); }
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : block_(o.block_), stream_(o.stream_), count_(o.count_) {
    o.block_ = PoolBlock{};
    o.count_ = 0;
  }
  void resize(size_t count) {
    if (count <= count_ && block_.ptr) return;
    reset();
    if (count == 0) return;
    stream_ = CurrentStream();
    block_ = PoolAcquire(count * sizeof(T), stream_);
    count_ = count;
  }
  void reset() {
    if (block_.ptr) PoolRelease(block_, stream_);
    block_ = PoolBlock{};
    count_ = 0;
  }
  T* get() const { return static_cast<T*>(block_.ptr); }
  size_t size() const { return count_; }

 private:
  PoolBlock block_;
  cudaStream_t stream_ = nullptr;
  size_t count_ = 0;
};

}  // namespace cuda
}  // namespace lwfm
