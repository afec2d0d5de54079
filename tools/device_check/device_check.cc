// Test-and-benchmark executable for scripts/device-check.sh: runs on a GPU machine without
// Node. Checks the GPU auction against the exact CPU solver (and against the same auction
// code run on the host, Gauss-Seidel or Jacobi as the kernel: assignments must be identical), the GPU head against its
// CPU emulation (head_host.h, itself checked against a literal docs/computation.md implementation in npm test), then
// times the issue-5 workloads and prints one table. Exits 0 with a message when no device is usable, 1 when a
// correctness check fails.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "auction_host.h"
#include "core/assignment.h"
#include "core/head.h"
#include "core/thread_pool.h"
#include "cuda_engine.h"
#include "cuda_head.h"
#include "exact_assignment.cuh"
#include "head_host.h"

using namespace lwfm;
using Clock = std::chrono::steady_clock;

namespace {

struct Row {
  std::string name, result, time, target;
};
std::vector<Row> table;
bool failed = false;

// Each row is also printed as soon as it exists, so a crash later in the run keeps what was measured.
void AddRow(Row r) {
  std::printf("%s | %s | %s | %s\n", r.name.c_str(), r.time.c_str(), r.target.c_str(), r.result.c_str());
  std::fflush(stdout);
  table.push_back(std::move(r));
}

double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

std::string Fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

enum class Kind { kCosine, kUniform, kTies };

// Cosine-style costs 1 - cos of random 8-dim vectors (like the head's), uniform [0, 2), or
// tie-heavy integers 0..2. Filled in parallel: a million 9x9 problems take a while.
std::vector<float> MakeCosts(Kind kind, int64_t batch, int rows, int cols, uint32_t seed) {
  std::vector<float> c(size_t(batch) * rows * cols);
  const int64_t per = int64_t(rows) * cols;
  ParallelFor(size_t(batch), 0, 4096, [&](size_t begin, size_t end) {
    std::mt19937 g(seed + uint32_t(begin));
    std::normal_distribution<float> N(0, 1);
    std::uniform_real_distribution<float> U(0, 2);
    std::uniform_int_distribution<int> T(0, 2);
    std::vector<float> a(size_t(rows) * 8), b(size_t(cols) * 8);
    for (size_t p = begin; p < end; ++p) {
      float* dst = c.data() + p * per;
      if (kind == Kind::kUniform) {
        for (int64_t k = 0; k < per; ++k) dst[k] = U(g);
      } else if (kind == Kind::kTies) {
        for (int64_t k = 0; k < per; ++k) dst[k] = float(T(g));
      } else {
        for (auto* v : {&a, &b})
          for (size_t k = 0; k < v->size(); k += 8) {
            float n = 0;
            for (int d = 0; d < 8; ++d) n += ((*v)[k + d] = N(g)) * (*v)[k + d];
            n = std::sqrt(n);
            for (int d = 0; d < 8; ++d) (*v)[k + d] /= n;
          }
        for (int i = 0; i < rows; ++i)
          for (int j = 0; j < cols; ++j) {
            float d = 0;
            for (int k = 0; k < 8; ++k) d += a[i * 8 + k] * b[j * 8 + k];
            dst[i * cols + j] = 1 - d;
          }
      }
    }
  });
  return c;
}

// Auction correctness on `check` problems: valid, within the bound of the exact optimum,
// identical to the host run of the same code.
// maximize: the GPU maximizes the generated costs; every check then runs on their negation.
void CheckAuction(const char* label, Kind kind, int64_t batch, int rows, int cols, const char* kernel,
                  bool maximize = false) {
  const std::vector<float> generated = MakeCosts(kind, batch, rows, cols, 7 + rows);
  std::vector<float> c = generated;
  if (maximize)
    for (float& v : c) v = -v;
  std::vector<int32_t> gpu(size_t(batch) * rows), exact(size_t(batch) * rows);
  std::vector<uint8_t> conv(static_cast<size_t>(batch));
  cuda::GpuAssignmentTimings t;
  cuda::SolveAssignmentsGpuWith(kernel, generated.data(), batch, rows, cols, gpu.data(), conv.data(), &t, maximize);
  std::vector<AssignStatus> st(static_cast<size_t>(batch));
  SolveAssignmentBatch(c.data(), size_t(batch), rows, cols, false, 0, exact.data(), st.data());
  int64_t unconverged = 0, invalid = 0, overBound = 0, differsFromHost = 0;
  double worst = 0;
  auction::HostAuctionWorkspace ws;
  std::vector<int32_t> host(static_cast<size_t>(rows));
  const bool isExact = std::string(kernel).rfind("exact", 0) == 0;
  for (int64_t b = 0; b < batch; ++b) {
    const float* m = c.data() + b * rows * cols;
    if (!conv[b]) {
      ++unconverged;
      continue;
    }
    std::vector<bool> used(static_cast<size_t>(cols));
    double tg = 0, te = 0;
    bool ok = true;
    for (int i = 0; i < rows; ++i) {
      const int j = gpu[b * rows + i];
      if (j < 0 || j >= cols || used[j])
        ok = false;
      else
        used[j] = true, tg += m[i * cols + j];
      te += m[i * cols + exact[b * rows + i]];
    }
    if (!ok) {
      ++invalid;
      continue;
    }
    double bound = 0;
    if (isExact) {
      // The same search on the host: identical assignment; the optimum up to float sums.
      std::vector<double> v(cols), sh(cols);
      std::vector<int32_t> path(cols), r4c(cols);
      std::vector<uint8_t> scanned(cols);
      const exact::ExactState es{generated.data() + b * rows * cols,
                                 cols,
                                 maximize ? -1.0f : 1.0f,
                                 v.data(),
                                 sh.data(),
                                 path.data(),
                                 scanned.data(),
                                 r4c.data(),
                                 host.data()};
      exact::SerialTeam team;
      exact::SolveExact(team, es, rows, cols);
      bound = 1e-9 * std::max(1.0, std::fabs(te)) * rows;
    } else {
      auction::SolveAuctionHost(m, rows, cols, host.data(), &bound, ws, std::string(kernel) == "block");
    }
    if (!std::equal(host.begin(), host.end(), gpu.begin() + b * rows)) ++differsFromHost;
    worst = std::max(worst, tg - te);
    if (tg - te > bound + 1e-9) ++overBound;
  }
  const bool good = invalid == 0 && overBound == 0 && unconverged == 0 && differsFromHost == 0;
  failed = failed || !good;
  char res[256];
  std::snprintf(res, sizeof res, "%s: max excess %.2e, unconverged %lld, invalid %lld, >bound %lld, !=host %lld",
                good ? "PASS" : "FAIL", worst, (long long)unconverged, (long long)invalid, (long long)overBound,
                (long long)differsFromHost);
  AddRow({std::string(isExact ? "exact " : "auction ") + label + (maximize ? " maximize" : "") + " [" + kernel + "]",
          res, Fmt("%.3f ms kernel", t.kernelMs), ""});
}

void BenchAuction(const char* label, int64_t batch, int n, const char* kernel, double targetMs,
                  const char* targetText) {
  const std::vector<float> c = MakeCosts(Kind::kCosine, batch, n, n, 99);
  std::vector<int32_t> out(size_t(batch) * n);
  std::vector<uint8_t> conv(static_cast<size_t>(batch));
  cuda::GpuAssignmentTimings warm, t;
  cuda::SolveAssignmentsGpuWith(kernel, c.data(), std::min<int64_t>(batch, 1024), n, n, out.data(), conv.data(), &warm);
  const auto a = Clock::now();
  cuda::SolveAssignmentsGpuWith(kernel, c.data(), batch, n, n, out.data(), conv.data(), &t);
  const double wall = Ms(a, Clock::now());
  int64_t unconverged = 0;
  for (uint8_t v : conv) unconverged += v ? 0 : 1;
  // Exact CPU solver, all threads, same problems.
  std::vector<AssignStatus> st(static_cast<size_t>(batch));
  std::vector<int32_t> ex(size_t(batch) * n);
  const auto b0 = Clock::now();
  SolveAssignmentBatch(c.data(), size_t(batch), n, n, false, 0, ex.data(), st.data());
  const double cpu = Ms(b0, Clock::now());
  // Every timed result is checked too (a batch this size crosses the staged copies' 16 MiB
  // slices and the 256 MiB chunks): a valid permutation whose total is the CPU optimum's
  // (exact kernels, up to float sums) or within the auction's bound (3.8e-6 for these costs).
  int64_t wrong = 0;
  const bool isExact = std::string(kernel).rfind("exact", 0) == 0;
  for (int64_t b = 0; b < batch; ++b) {
    if (!conv[b]) continue;
    const float* m = c.data() + b * n * n;
    uint64_t seen[2] = {0, 0};
    double tg = 0, te = 0;
    bool ok = true;
    for (int i = 0; i < n; ++i) {
      const int j = out[b * n + i];
      if (j < 0 || j >= n || (seen[j >> 6] >> (j & 63) & 1)) {
        ok = false;
        break;
      }
      seen[j >> 6] |= uint64_t(1) << (j & 63);
      tg += m[i * n + j];
      te += m[i * n + ex[b * n + i]];
    }
    const double tolerance = isExact ? 1e-9 * std::max(1.0, std::fabs(te)) * n : 1e-5;
    if (!ok || tg - te > tolerance || te - tg > 1e-9 * std::max(1.0, std::fabs(te)) * n) ++wrong;
  }
  failed = failed || wrong != 0 || unconverged != 0;
  char res[260];
  std::snprintf(res, sizeof res,
                "%s: %.3f us/problem kernel; host-to-host %.1f ms; CPU exact (%d threads) %.1f ms; unconverged %lld, "
                "not optimal %lld",
                wrong == 0 && unconverged == 0 ? "PASS" : "FAIL", t.kernelMs * 1000.0 / batch, wall, HardwareThreads(),
                cpu, (long long)unconverged, (long long)wrong);
  AddRow({std::string(label) + " [" + kernel + "]", res, Fmt("%.3f ms kernel", t.kernelMs),
          std::string(targetText) + (t.kernelMs <= targetMs ? " (met)" : " (missed)")});
}

HeadConfig Config(const std::vector<int>& channels, int F, float weight, int topK, bool mlp, std::mt19937& g) {
  HeadConfig cfg;
  cfg.channels = channels;
  cfg.feature_size = F;
  cfg.matcher_weight = weight;
  cfg.top_k = topK;
  if (mlp) {
    std::normal_distribution<float> N(0, 1);
    for (int c : channels) {
      for (int w = 0; w < 2; ++w) {
        std::vector<float>& m = (w == 0 ? cfg.w1 : cfg.w2).emplace_back(size_t(c) * (c / 2));
        const float sd = 1.0f / std::sqrt(float(w == 0 ? c : c / 2));
        for (float& v : m) v = N(g) * sd;
      }
    }
  }
  return cfg;
}

// Non-negative features with a class signal, as a backbone gives.
void Features(int count, int CP, int way, const std::vector<float>& proto, std::vector<float>& out,
              std::vector<int32_t>* labels, std::mt19937& g) {
  std::normal_distribution<float> N(0, 1);
  out.resize(size_t(count) * CP);
  for (int n = 0; n < count; ++n) {
    const int k = n % way;
    if (labels) labels->push_back(k);
    for (int e = 0; e < CP; ++e) out[size_t(n) * CP + e] = std::max(0.0f, proto[size_t(k) * CP + e] + 0.8f * N(g));
  }
}

// A synthetic episode: head configuration with weights, support features with labels, query
// features.
struct Episode {
  HeadConfig cfg;
  std::vector<float> sup, qry;
  std::vector<int32_t> labels;
  int S = 0, Q = 0;
  Episode(const Episode&) = delete;
  Episode(const std::vector<int>& channels, int F, int way, int shots, int queries, float weight, int topK, bool mlp,
          uint32_t seed)
      : S(way * shots), Q(queries) {
    std::mt19937 g(seed);
    cfg = Config(channels, F, weight, topK, mlp, g);
    const int CP = cfg.total_channels() * cfg.pixels();
    std::normal_distribution<float> N(0, 1);
    std::vector<float> proto(size_t(way) * CP);
    for (float& v : proto) v = N(g);
    Features(S, CP, way, proto, sup, &labels, g);
    Features(Q, CP, way, proto, qry, nullptr, g);
  }
};

// Smallest gap, over taps, between the best and the second-best assignment total of one
// (support, query) pair, with the costs of docs/computation.md §3.3 computed in double from the features
// (brute force over all permutations; P = 9). A float32 engine computes the costs to about
// 1e-7, so where this gap is that small it may take either assignment: the GPU and the CPU
// engines can then both be right to float32 precision and still differ in the logit.
double AssignmentGap(const HeadConfig& cfg, const float* sup, const float* qry) {
  const int P = cfg.pixels(), C = cfg.total_channels();
  if (P != 9) return INFINITY;
  auto centered = [&](const float* x) {
    std::vector<double> out(size_t(C) * P);
    for (int p = 0; p < P; ++p) {
      double mean = 0;
      for (int c = 0; c < C; ++c) mean += x[c * P + p];
      mean /= C;
      for (int c = 0; c < C; ++c) out[size_t(c) * P + p] = x[c * P + p] - mean;
    }
    return out;
  };
  const std::vector<double> xs = centered(sup), xq = centered(qry);
  double gap = INFINITY;
  int offset = 0;
  for (int Cl : cfg.channels) {
    double K[9][9];
    for (int i = 0; i < P; ++i)
      for (int j = 0; j < P; ++j) {
        double d = 0, a = 0, b = 0;
        for (int c = offset; c < offset + Cl; ++c) {
          d += xs[size_t(c) * P + i] * xq[size_t(c) * P + j];
          a += xs[size_t(c) * P + i] * xs[size_t(c) * P + i];
          b += xq[size_t(c) * P + j] * xq[size_t(c) * P + j];
        }
        K[i][j] = 1.0 - (a > 0 && b > 0 ? d / std::sqrt(a * b) : 0.0);
      }
    offset += Cl;
    int perm[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    double best = INFINITY, second = INFINITY;
    do {
      double t = 0;
      for (int i = 0; i < 9; ++i) t += K[i][perm[i]];
      if (t < best)
        second = best, best = t;
      else if (t < second)
        second = t;
    } while (std::next_permutation(perm, perm + 9));
    gap = std::min(gap, second - best);
  }
  return gap;
}

// Compares two engines' logits: a (query, class) entry beyond 1e-4 is explained when one of
// the class's supports has an assignment gap below kNearTie for that query (AssignmentGap),
// about twice the float32 rounding of a 9-cost total; an argmax that differs is explained
// only if one of the two classes is such an entry. Returns the summary; *good = nothing
// unexplained.
constexpr double kNearTie = 1e-6;
std::string CompareLogits(const char* other, const HeadConfig& cfg, const std::vector<float>& a,
                          const std::vector<float>& b, int Q, int way, const std::vector<float>& sup,
                          const std::vector<int32_t>& labels, const std::vector<float>& qry, bool* good) {
  const int CP = cfg.total_channels() * cfg.pixels();
  double worst = 0, worstUnexplained = 0, smallestGap = INFINITY;
  int argmaxDiff = 0, nearTies = 0, unexplained = 0;
  for (int q = 0; q < Q; ++q) {
    int ba = 0, bb = 0;
    std::vector<int> explained;
    for (int k = 0; k < way; ++k) {
      const double d = std::fabs(double(a[size_t(q) * way + k]) - b[size_t(q) * way + k]);
      worst = std::max(worst, d);
      if (a[size_t(q) * way + k] > a[size_t(q) * way + ba]) ba = k;
      if (b[size_t(q) * way + k] > b[size_t(q) * way + bb]) bb = k;
      if (!(d <= 1e-4)) {
        double gap = INFINITY;
        for (size_t s = 0; s < labels.size(); ++s)
          if (labels[s] == k) gap = std::min(gap, AssignmentGap(cfg, sup.data() + s * CP, qry.data() + size_t(q) * CP));
        if (gap < kNearTie) {
          ++nearTies;
          smallestGap = std::min(smallestGap, gap);
          explained.push_back(k);
        } else {
          ++unexplained;
          worstUnexplained = std::max(worstUnexplained, d);
        }
      }
    }
    if (ba != bb) {
      ++argmaxDiff;
      const bool byTie = std::find(explained.begin(), explained.end(), ba) != explained.end() ||
                         std::find(explained.begin(), explained.end(), bb) != explained.end();
      if (!byTie) ++unexplained;
    }
  }
  *good = unexplained == 0 && std::isfinite(worst);
  char res[400];
  std::snprintf(res, sizeof res,
                "%s vs %s: max abs logit diff %.2e, argmax differs %d/%d; %d entr%s beyond 1e-4 at a float32 near-tie "
                "(assignment gap %.1e < 1e-6 in double), %d unexplained (max %.2e)",
                *good ? "PASS" : "FAIL", other, worst, argmaxDiff, Q, nearTies, nearTies == 1 ? "y" : "ies",
                std::isfinite(smallestGap) ? smallestGap : 0.0, unexplained, worstUnexplained);
  return res;
}

void CheckHead(const char* label, const std::vector<int>& channels, int F, int way, int shots, int Q, float weight,
               int topK, bool mlp) {
  const Episode ep(channels, F, way, shots, Q, weight, topK, mlp, 1234 + way);
  const HeadConfig& cfg = ep.cfg;
  const std::vector<float>&sup = ep.sup, &qry = ep.qry;
  const std::vector<int32_t>& labels = ep.labels;
  const std::vector<float> want = cuda::HeadScoreHost(cfg, way, sup.data(), labels.data(), way * shots, qry.data(), Q);
  cuda::CudaHead head(cfg, way, sup.data(), labels.data(), way * shots);
  std::vector<float> got(size_t(Q) * way);
  cuda::HeadTimings t;
  head.Score(qry.data(), Q, got.data(), &t);
  bool good = false;
  const std::string res = CompareLogits("host emulation", cfg, got, want, Q, way, sup, labels, qry, &good);
  failed = failed || !good;
  AddRow({std::string("head ") + label, res, Fmt("%.2f ms", t.totalMs), "within 1e-4, same argmax"});
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void BenchHead() {
  const int way = 1000, Q = 1000;
  const Episode ep({512, 512}, 3, way, 1, Q, 0.25f, 1, true, 77);
  const HeadConfig& cfg = ep.cfg;
  const std::vector<float>&sup = ep.sup, &qry = ep.qry;
  const std::vector<int32_t>& labels = ep.labels;
  const auto p0 = Clock::now();
  cuda::CudaHead head(cfg, way, sup.data(), labels.data(), way);
  const double prep = Ms(p0, Clock::now());
  std::vector<float> logits(size_t(Q) * way);
  cuda::HeadTimings t;
  head.Score(qry.data(), Q, logits.data(), &t);  // warm-up (allocations)
  std::vector<double> walls;
  for (int r = 0; r < 5; ++r) {
    const auto s0 = Clock::now();
    head.Score(qry.data(), Q, logits.data(), r == 4 ? &t : nullptr);
    walls.push_back(Ms(s0, Clock::now()));
  }
  const double wall = Median(walls);
  int correct = 0;
  for (int q = 0; q < Q; ++q) {
    int b = 0;
    for (int k = 1; k < way; ++k)
      if (logits[size_t(q) * way + k] > logits[size_t(q) * way + b]) b = k;
    correct += b == q % way;
  }
  char res[300];
  std::snprintf(res, sizeof res,
                "upload %.2f, prepare %.2f, gemm %.2f, pairs %.2f, classes %.2f, download %.2f ms; "
                "%d chunk(s); support prepare %.1f ms; accuracy on the synthetic episode %d/%d",
                t.uploadMs, t.prepareMs, t.gemmMs, t.pairMs, t.classMs, t.downloadMs, t.chunks, prep, correct, Q);
  AddRow({"head 1000-way 1-shot x 1000 queries [512,512] F=3 MLP", res, Fmt("%.2f ms host-to-host (median of 5)", wall),
          std::string("< 20 ms") + (wall < 20 ? " (met)" : " (missed)")});
}

// GPU head against the CPU engine (core/head.h) on the same episode: the measured crossover
// behind CUDA_AUTO_MIN_PAIRS, and a direct GPU-vs-CPU-engine logits check.
void Crossover(int way, int shots, int Q) {
  const Episode ep({512, 512}, 3, way, shots, Q, 0.25f, 1, true, 4242 + way * 7 + shots);
  const HeadConfig& cfg = ep.cfg;
  const std::vector<float>&sup = ep.sup, &qry = ep.qry;
  const std::vector<int32_t>& labels = ep.labels;
  const int S = way * shots;

  std::vector<float> gpu(size_t(Q) * way), cpu(size_t(Q) * way);
  std::vector<double> gpuMs;
  for (int r = 0; r < 6; ++r) {
    const auto a = Clock::now();
    cuda::CudaHead head(cfg, way, sup.data(), labels.data(), S);  // prepare included, as an episode pays it
    head.Score(qry.data(), Q, gpu.data());
    if (r > 0) gpuMs.push_back(Ms(a, Clock::now()));
  }
  auto cpuTime = [&](int threads) {
    HeadConfig o = cfg;
    o.threads = threads;
    HeadEngine engine(o);
    std::vector<double> ms;
    const int reps = int64_t(Q) * S > 100000 ? 2 : 5;
    for (int r = 0; r < reps + 1; ++r) {
      const auto a = Clock::now();
      auto prepared = engine.Prepare(sup.data(), S, labels.data());
      engine.Score(*prepared, qry.data(), Q, cpu.data());
      if (r > 0) ms.push_back(Ms(a, Clock::now()));
    }
    return Median(ms);
  };
  const double cpu2 = cpuTime(2), cpuAll = cpuTime(0);
  bool good = false;
  const std::string cmp = CompareLogits("CPU engine", cfg, gpu, cpu, Q, way, sup, labels, qry, &good);
  failed = failed || !good;
  char name[120], res[600];
  std::snprintf(name, sizeof name, "crossover %d-way %d-shot x%d (%lld pairs)", way, shots, Q, (long long)Q * S);
  std::snprintf(res, sizeof res, "%s; CPU 2 threads %.2f ms, CPU %d threads %.2f ms", cmp.c_str(), cpu2,
                HardwareThreads(), cpuAll);
  AddRow({name, res, Fmt("%.2f ms GPU episode", Median(gpuMs)), "GPU vs CPU time"});
}

void PrintTable() {
  size_t w0 = 4, w2 = 4, w3 = 6;
  for (const Row& r : table) {
    w0 = std::max(w0, r.name.size());
    w2 = std::max(w2, r.time.size());
    w3 = std::max(w3, r.target.size());
  }
  std::printf("\n| %-*s | %-*s | %-*s | %s |\n", int(w0), "check", int(w2), "time", int(w3), "target", "result");
  std::printf("|%s|%s|%s|---|\n", std::string(w0 + 2, '-').c_str(), std::string(w2 + 2, '-').c_str(),
              std::string(w3 + 2, '-').c_str());
  for (const Row& r : table)
    std::printf("| %-*s | %-*s | %-*s | %s |\n", int(w0), r.name.c_str(), int(w2), r.time.c_str(), int(w3),
                r.target.c_str(), r.result.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  const cuda::RuntimeStatus& s = cuda::QueryRuntime();
  if (!s.available) {
    std::printf(
        "lwfm_device_check: %s\nNothing to check on this machine (the GPU code is compiled; it needs a device).\n",
        s.reason.c_str());
    return 0;
  }
  for (const auto& d : s.devices)
    std::printf("device: %s, compute capability %d.%d, %.1f GiB\n", d.name.c_str(), d.major, d.minor,
                double(d.memoryBytes) / (1 << 30));
  try {
    const auto t0 = Clock::now();
    // Correctness.
    CheckAuction("9x9 cosine x20000", Kind::kCosine, 20000, 9, 9, "thread");
    CheckAuction("9x9 ties x20000", Kind::kTies, 20000, 9, 9, "thread");
    CheckAuction("9x9 cosine x20000", Kind::kCosine, 20000, 9, 9, "warp");
    CheckAuction("9x9 cosine x2000", Kind::kCosine, 2000, 9, 9, "block");
    CheckAuction("9x9 ties x2000", Kind::kTies, 2000, 9, 9, "block-gs");
    CheckAuction("25x25 uniform x5000", Kind::kUniform, 5000, 25, 25, "warp");
    CheckAuction("25x25 ties x5000", Kind::kTies, 5000, 25, 25, "warp");
    CheckAuction("49x49 cosine x2000", Kind::kCosine, 2000, 49, 49, "block");
    CheckAuction("49x49 ties x2000", Kind::kTies, 2000, 49, 49, "block");
    CheckAuction("49x49 cosine x2000", Kind::kCosine, 2000, 49, 49, "block-gs");
    CheckAuction("64x64 ties x1000", Kind::kTies, 1000, 64, 64, "block");
    CheckAuction("100x100 uniform x500", Kind::kUniform, 500, 100, 100, "block");
    CheckAuction("7x30 cosine x5000", Kind::kCosine, 5000, 7, 30, "warp");
    CheckAuction("9x9 uniform x5000", Kind::kUniform, 5000, 9, 9, "thread", true);
    CheckAuction("64x64 uniform x500", Kind::kUniform, 500, 64, 64, "block", true);
    CheckAuction("9x9 cosine x20000", Kind::kCosine, 20000, 9, 9, "exact-thread");
    CheckAuction("9x9 ties x20000", Kind::kTies, 20000, 9, 9, "exact-thread");
    CheckAuction("16x16 uniform x5000", Kind::kUniform, 5000, 16, 16, "exact-thread");
    CheckAuction("9x9 uniform x5000", Kind::kUniform, 5000, 9, 9, "exact-thread", true);
    CheckAuction("9x9 cosine x20000", Kind::kCosine, 20000, 9, 9, "exact-warp");
    CheckAuction("25x25 ties x5000", Kind::kTies, 5000, 25, 25, "exact-warp");
    CheckAuction("49x49 cosine x2000", Kind::kCosine, 2000, 49, 49, "exact-warp");
    CheckAuction("49x49 ties x2000", Kind::kTies, 2000, 49, 49, "exact-warp");
    CheckAuction("64x64 uniform x1000", Kind::kUniform, 1000, 64, 64, "exact-warp");
    CheckAuction("100x100 uniform x500", Kind::kUniform, 500, 100, 100, "exact-warp");
    CheckAuction("7x30 cosine x5000", Kind::kCosine, 5000, 7, 30, "exact-warp");
    CheckAuction("64x64 uniform x500", Kind::kUniform, 500, 64, 64, "exact-warp", true);
    CheckHead("5-way 1-shot x75 [512,512] F=3 MLP", {512, 512}, 3, 5, 1, 75, 0.25f, 1, true);
    CheckHead("5-way 5-shot x75 [512,512] F=3 MLP", {512, 512}, 3, 5, 5, 75, 0.25f, 1, true);
    CheckHead("20-way 2-shot x40 [64,128,256] F=3 no MLP topK 3", {64, 128, 256}, 3, 20, 2, 40, 1.0f, 3, false);
    CheckHead("5-way 1-shot x10 [64,64] F=5 MLP", {64, 64}, 5, 5, 1, 10, 0.25f, 1, true);
    CheckHead("5-way 1-shot x10 [512,512] matcherWeight 0", {512, 512}, 3, 5, 1, 10, 0.0f, 1, true);
    // Timings.
    const int64_t scale = quick ? 10 : 1;
    BenchAuction("1,000,000 9x9", 1000000 / scale, 9, "thread", 2.0, "< 2 ms kernel");
    BenchAuction("1,000,000 9x9", 1000000 / scale, 9, "warp", 2.0, "< 2 ms kernel");
    BenchAuction("100,000 25x25", 100000 / scale, 25, "warp", 1e9, "-");
    BenchAuction("100,000 49x49", 100000 / scale, 49, "block", 20.0, "< 20 ms kernel");
    BenchAuction("100,000 49x49", 100000 / scale, 49, "block-gs", 20.0, "< 20 ms kernel");
    BenchAuction("256 64x64", 256, 64, "block", 256 * 2e-3, "< 2 us/problem");
    BenchAuction("256 64x64", 256, 64, "block-gs", 256 * 2e-3, "< 2 us/problem");
    BenchAuction("10,000 100x100", 10000 / scale, 100, "block", 1e9, "-");
    BenchAuction("1,000,000 9x9", 1000000 / scale, 9, "exact-thread", 2.0, "< 2 ms kernel");
    BenchAuction("1,000,000 9x9", 1000000 / scale, 9, "exact-warp", 2.0, "< 2 ms kernel");
    BenchAuction("100,000 16x16", 100000 / scale, 16, "exact-thread", 1e9, "-");
    BenchAuction("100,000 16x16", 100000 / scale, 16, "exact-warp", 1e9, "-");
    BenchAuction("100,000 25x25", 100000 / scale, 25, "exact-warp", 1e9, "-");
    BenchAuction("100,000 49x49", 100000 / scale, 49, "exact-warp", 20.0, "< 20 ms kernel");
    BenchAuction("256 64x64", 256, 64, "exact-warp", 256 * 2e-3, "< 2 us/problem");
    BenchAuction("10,000 100x100", 10000 / scale, 100, "exact-warp", 1e9, "-");
    BenchHead();
    for (auto [way, shots, q] : std::vector<std::array<int, 3>>{
             {5, 1, 75}, {5, 5, 75}, {10, 1, 150}, {20, 1, 300}, {50, 1, 750}, {100, 1, 1000}, {200, 1, 1000}})
      Crossover(way, shots, q);
    std::printf("\ntotal %.1f s\n", Ms(t0, Clock::now()) / 1000);
  } catch (const std::exception& e) {
    std::printf("lwfm_device_check: error: %s\n", e.what());
    PrintTable();
    return 1;
  }
  PrintTable();
  std::printf("\n%s\n", failed ? "SOME CHECKS FAILED" : "all checks passed");
  return failed ? 1 : 0;
}
