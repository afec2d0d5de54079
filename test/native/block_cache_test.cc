// Unit test of cuda/block_cache.h with a fake backend that records every call: what the CUDA
// engine's device memory does in the steady state (no allocation, no free), how blocks are
// reused across streams (the new stream waits for the old stream's event), and when memory is
// given back (beyond the release threshold, on the last owner's dispose, on out-of-memory).
#include "block_cache.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

using lwfm::cuda::BlockCache;

namespace {

int failures = 0;
#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                                   \
    }                                                                               \
  } while (0)

struct Log {
  int allocs = 0, frees = 0, events = 0, destroyed = 0;
  std::vector<std::string> calls;
  std::size_t device_free = std::size_t(1) << 40;  // bytes the fake device can still give
  std::map<void*, std::size_t> sizes;
};

struct FakeBackend {
  using Stream = int;
  using Event = int;
  Log* log;
  void* Allocate(std::size_t bytes) {
    if (bytes > log->device_free) return nullptr;
    log->device_free -= bytes;
    ++log->allocs;
    log->calls.push_back("alloc " + std::to_string(bytes));
    void* p = std::malloc(bytes);
    log->sizes[p] = bytes;
    return p;
  }
  void Free(void* p) {
    ++log->frees;
    log->calls.push_back("free");
    log->device_free += log->sizes[p];
    log->sizes.erase(p);
    std::free(p);
  }
  Event CreateEvent() { return ++log->events; }
  void DestroyEvent(Event) { ++log->destroyed; }
  void Record(Event e, Stream s) { log->calls.push_back("record " + std::to_string(e) + " on " + std::to_string(s)); }
  void Wait(Stream s, Event e) { log->calls.push_back("wait " + std::to_string(s) + " for " + std::to_string(e)); }
};

using Cache = BlockCache<FakeBackend>;

void SizeClasses() {
  CHECK(Cache::SizeClass(1) == 512);
  CHECK(Cache::SizeClass(513) == 1024);
  CHECK(Cache::SizeClass(1 << 20) == (1 << 20));
  CHECK(Cache::SizeClass((1 << 20) + 1) == (2 << 20));
  CHECK(Cache::SizeClass((5 << 20) - 3) == (5 << 20));
}

void SteadyStateEpisodes() {
  Log log;
  Cache cache(FakeBackend{&log});
  // An "episode": an engine that owns a few buffers of the same shapes each time.
  auto episode = [&](int stream) {
    cache.AddOwner();
    auto a = cache.Acquire(300 << 10, stream), b = cache.Acquire(4 << 20, stream), c = cache.Acquire(1000, stream);
    CHECK(a.bytes >= (300u << 10) && b.bytes >= (4u << 20) && c.bytes >= 1000);
    cache.Release(c, stream);
    cache.Release(b, stream);
    cache.Release(a, stream);
    cache.RemoveOwner();
  };
  episode(1);
  CHECK(log.allocs == 3);
  for (int i = 0; i < 100; ++i) episode(2 + i % 3);
  CHECK(log.allocs == 3);  // nothing allocated after the first episode
  CHECK(log.frees == 0);   // nor freed: a few MB stay under the idle threshold
  const auto s = cache.Stats();
  CHECK(s.reuses == 300);
  CHECK(s.live_bytes == 0);
  CHECK(s.cached_bytes == Cache::SizeClass(300 << 10) + Cache::SizeClass(4 << 20) + Cache::SizeClass(1000));
}

void CrossStreamReuseWaits() {
  Log log;
  Cache cache(FakeBackend{&log});
  auto a = cache.Acquire(4096, 7);
  cache.Release(a, 7);
  auto b = cache.Acquire(4000, 9);
  CHECK(b.ptr == a.ptr);
  // The release recorded the block's event on stream 7; the reuse made stream 9 wait for it.
  const auto& calls = log.calls;
  CHECK(calls.size() == 3);
  CHECK(calls[1] == "record " + std::to_string(a.event) + " on 7");
  CHECK(calls[2] == "wait 9 for " + std::to_string(a.event));
  cache.Release(b, 9);
}

void BestFitAndNoHugeBlocksForSmallRequests() {
  Log log;
  Cache cache(FakeBackend{&log});
  auto big = cache.Acquire(8 << 20, 0);
  auto mid = cache.Acquire(2 << 20, 0);
  cache.Release(big, 0);
  cache.Release(mid, 0);
  auto small = cache.Acquire(1024, 0);  // neither cached block: both more than twice the size
  CHECK(small.ptr != big.ptr && small.ptr != mid.ptr);
  auto fit = cache.Acquire(3 << 20, 0);  // 8 MiB is too big for 3 MiB (more than twice)
  CHECK(fit.ptr != big.ptr && fit.ptr != mid.ptr);
  auto fit2 = cache.Acquire((3 << 20) + (1 << 19), 0);  // 4 MiB class: the 8 MiB block serves it
  CHECK(fit2.ptr == big.ptr);
  auto fit3 = cache.Acquire(1 << 20, 0);  // 1 MiB: the 2 MiB block (best fit) serves it
  CHECK(fit3.ptr == mid.ptr);
  for (auto* b : {&small, &fit, &fit2, &fit3}) cache.Release(*b, 0);
}

void ThresholdsAndLastOwner() {
  Log log;
  Cache cache(FakeBackend{&log}, /*release_threshold=*/8 << 20, /*idle_threshold=*/2 << 20);
  cache.AddOwner();
  std::vector<Cache::Block> blocks;
  for (int i = 0; i < 6; ++i) blocks.push_back(cache.Acquire(2 << 20, 0));
  for (auto& b : blocks) cache.Release(b, 0);
  // 12 MiB released with an owner alive: the oldest beyond 8 MiB are freed.
  CHECK(cache.Stats().cached_bytes == (8u << 20));
  CHECK(log.frees == 2);
  cache.RemoveOwner();  // last owner: down to the idle threshold
  CHECK(cache.Stats().cached_bytes == (2u << 20));
  CHECK(log.frees == 5);
  CHECK(log.destroyed == 5);  // each freed block's event went with it
  cache.Trim();
  CHECK(cache.Stats().cached_bytes == 0 && log.frees == 6);
}

void OutOfMemoryEmptiesTheCacheFirst() {
  Log log;
  log.device_free = 6 << 20;
  Cache cache(FakeBackend{&log});
  auto a = cache.Acquire(4 << 20, 0);
  cache.Release(a, 0);                 // 4 MiB cached, 2 MiB left on the device
  auto b = cache.Acquire(5 << 20, 0);  // fails, trims the 4 MiB (device back to 6 MiB), retries
  CHECK(b.ptr != nullptr);
  CHECK(log.frees == 1);
  bool threw = false;
  try {
    (void)cache.Acquire(16 << 20, 0);
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  CHECK(threw);
  cache.Release(b, 0);
}

}  // namespace

int main() {
  SizeClasses();
  SteadyStateEpisodes();
  CrossStreamReuseWaits();
  BestFitAndNoHugeBlocksForSmallRequests();
  ThresholdsAndLastOwner();
  OutOfMemoryEmptiesTheCacheFirst();
  if (failures) {
    std::fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  std::puts("block cache: all checks passed");
  return 0;
}
