// A cache of device memory blocks, so that a steady stream of episodes neither allocates nor
// frees device memory: cudaMalloc costs a driver call, and cudaFree synchronises the whole
// device, which from Node cost about 1.1 ms of a 4.1 ms 5-way episode (prepare, first score
// and dispose each allocated or freed).
//
// Pure host bookkeeping over a Backend, so that CI tests it without a GPU
// (test/native/block_cache_test.cc): the CUDA backend (device_pool.cu) maps Allocate/Free to
// cudaMalloc/cudaFree and Record/Wait to cudaEventRecord/cudaStreamWaitEvent.
//
// Stream safety without host synchronisation: a released block records an event on the
// stream that last used it; whoever acquires it next makes its own stream wait for that event
// (device-side), so kernels still running on the old stream finish before the new user's.
//
// Sizes: requests round up to a size class (powers of two up to 1 MiB, then 1 MiB steps), and
// a cached block serves a request of at least half its size (best fit), so small requests do
// not pin large blocks. Release: while owners (engines) exist, the cache keeps at most
// `release_threshold` bytes (beyond that the oldest cached blocks are freed); when the last
// owner is disposed it trims to `idle_threshold` bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <new>

namespace lwfm {
namespace cuda {

struct BlockCacheStats {
  std::uint64_t allocations = 0;  // Backend::Allocate calls that succeeded
  std::uint64_t frees = 0;        // Backend::Free calls
  std::uint64_t reuses = 0;       // requests served from the cache
  std::size_t cached_bytes = 0;   // held, free for reuse
  std::size_t live_bytes = 0;     // handed out
  int owners = 0;
};

template <class Backend>
class BlockCache {
 public:
  using Stream = typename Backend::Stream;
  using Event = typename Backend::Event;

  struct Block {
    void* ptr = nullptr;
    std::size_t bytes = 0;  // capacity (the size class)
    Event event{};          // recorded on release
  };

  explicit BlockCache(Backend backend, std::size_t release_threshold = std::size_t(512) << 20,
                      std::size_t idle_threshold = std::size_t(64) << 20)
      : backend_(backend), release_threshold_(release_threshold), idle_threshold_(idle_threshold) {}
  // Frees the cached blocks (the CUDA engine's cache is never destroyed: it would run after the
  // CUDA runtime's own teardown).
  ~BlockCache() { TrimLocked(0); }
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  static std::size_t SizeClass(std::size_t bytes) {
    constexpr std::size_t kMin = 512, kStep = std::size_t(1) << 20;
    if (bytes <= kMin) return kMin;
    if (bytes <= kStep) {
      std::size_t c = kMin;
      while (c < bytes) c <<= 1;
      return c;
    }
    return (bytes + kStep - 1) / kStep * kStep;
  }

  // A block of at least `bytes` usable on `stream`. Throws std::bad_alloc (or what the backend
  // throws) when the device is out of memory even after the cache was emptied.
  Block Acquire(std::size_t bytes, Stream stream) {
    const std::size_t want = SizeClass(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    auto best = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it)
      if (it->bytes >= want && it->bytes / 2 <= want && (best == free_.end() || it->bytes < best->bytes)) best = it;
    if (best != free_.end()) {
      Block b = *best;
      free_.erase(best);
      stats_.cached_bytes -= b.bytes;
      stats_.live_bytes += b.bytes;
      ++stats_.reuses;
      backend_.Wait(stream, b.event);
      return b;
    }
    Block b;
    b.bytes = want;
    b.ptr = backend_.Allocate(want);
    if (!b.ptr) {  // out of memory: give back what the cache holds, then try once more
      TrimLocked(0);
      b.ptr = backend_.Allocate(want);
      if (!b.ptr) throw std::bad_alloc();
    }
    b.event = backend_.CreateEvent();
    ++stats_.allocations;
    stats_.live_bytes += want;
    return b;
  }

  // Returns a block; `stream` is the last stream that used it (its pending work guards reuse).
  void Release(const Block& b, Stream stream) {
    if (!b.ptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    backend_.Record(b.event, stream);
    stats_.live_bytes -= b.bytes;
    stats_.cached_bytes += b.bytes;
    free_.push_back(b);  // newest last: trimming frees the oldest first
    TrimLocked(stats_.owners > 0 ? release_threshold_ : idle_threshold_);
  }

  // Engines register while they hold device memory; the last one out trims the cache.
  void AddOwner() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.owners;
  }
  void RemoveOwner() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stats_.owners > 0) --stats_.owners;
    if (stats_.owners == 0) TrimLocked(idle_threshold_);
  }

  // Frees every cached block (not the ones handed out).
  void Trim() {
    std::lock_guard<std::mutex> lock(mutex_);
    TrimLocked(0);
  }

  BlockCacheStats Stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 private:
  void TrimLocked(std::size_t keep) {
    while (stats_.cached_bytes > keep && !free_.empty()) {
      Block b = free_.front();
      free_.pop_front();
      stats_.cached_bytes -= b.bytes;
      backend_.DestroyEvent(b.event);
      backend_.Free(b.ptr);
      ++stats_.frees;
    }
  }

  Backend backend_;
  const std::size_t release_threshold_, idle_threshold_;
  mutable std::mutex mutex_;
  std::list<Block> free_;
  BlockCacheStats stats_;
};

}  // namespace cuda
}  // namespace lwfm
