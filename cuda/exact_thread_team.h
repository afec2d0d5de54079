// Host-only team of real threads for SolveExact (exact_assignment.cuh): each member writes its
// candidate to a slot, a barrier, every member merges all slots, a second barrier (a fast
// member's next candidate must not overwrite a slot that a slow one still reads). Running the
// search with it checks on the CPU that the warp kernel's sync placement is race-free.
#pragma once

#include <thread>
#include <vector>

#include "auction_thread_team.h"
#include "exact_assignment.cuh"

namespace lwfm {
namespace exact {

struct ThreadTeam {
  int member, members;
  auction::Barrier* barrier;
  Candidate* slots;
  int rank() const { return member; }
  int size() const { return members; }
  Candidate reduce(const Candidate& c) {
    slots[member] = c;
    barrier->wait();
    Candidate r = slots[0];
    for (int k = 1; k < members; ++k) r = Merge(r, slots[k]);
    barrier->wait();
    return r;
  }
  void sync() { barrier->wait(); }
};

// Solves one problem with `members` threads; false if the members disagree (a protocol bug)
// or the search failed.
inline bool SolveExactWithThreads(int members, const ExactState& st, int rows, int cols) {
  auction::Barrier barrier(members);
  std::vector<Candidate> slots(size_t(members), NoCandidate());
  std::vector<int> results(size_t(members), 0);
  std::vector<std::thread> threads;
  for (int m = 0; m < members; ++m) {
    threads.emplace_back([&, m] {
      ThreadTeam team{m, members, &barrier, slots.data()};
      results[m] = SolveExact(team, st, rows, cols) ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  for (int r : results)
    if (r != results[0]) return false;
  return results[0] != 0;
}

}  // namespace exact
}  // namespace lwfm
