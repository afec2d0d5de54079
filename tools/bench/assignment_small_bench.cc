// Single-thread microbenchmark of SolveAssignment on small square cosine-style costs
// (1 - cos of random 64-d Gaussian vectors, float32, values in [0, 2]), the head's workload.
// Build and run (from the repository root):
//   g++ -O3 -std=c++17 -Inative tools/bench/assignment_small_bench.cc native/core/assignment*.cc \
//       native/core/cpu_features.cc native/core/thread_pool.cc -lpthread -o /tmp/asb && /tmp/asb
// Prints, per n, the median (thread CPU time) over repeats of microseconds per problem and a checksum of the
// optimal totals (in double) so before/after builds can be compared for equality.
#include <algorithm>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "core/assignment.h"

int main(int argc, char** argv) {
  const int batch = 20000, repeats = 7, dim = 64;
  std::vector<int> sizes = {4, 9, 12, 16};
  if (argc > 1) sizes = {std::atoi(argv[1])};
  for (int n : sizes) {
    std::mt19937 gen(1234 + n);
    std::normal_distribution<double> g;
    std::vector<float> costs(static_cast<size_t>(batch) * n * n);
    std::vector<double> a(n * dim), b(n * dim);
    for (int m = 0; m < batch; ++m) {
      for (auto& x : a) x = g(gen);
      for (auto& x : b) x = g(gen);
      for (auto* v : {&a, &b})
        for (int i = 0; i < n; ++i) {
          double s = 0;
          for (int k = 0; k < dim; ++k) s += (*v)[i * dim + k] * (*v)[i * dim + k];
          for (int k = 0; k < dim; ++k) (*v)[i * dim + k] /= std::sqrt(s);
        }
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
          double d = 0;
          for (int k = 0; k < dim; ++k) d += a[i * dim + k] * b[j * dim + k];
          costs[(static_cast<size_t>(m) * n + i) * n + j] = static_cast<float>(1.0 - d);
        }
    }
    std::vector<int32_t> out(static_cast<size_t>(batch) * n);
    lwfm::AssignWorkspace ws;
    std::vector<double> times;
    for (int r = 0; r < repeats; ++r) {
      // Thread CPU time, not wall time: on a shared machine, time spent descheduled is noise.
      timespec t0, t1;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
      for (int m = 0; m < batch; ++m)
        lwfm::SolveAssignment(costs.data() + static_cast<size_t>(m) * n * n, n, n, false,
                              out.data() + static_cast<size_t>(m) * n, ws);
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
      times.push_back(((t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) * 1e-3) / batch);
    }
    std::sort(times.begin(), times.end());
    double checksum = 0;
    for (int m = 0; m < batch; ++m)
      for (int i = 0; i < n; ++i)
        checksum += costs[(static_cast<size_t>(m) * n + i) * n + out[static_cast<size_t>(m) * n + i]];
    std::printf("n=%2d  median %.3f us/problem (min %.3f)  checksum %.17g\n", n, times[repeats / 2], times[0],
                checksum);
  }
}
