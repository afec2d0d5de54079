// Per-pair and per-(query, class) steps of the LWFM-SPM head (docs/computation.md §3.2-3.4) as
// __host__ __device__ code: the GPU kernels and the CPU emulation (head_host.h, tested in
// npm test against an independent literal implementation) run these same functions.
//
// Inputs are what a tiled matrix product gives per tap l (docs/computation.md §4):
//   G_l[(s, i), (q, j)] = <e_s_i, e_q_j>, e = x / max(|x|, 1e-8) (x centered, per tap),
//   M_l[(s, i), (q, j)] = <û_s_i, û_q_j>, û = u / max(|u|, 1e-8), u = x + g_l(x),
// and the centered pixel norms |x|. From these:
//   - correlation R = <n_s_i, n_q_j> = G * f_s_i * f_q_j, f = max(|x|, 1e-8) / sqrt(|x|^2 + 1e-6);
//   - cost K = 1 - G * h_s_i * h_q_j, h = max(|x|, 1e-8) / |x| (0 for a zero vector): the cosine
//     without epsilon of §3.3 (h = 1 unless 0 < |x| < 1e-8; a zero vector gives cos 0);
//   - raw inner products <x_s_i, x_q_j> = G * max(|x_s_i|, 1e-8) * max(|x_q_j|, 1e-8);
//   - matched cosine cos(a_s u_i, a_q v_i) = M[i, sigma(i)] * MatchedCosineFactor(a_s[i], |u_i|) *
//     MatchedCosineFactor(a_q[sigma(i)], |v_i|) (positive homogeneity of g_l, §4; the factors,
//     core/matched_cosine.h, apply §3.3's 1e-8 guard to the attended norms and are 1 unless
//     a |u| < 1e-8).
// The global term never forms the C-vectors: with w_j = sum over shots of a_q[j],
//   A.B = sum_s sum_i a_s[i] sum_j w_j <x_s_i, x_q_j>, |B|^2 = w' Gram(q) w,
//   |A|^2 = sum_{s, s'} a_s' Gram(s, s') a_s', times the 1 / (K P) factors of the means.
#pragma once

#include <cmath>
#include <cstdint>

#include "auction.cuh"
#include "core/matched_cosine.h"
#include "exact_assignment.cuh"
#include "gpu_head_limits.h"
#include "hd.cuh"

