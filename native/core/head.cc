#include "core/head.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/assignment.h"
#include "core/gemm.h"
#include "core/matched_cosine.h"
#include "core/pair_attention.h"
#include "core/pixel_matching.h"
#include "core/thread_pool.h"

namespace lwfm {
namespace {

double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Correlation tiles hold S P x Qt P floats per tap; this bounds them (and so peak memory).
constexpr std::size_t kCorrelationBudgetBytes = 48u << 20;
constexpr int kMaxQueryTile = 128;
constexpr int kPairQueryBlock = 8;

int QueryTile(int support, int pixels, int taps, int queries) {
  const std::size_t per_query = static_cast<std::size_t>(support) * pixels * pixels * taps * sizeof(float);
  const std::size_t fit = std::max<std::size_t>(1, kCorrelationBudgetBytes / std::max<std::size_t>(1, per_query));
  return static_cast<int>(
      std::min<std::size_t>({fit, static_cast<std::size_t>(kMaxQueryTile), static_cast<std::size_t>(queries)}));
}

// Copies R_(q,s) (support pixel i, query pixel j) out of the correlation tile into r[i * p + j].
void LoadBlock(const float* corr, std::size_t ld, int p, int q, int s, float* r) {
  const float* base = corr + static_cast<std::size_t>(q) * p * ld + static_cast<std::size_t>(s) * p;
  for (int j = 0; j < p; ++j)
    for (int i = 0; i < p; ++i) r[i * p + j] = base[j * ld + i];
}

// x^T G x for symmetric n x n G, in double with independent partial sums (the compiler may
// not reassociate a single double chain, which would leave it latency-bound).
__attribute__((always_inline)) inline double QuadraticFormBody(const double* g, const double* x, int n) {
  double total = 0;
  for (int i = 0; i < n; ++i) {
    const double* gi = g + static_cast<std::size_t>(i) * n;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int j = 0;
    for (; j + 4 <= n; j += 4) {
      s0 += gi[j] * x[j];
      s1 += gi[j + 1] * x[j + 1];
      s2 += gi[j + 2] * x[j + 2];
      s3 += gi[j + 3] * x[j + 3];
    }
    for (; j < n; ++j) s0 += gi[j] * x[j];
    total += x[i] * ((s0 + s1) + (s2 + s3));
  }
  return total;
}

// sum_i w[i] rs[i] sum_j R[i, j] v[j] for one pair's block R inside the correlation tile
// (R[i, j] = base[j * ld + i]): the inner sums run over i, contiguous in the tile, so they
// vectorise and no transposed copy of the block is needed. acc: p doubles of scratch.
__attribute__((always_inline)) inline double WeightedBilinearBody(const float* base, std::size_t ld, int p,
                                                                  const double* v, const double* w, const float* rs,
                                                                  double* acc) {
  for (int i = 0; i < p; ++i) acc[i] = 0.0;
  for (int j = 0; j < p; ++j) {
    const float* rj = base + static_cast<std::size_t>(j) * ld;
    const double vj = v[j];
    for (int i = 0; i < p; ++i) acc[i] += static_cast<double>(rj[i]) * vj;
  }
  double total = 0;
  for (int i = 0; i < p; ++i) total += w[i] * static_cast<double>(rs[i]) * acc[i];
  return total;
}

double QuadraticFormScalar(const double* g, const double* x, int n) { return QuadraticFormBody(g, x, n); }
double WeightedBilinearScalar(const float* base, std::size_t ld, int p, const double* v, const double* w,
                              const float* rs, double* acc) {
  return WeightedBilinearBody(base, ld, p, v, w, rs, acc);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2,fma"))) double QuadraticFormAvx2(const double* g, const double* x, int n) {
  return QuadraticFormBody(g, x, n);
}
__attribute__((target("avx2,fma"))) double WeightedBilinearAvx2(const float* base, std::size_t ld, int p,
                                                                const double* v, const double* w, const float* rs,
                                                                double* acc) {
  return WeightedBilinearBody(base, ld, p, v, w, rs, acc);
}
#endif

struct GlobalFns {
  double (*quadratic_form)(const double* g, const double* x, int n);
  double (*weighted_bilinear)(const float* base, std::size_t ld, int p, const double* v, const double* w,
                              const float* rs, double* acc);
};

GlobalFns GlobalFor(SimdLevel level) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (level != SimdLevel::kScalar) return {QuadraticFormAvx2, WeightedBilinearAvx2};
#endif
  (void)level;
  return {QuadraticFormScalar, WeightedBilinearScalar};
}

// Sum of the k largest of v[0..n).
float TopKSum(float* v, int n, int k) {
  if (k == 1) return *std::max_element(v, v + n);
  std::partial_sort(v, v + k, v + n, [](float a, float b) { return a > b; });
  float s = 0;
  for (int i = 0; i < k; ++i) s += v[i];
  return s;
}

}  // namespace

