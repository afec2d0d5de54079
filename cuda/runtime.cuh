// Internal helpers for the .cu files: error checking that maps "no device" errors to
// CudaError(unavailable) and everything else to CudaError(runtime).
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "cuda_engine.h"

namespace lwfm {
namespace cuda {

inline bool IsUnavailableError(cudaError_t e) {
  return e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver ||
         e == cudaErrorInitializationError || e == cudaErrorNotSupported ||
         e == cudaErrorSystemDriverMismatch || e == cudaErrorCompatNotSupportedOnDevice ||
         e == cudaErrorDevicesUnavailable || e == cudaErrorNoKernelImageForDevice ||
         e == cudaErrorUnsupportedPtxVersion || e == cudaErrorSystemNotReady;
}

[[noreturn]] inline void ThrowCuda(cudaError_t e, const char* what) {
  throw CudaError(std::string("CUDA error in ") + what + ": " + cudaGetErrorName(e) + " (" +
                      cudaGetErrorString(e) + ")",
                  IsUnavailableError(e));
}

#define LWFM_CUDA_CHECK(expr)                               \
  do {                                                      \
    cudaError_t lwfm_err_ = (expr);                         \
    if (lwfm_err_ != cudaSuccess) {                         \
      (void)cudaGetLastError();                             \
      ::lwfm::cuda::ThrowCuda(lwfm_err_, #expr);            \
    }                                                       \
  } while (0)

// Owning device buffer (RAII so every error path frees what it allocated).
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t count) { resize(count); }
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), count_(o.count_) {
    o.ptr_ = nullptr;
    o.count_ = 0;
  }
  void resize(size_t count) {
    if (count <= count_ && ptr_) return;
    reset();
    if (count == 0) return;
    void* p = nullptr;
    LWFM_CUDA_CHECK(cudaMalloc(&p, count * sizeof(T)));
    ptr_ = static_cast<T*>(p);
    count_ = count;
  }
  void reset() {
    if (ptr_) cudaFree(ptr_);
    ptr_ = nullptr;
    count_ = 0;
  }
  T* get() const { return ptr_; }
  size_t size() const { return count_; }

 private:
  T* ptr_ = nullptr;
  size_t count_ = 0;
};

}  // namespace cuda
}  // namespace lwfm
