// One process-wide pool of worker threads shared by every native entry point.
// Several AsyncWorkers may run ParallelFor at once (each from its own libuv thread);
// the caller always works on its own job too, so a job finishes even if every pool
// thread is busy with someone else's.
#pragma once

#include <cstddef>
#include <functional>

namespace lwfm {

// Number of hardware threads (at least 1).
int HardwareThreads();

// Runs body(begin, end) over [0, count) split into chunks of at most `grain` items, on at
// most `threads` threads (<= 0: all hardware threads). Blocks until every chunk is done;
// rethrows the first exception any chunk threw.
void ParallelFor(std::size_t count, int threads, std::size_t grain,
                 const std::function<void(std::size_t begin, std::size_t end)>& body);

}  // namespace lwfm