struct HeadEngine::Workspace {
  EmbeddedImages query;
  EmbedScratch embed;
  std::vector<std::vector<float>> corr;
  std::vector<float> attention, match_score;

  std::size_t Bytes() const {
    std::size_t floats =
        embed.hidden.capacity() + embed.pack.capacity() + attention.capacity() + match_score.capacity();
    for (const auto& v : corr) floats += v.capacity();
    for (const auto* group :
         {&query.centered, &query.unit, &query.match, &query.match_norm, &query.norm, &query.cos_scale})
      for (const auto& v : *group) floats += v.capacity();
    for (const auto& v : query.gram) floats += 2 * v.capacity();
    return floats * sizeof(float);
  }
};

// Workspaces bigger than this (huge supports) are freed after the call instead of kept.
constexpr std::size_t kKeepWorkspaceBytes = 96u << 20;
constexpr std::size_t kMaxFreeWorkspaces = 4;

HeadEngine::HeadEngine(HeadConfig options) : model_(std::move(options)) {}
HeadEngine::~HeadEngine() = default;

std::unique_ptr<HeadEngine::Workspace> HeadEngine::AcquireWorkspace() const {
  std::lock_guard<std::mutex> lock(workspace_mutex_);
  if (free_workspaces_.empty()) return std::make_unique<Workspace>();
  auto ws = std::move(free_workspaces_.back());
  free_workspaces_.pop_back();
  return ws;
}

void HeadEngine::ReleaseWorkspace(std::unique_ptr<Workspace> ws) const {
  if (ws->Bytes() > kKeepWorkspaceBytes) return;
  std::lock_guard<std::mutex> lock(workspace_mutex_);
  if (free_workspaces_.size() < kMaxFreeWorkspaces) free_workspaces_.push_back(std::move(ws));
}

std::shared_ptr<const PreparedSupport> HeadEngine::Prepare(const float* features, int size, const int32_t* labels,
                                                           HeadTimings* timings) const {
  const SimdLevel level = ActiveSimd();
  return std::make_shared<PreparedSupport>(PrepareSupport(
      model_, features, size, labels, level, model_.config().threads, timings ? &timings->support : nullptr));
}