namespace lwfm {
namespace cuda {

// Views of one query chunk's intermediate arrays (device or host memory).
struct PairViews {
  int S = 0, Qc = 0, P = 0, taps = 0, topK = 1;
  float temperatureAttn = 5, matcherWeight = 0;
  bool matching = false;
  bool auction = false;           // the per-pair auction (Pairs<kP, true>) instead of the exact search
  const float* G[kMaxTaps] = {};  // (S*P) x (Qc*P), row stride ld
  const float* M[kMaxTaps] = {};  // same layout; equals G when there is no MLP
  int64_t ld = 0;
  const float* supNorm[kMaxTaps] = {};       // [s*P + i]
  const float* qryNorm[kMaxTaps] = {};       // [q*P + j]
  const float* supMatchNorm[kMaxTaps] = {};  // |u| of M's rows, [s*P + i]; equals supNorm without an MLP
  const float* qryMatchNorm[kMaxTaps] = {};  // [q*P + j]
  float* aS = nullptr;                       // [((l*S + s)*Qc + q)*P + i]
  float* aQ = nullptr;                       // same layout, index j
  float* m = nullptr;                        // [s*Qc + q]: matcherWeight * max_l m_l (0 without matching)
};

// Per-thread scratch for one pair (local memory on the GPU).
template <int kP>
struct PairScratch {
  float R[kP * kP];
  float cosv[kP];
  // Exact assignment state (exact_assignment.cuh).
  double v[kP], shortest[kP];
  int32_t path[kP], row4col[kP], colForRow[kP];
  uint8_t scanned[kP];
};

// Extra per-thread scratch of the auction solver (auction.cuh), only in Pairs<kP, true>, so the
// default exact kernel's local memory stays as it was.
template <int kP>
struct AuctionScratch {
  int32_t cost[kP * kP];
  int64_t price[kP];
  int32_t owner[kP], stack[kP];
};

// The auction's optimum for the quantized P x P costs R (the design's auction-style Hungarian;
// within P * (cost range) * 2^-29 of the float optimum); false for non-finite costs or a run
// that hit its iteration cap.
template <int kP>
LWFM_HD bool SolvePairAuction(const float* R, int P, int32_t* colForRow, AuctionScratch<kP>& a) {
  double cmin = 0, cmax = 0;
  if (!auction::CostRange(R, int64_t(P) * P, &cmin, &cmax)) return false;
  const auction::AuctionScaling s = auction::ChooseScaling(cmin, cmax, P);
  for (int k = 0; k < P * P; ++k) a.cost[k] = auction::Quantize(R[k], s);
  const auction::AuctionState st{a.cost, a.price, a.owner, colForRow, a.stack};
  auction::SerialTeam team;
  return auction::RunAuction(team, st, P, P, s) && auction::IsPermutationPrefix(colForRow, P, P);
}

LWFM_HD float NormGuard(float n) { return n > kCosineNormGuard ? n : kCosineNormGuard; }
LWFM_HD float CorrelationFactor(float n) { return NormGuard(n) / sqrtf(n * n + 1e-6f); }
// G -> the cosine without epsilon: 1 for |x| >= 1e-8, 0 for a zero vector (whose G is 0 anyway).
LWFM_HD float CostFactor(float n) { return n >= kCosineNormGuard ? 1.0f : n > 0.0f ? kCosineNormGuard / n : 0.0f; }

// Standardize each column of R over rows (or each row over columns when byRow), divide by
// T_attn, softmax along the standardized axis, sum the softmaxes over the other axis.
// out[k] = sum over the other index of softmax(...)[k].
LWFM_HD void AttentionSums(const float* R, int P, float tAttn, bool byRow, float* out) {
  for (int k = 0; k < P; ++k) out[k] = 0.0f;
  for (int o = 0; o < P; ++o) {
    // Line o: entries R[k, o] (columns, support side) or R[o, k] (rows, query side).
    float mean = 0.0f;
    for (int k = 0; k < P; ++k) mean += byRow ? R[o * P + k] : R[k * P + o];
    mean /= float(P);
    float var = 0.0f;
    for (int k = 0; k < P; ++k) {
      const float d = (byRow ? R[o * P + k] : R[k * P + o]) - mean;
      var += d * d;
    }
    var /= float(P - 1);
    const float inv = 1.0f / (sqrtf(var + 1e-5f) * tAttn);
    float mx = -INFINITY;
    for (int k = 0; k < P; ++k) {
      const float z = ((byRow ? R[o * P + k] : R[k * P + o]) - mean) * inv;
      mx = z > mx ? z : mx;
    }
    float sum = 0.0f;
    for (int k = 0; k < P; ++k) sum += expf(((byRow ? R[o * P + k] : R[k * P + o]) - mean) * inv - mx);
    const float invSum = 1.0f / sum;
    for (int k = 0; k < P; ++k) out[k] += expf(((byRow ? R[o * P + k] : R[k * P + o]) - mean) * inv - mx) * invSum;
  }
}

// Sum of the topK largest of v[0..n) (topK <= n; v is clobbered).
LWFM_HD float TopKSum(float* v, int n, int topK) {
  float total = 0.0f;
  for (int t = 0; t < topK; ++t) {
    int best = 0;
    for (int k = 1; k < n; ++k)
      if (v[k] > v[best]) best = k;
    total += v[best];
    v[best] = -INFINITY;
  }
  return total;
}

// docs/computation.md §3.2 + §3.3 for one (query q, support s) pair, all taps: writes a_s, a_q per tap and
// m(q, s) = matcherWeight * max_l m_l. `a` (non-null with v.auction) runs the auction.
template <int kP>
LWFM_HD_NOINLINE void ProcessPair(const PairViews& v, int q, int s, PairScratch<kP>& w,
                                  AuctionScratch<kP>* a = nullptr) {
  const int P = v.P;
  float best = -INFINITY;
  bool solved = true;
  for (int l = 0; l < v.taps; ++l) {
    const float* g = v.G[l] + int64_t(s) * P * v.ld + int64_t(q) * P;
    const float* ns = v.supNorm[l] + int64_t(s) * P;
    const float* nq = v.qryNorm[l] + int64_t(q) * P;
    for (int i = 0; i < P; ++i) {
      const float fs = CorrelationFactor(ns[i]);
      for (int j = 0; j < P; ++j) w.R[i * P + j] = g[int64_t(i) * v.ld + j] * fs * CorrelationFactor(nq[j]);
    }
    const int64_t base = ((int64_t(l) * v.S + s) * v.Qc + q) * P;
    AttentionSums(w.R, P, v.temperatureAttn, false, v.aS + base);
    AttentionSums(w.R, P, v.temperatureAttn, true, v.aQ + base);
    if (!v.matching) continue;
    // Cost K = 1 - cos without epsilon (reuse R as the float cost matrix); attention-free (§4).
    for (int i = 0; i < P; ++i) {
      const float hs = CostFactor(ns[i]);
      for (int j = 0; j < P; ++j) w.R[i * P + j] = 1.0f - g[int64_t(i) * v.ld + j] * hs * CostFactor(nq[j]);
    }
    // Exact optimum (not the auction): the matched cosines below are not bounded by the
    // costs, so only the optimum itself reproduces the CPU's scores. Finite features can
    // still overflow to inf / NaN on the way (values near the float range): such a pair
    // gets a NaN matching term instead of a search over NaN costs.
    bool ok = exact::AllFinite(w.R, P, P, P);
    if (ok && a != nullptr) {
      ok = SolvePairAuction<kP>(w.R, P, w.colForRow, *a);  // solver 'auction', chosen by the user
    } else if (ok && kP == 9 && P == 9) {
      ok = exact::SolveExactFixed<9>(w.R, 1.0f, w.colForRow);  // registers: the common F = 3
    } else if (ok) {
      const exact::ExactState st{w.R, P, 1.0f, w.v, w.shortest, w.path, w.scanned, w.row4col, w.colForRow};
      exact::SerialTeam team;
      ok = exact::SolveExact(team, st, P, P);
    }
    if (!ok) {
      solved = false;
      continue;  // the attention sums of the other taps are still needed
    }
    const float* mm = v.M[l] + int64_t(s) * P * v.ld + int64_t(q) * P;
    const float* mns = v.supMatchNorm[l] + int64_t(s) * P;
    const float* mnq = v.qryMatchNorm[l] + int64_t(q) * P;
    for (int i = 0; i < P; ++i) {
      const int j = w.colForRow[i];
      w.cosv[i] = mm[int64_t(i) * v.ld + j] * MatchedCosineFactor(v.aS[base + i], mns[i]) *
                  MatchedCosineFactor(v.aQ[base + j], mnq[j]);
    }
    const float ml = TopKSum(w.cosv, P, v.topK);
    best = ml > best ? ml : best;
  }
  v.m[int64_t(s) * v.Qc + q] = !v.matching ? 0.0f : solved ? v.matcherWeight * best : NAN;
}

// Views for the class scores of one query chunk.
struct ScoreViews {
  int S = 0, Qc = 0, P = 0, taps = 0, way = 0;
  float temperature = 0.2f;
  const float* G[kMaxTaps] = {};
  int64_t ld = 0;
  const float* aS = nullptr;
  const float* aQ = nullptr;
  const float* m = nullptr;
  const float* supNorm[kMaxTaps] = {};
  const float* qryNorm[kMaxTaps] = {};
  const float* qryGram[kMaxTaps] = {};  // [(q*P + j)*P + j'] raw inner products (chunk-local q)
  const float* clsGram[kMaxTaps] = {};  // per class a (K_k P)^2 block at clsGramOffset[k]
  const int64_t* clsGramOffset = nullptr;
  const int32_t* memberStart = nullptr;  // way + 1 entries
  const int32_t* members = nullptr;      // support indices grouped by class
  float* logits = nullptr;               // [q*way + k] (chunk-local q)
};

// The configuration-derived fields of one query chunk's views (the GPU engine and its CPU
// emulation); callers set the array pointers.
inline PairViews PairViewsFor(const HeadConfig& cfg, int S, int Qc, int64_t ld) {
  PairViews v;
  v.S = S;
  v.Qc = Qc;
  v.P = cfg.pixels();
  v.taps = cfg.taps();
  v.topK = cfg.top_k;
  v.temperatureAttn = cfg.temperature_attn;
  v.matcherWeight = cfg.matcher_weight;
  v.matching = cfg.matching();
  v.auction = cfg.gpu_auction;
  v.ld = ld;
  return v;
}

inline ScoreViews ScoreViewsFor(const HeadConfig& cfg, int way, int S, int Qc, int64_t ld) {
  ScoreViews v;
  v.S = S;
  v.Qc = Qc;
  v.P = cfg.pixels();
  v.taps = cfg.taps();
  v.way = way;
  v.temperature = cfg.temperature;
  v.ld = ld;
  return v;
}

// docs/computation.md §3.4 for query q and class k.
LWFM_HD_NOINLINE void ClassLogit(const ScoreViews& v, int q, int k) {
  const int P = v.P;
  const int first = v.memberStart[k], shots = v.memberStart[k + 1] - first;
  double ab = 0, aa = 0, bb = 0, match = 0;
  for (int t = 0; t < shots; ++t) match += v.m[int64_t(v.members[first + t]) * v.Qc + q];
  const double scale = 1.0 / (double(shots) * P);  // the means over shots and pixels
  for (int l = 0; l < v.taps; ++l) {
    double wq[kMaxPixels], h[kMaxPixels];
    for (int j = 0; j < P; ++j) wq[j] = h[j] = 0;
    const float* nq = v.qryNorm[l] + int64_t(q) * P;
    for (int t = 0; t < shots; ++t) {
      const int s = v.members[first + t];
      const int64_t base = ((int64_t(l) * v.S + s) * v.Qc + q) * P;
      const float* g = v.G[l] + int64_t(s) * P * v.ld + int64_t(q) * P;
      const float* ns = v.supNorm[l] + int64_t(s) * P;
      for (int j = 0; j < P; ++j) wq[j] += v.aQ[base + j];
      for (int i = 0; i < P; ++i) {
        const double ai = double(v.aS[base + i]) * NormGuard(ns[i]);
        for (int j = 0; j < P; ++j) h[j] += ai * g[int64_t(i) * v.ld + j] * NormGuard(nq[j]);
      }
    }
    for (int j = 0; j < P; ++j) ab += wq[j] * h[j];
    const float* gq = v.qryGram[l] + int64_t(q) * P * P;
    for (int j = 0; j < P; ++j)
      for (int j2 = 0; j2 < P; ++j2) bb += wq[j] * wq[j2] * gq[j * P + j2];
    const float* gc = v.clsGram[l] + v.clsGramOffset[k];
    const int n = shots * P;
    for (int t = 0; t < shots; ++t) {
      const int64_t baseT = ((int64_t(l) * v.S + v.members[first + t]) * v.Qc + q) * P;
      for (int t2 = 0; t2 < shots; ++t2) {
        const int64_t baseT2 = ((int64_t(l) * v.S + v.members[first + t2]) * v.Qc + q) * P;
        for (int i = 0; i < P; ++i) {
          const double ai = v.aS[baseT + i];
          const float* row = gc + int64_t(t * P + i) * n + t2 * P;
          double acc = 0;
          for (int i2 = 0; i2 < P; ++i2) acc += double(v.aS[baseT2 + i2]) * row[i2];
          aa += ai * acc;
        }
      }
    }
  }
  ab *= scale * scale;
  aa *= scale * scale;
  bb *= scale * scale;
  const double na = sqrt(aa > 0 ? aa : 0), nb = sqrt(bb > 0 ? bb : 0);
  const double g = ab / ((na > 1e-8 ? na : 1e-8) * (nb > 1e-8 ? nb : 1e-8));
  v.logits[int64_t(q) * v.way + k] = float((g + match / shots) / v.temperature);
}

}  // namespace cuda
}  // namespace lwfm
