// Host-only team of real threads with the GPU block team's protocol (per-member partial bids
// in shared slots, a barrier, every member merges all slots; sync = barrier). Running
// RunAuction with it checks on the CPU that the driver's sync placement is race-free and
// that a multi-member team makes exactly the serial team's bids.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "auction.cuh"

namespace lwfm {
namespace auction {

class Barrier {
 public:
  explicit Barrier(int count) : count_(count) {}
  void wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    const uint64_t gen = generation_;
    if (++waiting_ == count_) {
      waiting_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return generation_ != gen; });
    }
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int count_, waiting_ = 0;
  uint64_t generation_ = 0;
};

struct ThreadTeam {
  int member, members;
  Barrier* barrier;
  Bid* slots;
  std::mutex* atomics;  // stands in for shared-memory atomics
  int rank() const { return member; }
  int size() const { return members; }
  Bid reduce(const Bid& b) {
    slots[member] = b;
    barrier->wait();
    Bid r = slots[0];
    for (int k = 1; k < members; ++k) r = MergeBids(r, slots[k]);
    return r;
  }
  void sync() { barrier->wait(); }
  void atomicMaxU64(uint64_t* p, uint64_t v) {
    std::lock_guard<std::mutex> lock(*atomics);
    if (v > *p) *p = v;
  }
  void atomicAddInt(int* p, int v) {
    std::lock_guard<std::mutex> lock(*atomics);
    *p += v;
  }
};

// Solves one quantized problem with `members` threads (Gauss-Seidel RunAuction, or the
// Jacobi variant when `jacobi`); returns the driver's result.
inline bool RunAuctionWithThreads(int members, const AuctionState& st, int rows, int cols, const AuctionScaling& s,
                                  bool jacobi = false) {
  Barrier barrier(members);
  std::mutex atomics;
  std::vector<Bid> slots(size_t(members), EmptyBid());
  std::vector<uint64_t> bids(size_t(cols), 0);
  int active[2] = {0, 0};
  const JacobiState js{bids.data(), active};
  std::vector<int> results(size_t(members), 0);
  std::vector<std::thread> threads;
  for (int m = 0; m < members; ++m) {
    threads.emplace_back([&, m] {
      ThreadTeam team{m, members, &barrier, slots.data(), &atomics};
      const bool ok = jacobi ? RunAuctionJacobi(team, st, js, rows, cols, s) : RunAuction(team, st, rows, cols, s);
      results[m] = ok ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  for (int r : results)
    if (r != results[0]) return false;  // members disagreeing would be a protocol bug
  return results[0] != 0;
}

}  // namespace auction
}  // namespace lwfm