void HeadEngine::Score(const PreparedSupport& sup, const float* queries, int count, float* logits, HeadTimings* timings,
                       HeadTrace* trace) const {
  if (count <= 0) return;
  if (trace && count != 1) throw std::invalid_argument("Expected exactly one query when tracing a score");
  const SimdLevel level = ActiveSimd();
  const int threads = model_.config().threads;
  const int taps = model_.taps(), p = model_.pixels(), pp = p * p, s_count = sup.size, way = sup.way;
  const bool matching = model_.matching();
  const float matcher_weight = model_.config().matcher_weight;
  const float inv_t_attn = 1.0f / model_.config().temperature_attn;
  const double inv_t = 1.0 / model_.config().temperature;
  const int top_k = model_.config().top_k;
  const std::size_t image_floats = static_cast<std::size_t>(model_.total_channels()) * p;
  const DotFn dot = DotFor(level);
  const PairAttentionFn attention_fn = PairAttentionFor(level);
  const GlobalFns global = GlobalFor(level);
  const int tile = QueryTile(s_count, p, taps, count);

  std::unique_ptr<Workspace> ws_owner = AcquireWorkspace();
  Workspace& ws = *ws_owner;
  auto& corr = ws.corr;
  corr.resize(taps);
  // Per (query in tile, support, tap): a_s then a_q (2 P floats); per (query, support): m.
  auto& attention = ws.attention;
  auto& match_score = ws.match_score;

  if (trace) {
    trace->sigma.assign(static_cast<std::size_t>(s_count) * taps * p, -1);
    trace->similarity.assign(static_cast<std::size_t>(s_count) * taps * p, 0.0f);
    trace->tap_match.assign(static_cast<std::size_t>(s_count) * taps, 0.0f);
    trace->global.assign(way, 0.0);
    trace->matching.assign(way, 0.0);
  }

  for (int q0 = 0; q0 < count; q0 += tile) {
    const int qt = std::min(tile, count - q0);
    EmbedRequest request;
    request.want_gram = true;
    request.keep_centered = true;  // kept only so the next call reuses the buffer
    request.first_image = q0;
    EmbedImages(model_, queries + static_cast<std::size_t>(q0) * image_floats, qt, "query features", request, level,
                threads, timings ? &timings->query : nullptr, ws.query, ws.embed);
    const EmbeddedImages& q = ws.query;
    double t0 = Now();
    // All correlations of one tap are one product of unit vectors (docs/computation.md §4):
    // [Qt P, C_l] x [C_l, S P], the support side packed once in PrepareSupport.
    // corr[l][(q P + j) * ld + s P + i] = R_(q,s)[i, j].
    const std::size_t ld = static_cast<std::size_t>(s_count) * p;
    for (int l = 0; l < taps; ++l) {
      const int cl = model_.channels(l);
      PackedB repacked;
      const PackedB* packed = &sup.packed_unit[l];
      if (packed->level != level) {
        repacked = PackB(sup.images.unit[l].data(), s_count * p, cl, cl, level, threads);
        packed = &repacked;
      }
      corr[l].resize(static_cast<std::size_t>(qt) * p * ld);
      GemmABt(q.unit[l].data(), qt * p, cl, *packed, corr[l].data(), ld, GemmEpilogue::kNone, threads, &ws.embed.pack);
    }
    double t1 = Now();

    // Pass 1, per pair: attention weights and the matching score. Supports outer so one
    // support's vectors stay in cache across a block of queries.
    attention.resize(static_cast<std::size_t>(qt) * s_count * taps * 2 * p);
    match_score.resize(static_cast<std::size_t>(qt) * s_count);
    std::fill(match_score.begin(), match_score.end(), 0.0f);
    const int q_blocks = (qt + kPairQueryBlock - 1) / kPairQueryBlock;
    ParallelFor(static_cast<std::size_t>(s_count) * q_blocks, threads, 1, [&](std::size_t begin, std::size_t end) {
      std::vector<float> scratch(PairAttentionScratch(p)), cost(pp), cosines(p), block(pp);
      std::vector<int32_t> sigma(p);
      AssignWorkspace assign_ws;
      for (std::size_t task = begin; task < end; ++task) {
        const int s = static_cast<int>(task / q_blocks);
        const int qb = static_cast<int>(task % q_blocks);
        const int qa = qb * kPairQueryBlock, qz = std::min(qt, qa + kPairQueryBlock);
        // Tap outer, query inner: one support's match vectors of one tap (P x C_l floats, 18 KB
        // for C_l = 512) stay in L1 while the block's queries stream past.
        float best[kPairQueryBlock];
        std::fill(best, best + kPairQueryBlock, -INFINITY);
        for (int l = 0; l < taps; ++l) {
          const int cl = model_.channels(l);
          const float* fs = sup.images.cos_scale[l].data() + static_cast<std::size_t>(s) * p;
          const float* hs = matching ? sup.images.match[l].data() + static_cast<std::size_t>(s) * p * cl : nullptr;
          const float* ns = matching ? sup.images.match_norm[l].data() + static_cast<std::size_t>(s) * p : nullptr;
          for (int qi = qa; qi < qz; ++qi) {
            LoadBlock(corr[l].data(), ld, p, qi, s, block.data());
            const float* r = block.data();
            float* a = attention.data() + ((static_cast<std::size_t>(qi) * s_count + s) * taps + l) * 2 * p;
            attention_fn(r, p, inv_t_attn, scratch.data(), a, a + p);
            if (!matching) continue;
            // K[i, j] = 1 - cos(z_s_i, z_q_j): attention-free (docs/computation.md §4); cos from R and norms.
            const float* fq = q.cos_scale[l].data() + static_cast<std::size_t>(qi) * p;
            for (int i = 0; i < p; ++i)
              for (int j = 0; j < p; ++j) cost[i * p + j] = 1.0f - r[i * p + j] * fs[i] * fq[j];
            if (!MatchPixels(cost.data(), p, sigma.data(), assign_ws))
              throw std::runtime_error("internal error: assignment of a finite cost matrix failed");
            const float* hq = q.match[l].data() + static_cast<std::size_t>(qi) * p * cl;
            const float* nq = q.match_norm[l].data() + static_cast<std::size_t>(qi) * p;
            for (int i = 0; i < p; ++i)
              cosines[i] = dot(hs + static_cast<std::size_t>(i) * cl, hq + static_cast<std::size_t>(sigma[i]) * cl, cl);
            // docs/computation.md's 1e-8 guard on the attended norms: the attention-free cosine times
            // one factor per side, all 1 unless some a |w| < 1e-8 (tiny attention weights).
            if (!MatchedCosineFactorsAreOne(a, ns, p) || !MatchedCosineFactorsAreOne(a + p, nq, p))
              for (int i = 0; i < p; ++i)
                cosines[i] =
                    cosines[i] * MatchedCosineFactor(a[i], ns[i]) * MatchedCosineFactor(a[p + sigma[i]], nq[sigma[i]]);
            if (trace) {  // before TopKSum, which reorders cosines
              const std::size_t at = (static_cast<std::size_t>(s) * taps + l) * p;
              std::copy(sigma.begin(), sigma.end(), trace->sigma.begin() + at);
              std::copy(cosines.begin(), cosines.end(), trace->similarity.begin() + at);
            }
            const float tap_match = TopKSum(cosines.data(), p, top_k);
            if (trace) trace->tap_match[static_cast<std::size_t>(s) * taps + l] = tap_match;
            best[qi - qa] = std::max(best[qi - qa], tap_match);
          }
        }
        if (matching)
          for (int qi = qa; qi < qz; ++qi)
            match_score[static_cast<std::size_t>(qi) * s_count + s] = matcher_weight * best[qi - qa];
      }
    });
    double t2 = Now();

    // Pass 2, per (query, class): pooled global cosine without materialising S~ / Q~:
    // A_l = c sum_s Z_s a_s, B_l = c Z_q b with b = sum_s a_q^(s), c = 1 / (K P).
    ParallelFor(qt, threads, 1, [&](std::size_t begin, std::size_t end) {
      std::vector<double> b(p), v(p), acc(p);
      std::vector<double> w;
      for (std::size_t qi = begin; qi < end; ++qi) {
        for (int k = 0; k < way; ++k) {
          const auto& shots = sup.shots[k];
          const int kshots = static_cast<int>(shots.size()), kp = kshots * p;
          double aa = 0, ab = 0, bb = 0, m_sum = 0;
          w.resize(kp);
          for (int l = 0; l < taps; ++l) {
            std::fill(b.begin(), b.end(), 0.0);
            for (int a = 0; a < kshots; ++a) {
              const float* att = attention.data() + ((qi * s_count + shots[a]) * taps + l) * 2 * p;
              for (int i = 0; i < p; ++i) {
                w[a * p + i] = att[i];
                b[i] += att[p + i];
              }
            }
            const float* rq = q.norm[l].data() + qi * p;
            for (int j = 0; j < p; ++j) v[j] = b[j] * rq[j];
            for (int a = 0; a < kshots; ++a) {
              const int s = shots[a];
              const float* base = corr[l].data() + qi * p * ld + static_cast<std::size_t>(s) * p;
              const float* rs = sup.images.norm[l].data() + static_cast<std::size_t>(s) * p;
              ab += global.weighted_bilinear(base, ld, p, v.data(), w.data() + a * p, rs, acc.data());
            }
            bb += global.quadratic_form(q.gram[l].data() + qi * pp, b.data(), p);
            const double* gk = sup.class_gram[k][l].data();
            aa += global.quadratic_form(gk, w.data(), kp);
          }
          for (int a = 0; a < kshots; ++a) m_sum += match_score[qi * s_count + shots[a]];
          const double c = 1.0 / kp;
          const double g = (c * c * ab) / (std::max(c * std::sqrt(std::max(aa, 0.0)), 1e-8) *
                                           std::max(c * std::sqrt(std::max(bb, 0.0)), 1e-8));
          if (trace) {
            trace->global[k] = g;
            trace->matching[k] = m_sum / kshots;
          }
          logits[(static_cast<std::size_t>(q0) + qi) * way + k] = static_cast<float>((g + m_sum / kshots) * inv_t);
        }
      }
    });
    if (trace) {
      trace->attention.assign(attention.begin(), attention.begin() + static_cast<std::size_t>(s_count) * taps * 2 * p);
      trace->pair_match.assign(match_score.begin(), match_score.begin() + s_count);
    }
    double t3 = Now();
    if (timings) {
      timings->correlate += t1 - t0;
      timings->pairs += t2 - t1;
      timings->global += t3 - t2;
    }
  }
  ReleaseWorkspace(std::move(ws_owner));
}

}  // namespace lwfm
