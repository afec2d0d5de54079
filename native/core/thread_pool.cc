#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

namespace lwfm {
namespace {

struct Job {
  const std::function<void(std::size_t, std::size_t)>* body = nullptr;
  std::size_t count = 0;
  std::size_t grain = 1;
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::mutex mutex;
  std::condition_variable finished;
  std::exception_ptr error;

  // Claims chunks until none is left. Returns when this thread can claim no more.
  void Help() {
    for (;;) {
      const std::size_t begin = next.fetch_add(grain);
      if (begin >= count) return;
      const std::size_t end = std::min(count, begin + grain);
      try {
        (*body)(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!error) error = std::current_exception();
      }
      if (done.fetch_add(end - begin) + (end - begin) == count) {
        std::lock_guard<std::mutex> lock(mutex);
        finished.notify_all();
      }
    }
  }
};

class Pool {
 public:
  static Pool& Instance() {
    // Leaked on purpose: joining threads from a static destructor at process exit can
    // deadlock inside Node's teardown.
    static Pool* pool = new Pool();
    return *pool;
  }

  void Submit(const std::shared_ptr<Job>& job, int helpers) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (int i = 0; i < helpers; ++i) queue_.push_back(job);
    }
    if (helpers == 1)
      wake_.notify_one();
    else
      wake_.notify_all();
  }

  // Starts threads until there are `wanted` (or the system refuses one) and returns how many
  // there are. Threads start on demand, and a refusal (std::system_error, EAGAIN when the
  // process is out of threads or address space for their stacks) only means fewer helpers for
  // now: ParallelFor's caller works on its own job, so every job still finishes, and a later
  // call tries again. Never throws, so a job never fails (or aborts) for want of threads.
  int Grow(int wanted) {
    if (size_.load(std::memory_order_acquire) >= wanted) return wanted;
    std::lock_guard<std::mutex> lock(grow_mutex_);
    int size = size_.load(std::memory_order_relaxed);
    for (; size < wanted; ++size) {
      try {
        std::thread([this] { Loop(); }).detach();
      } catch (...) {
        break;
      }
    }
    size_.store(size, std::memory_order_release);
    return size;
  }

 private:
  void Loop() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return !queue_.empty(); });
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job->Help();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::mutex grow_mutex_;
  std::atomic<int> size_{0};  // threads started (detached; they live as long as the process)
};

}  // namespace

int HardwareThreads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void ParallelFor(std::size_t count, int threads, std::size_t grain,
                 const std::function<void(std::size_t, std::size_t)>& body) {
  if (count == 0) return;
  if (grain == 0) grain = 1;
  if (threads <= 0) threads = HardwareThreads();
  const std::size_t chunks = (count + grain - 1) / grain;
  static const int kPoolThreads = HardwareThreads() - 1;
  Pool& pool = Pool::Instance();
  const std::size_t wanted = std::min<std::size_t>(static_cast<std::size_t>(threads - 1), chunks - 1);
  const int helpers =
      wanted == 0 ? 0
                  : static_cast<int>(std::min<std::size_t>(wanted, static_cast<std::size_t>(pool.Grow(kPoolThreads))));
  if (helpers <= 0) {
    body(0, count);  // stays on the calling thread: no queue, no locks
    return;
  }
  auto job = std::make_shared<Job>();
  job->body = &body;
  job->count = count;
  job->grain = grain;
  pool.Submit(job, helpers);
  job->Help();
  {
    std::unique_lock<std::mutex> lock(job->mutex);
    job->finished.wait(lock, [&] { return job->done.load() == count; });
  }
  if (job->error) std::rethrow_exception(job->error);
}

}  // namespace lwfm
