// Memory for the copies async calls make of their inputs (arg_readers.h), reused across calls.
// Fresh pages are what a large copy costs: on the benchmark VM a 96 MB copy into new memory
// took 100-250 ms (page faults and kernel zeroing) against 6-16 ms into memory touched before,
// and glibc returns blocks above 32 MB to the kernel on free. So released blocks of 1 MiB or
// more are kept, at most kMaxRetained bytes in all (oldest dropped first), and reused by a
// later copy of up to their size; smaller blocks go back to malloc, which reuses them itself.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

namespace lwfm {

class CopyPool {
 public:
  static constexpr std::size_t kMinPooled = std::size_t(1) << 20;
  static constexpr std::size_t kMaxRetained = std::size_t(256) << 20;

  static CopyPool& Instance() {
    static CopyPool* pool = new CopyPool();  // never destroyed: workers may release at exit
    return *pool;
  }

  // At least `bytes` bytes (uninitialised); *capacity receives the block's size.
  void* Acquire(std::size_t bytes, std::size_t* capacity) {
    if (bytes >= kMinPooled) {
      std::lock_guard<std::mutex> lock(mutex_);
      // Smallest kept block that fits, and not more than twice the request (a huge block
      // stays for a huge request).
      std::size_t best = free_.size();
      for (std::size_t i = 0; i < free_.size(); ++i) {
        const std::size_t c = free_[i].capacity;
        if (c >= bytes && c / 2 <= bytes && (best == free_.size() || c < free_[best].capacity)) best = i;
      }
      if (best != free_.size()) {
        Block b = free_[best];
        free_.erase(free_.begin() + std::ptrdiff_t(best));
        retained_ -= b.capacity;
        *capacity = b.capacity;
        return b.data;
      }
    }
    void* p = std::malloc(bytes == 0 ? 1 : bytes);
    if (p == nullptr) throw std::bad_alloc();
    *capacity = bytes;
    return p;
  }

  void Release(void* data, std::size_t capacity) {
    if (data == nullptr) return;
    if (capacity < kMinPooled || capacity > kMaxRetained) {
      std::free(data);
      return;
    }
    std::vector<void*> drop;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      free_.push_back(Block{data, capacity});
      retained_ += capacity;
      while (retained_ > kMaxRetained) {
        retained_ -= free_.front().capacity;
        drop.push_back(free_.front().data);
        free_.erase(free_.begin());
      }
    }
    for (void* p : drop) std::free(p);
  }

 private:
  struct Block {
    void* data;
    std::size_t capacity;
  };
  std::mutex mutex_;
  std::vector<Block> free_;  // oldest first
  std::size_t retained_ = 0;
};

}  // namespace lwfm
