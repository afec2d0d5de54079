// The CUDA side of the engine's device memory: a BlockCache (block_cache.h) over cudaMalloc /
// cudaFree with events for stream-ordered reuse, a pool of streams, and the thread's current
// stream. See runtime.cuh for the contract.
#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "block_cache.h"
#include "runtime.cuh"

namespace lwfm {
namespace cuda {
namespace {

struct CudaBackend {
  using Stream = cudaStream_t;
  using Event = cudaEvent_t;
  void* Allocate(size_t bytes) {
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, bytes);
    if (e == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      return nullptr;  // the cache empties itself and tries once more
    }
    LWFM_CUDA_CHECK(e);
    return p;
  }
  void Free(void* p) { cudaFree(p); }
  Event CreateEvent() {
    cudaEvent_t e = nullptr;
    LWFM_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    return e;
  }
  void DestroyEvent(Event e) { cudaEventDestroy(e); }
  void Record(Event e, Stream s) { LWFM_CUDA_CHECK(cudaEventRecord(e, s)); }
  void Wait(Stream s, Event e) { LWFM_CUDA_CHECK(cudaStreamWaitEvent(s, e, 0)); }
};

bool CacheEnabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("LWFM_SPM_CUDA_CACHE");
    return !(v && std::strcmp(v, "0") == 0);
  }();
  return enabled;
}

BlockCache<CudaBackend>& Cache() {
  static auto* cache = new BlockCache<CudaBackend>(CudaBackend{});  // never destroyed (see block_cache.h)
  return *cache;
}

struct StreamPool {
  std::mutex mutex;
  std::vector<cudaStream_t> free;
};
StreamPool& Streams() {
  static auto* pool = new StreamPool();
  return *pool;
}

thread_local cudaStream_t current_stream = nullptr;

}  // namespace

PoolBlock PoolAcquire(size_t bytes, cudaStream_t stream) {
  if (!CacheEnabled()) {
    PoolBlock b;
    LWFM_CUDA_CHECK(cudaMalloc(&b.ptr, bytes));
    b.bytes = bytes;
    return b;
  }
  auto b = Cache().Acquire(bytes, stream);
  return PoolBlock{b.ptr, b.bytes, b.event};
}

void PoolRelease(const PoolBlock& block, cudaStream_t stream) {
  if (!block.ptr) return;
  if (!CacheEnabled()) {
    cudaFree(block.ptr);
    return;
  }
  try {
    Cache().Release({block.ptr, block.bytes, block.event}, stream);
  } catch (const CudaError&) {
    // Called from destructors: a failed event record means the device is in trouble; the
    // block is leaked rather than risk reuse before its last kernels finished.
  }
}

void PoolAddOwner() {
  if (CacheEnabled()) Cache().AddOwner();
}
void PoolRemoveOwner() {
  if (CacheEnabled()) Cache().RemoveOwner();
}

cudaStream_t AcquireStream() {
  StreamPool& pool = Streams();
  {
    std::lock_guard<std::mutex> lock(pool.mutex);
    if (!pool.free.empty()) {
      cudaStream_t s = pool.free.back();
      pool.free.pop_back();
      return s;
    }
  }
  cudaStream_t s = nullptr;
  LWFM_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  return s;
}

void ReleaseStream(cudaStream_t stream) {
  if (!stream) return;
  StreamPool& pool = Streams();
  std::lock_guard<std::mutex> lock(pool.mutex);
  pool.free.push_back(stream);
}

cudaStream_t CurrentStream() { return current_stream; }
StreamScope::StreamScope(cudaStream_t stream) : previous_(current_stream) { current_stream = stream; }
StreamScope::~StreamScope() { current_stream = previous_; }

}  // namespace cuda
}  // namespace lwfm
