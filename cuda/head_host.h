// CPU emulation of the GPU head: the same per-image preparation (centering, per-tap unit
// vectors, matcher MLP per pixel), plain matrix products in place of the GPU's tiled ones,
// and the very same ProcessPair / ClassLogit code (head_math.cuh). Lets the CPU build test
// the GPU's per-pair and per-class logic; also the reference the device check compares to.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "gemm_tile.cuh"
#include "gpu_head_limits.h"
#include "head_math.cuh"

namespace lwfm {
namespace cuda {

// out (M x N, row stride ldc) = A (M x K) * B (N x K)^T (optionally ReLU), with the GPU
// kernel's tile steps and its choice of vector loads.
inline void GemmNT(const float* A, const float* B, float* out, int M, int N, int K, int64_t ldc, bool relu) {
  const bool vec4 = K % 4 == 0 && reinterpret_cast<uintptr_t>(A) % 16 == 0 && reinterpret_cast<uintptr_t>(B) % 16 == 0;
  if (relu && vec4)
    gemm::GemmNTHost<true, true>(A, B, out, M, N, K, ldc);
  else if (relu)
    gemm::GemmNTHost<true, false>(A, B, out, M, N, K, ldc);
  else if (vec4)
    gemm::GemmNTHost<false, true>(A, B, out, M, N, K, ldc);
  else
    gemm::GemmNTHost<false, false>(A, B, out, M, N, K, ldc);
}

// Gram of rows (plain dot products, as the GPU's GroupGram kernel computes them).
inline float RowDot(const float* x, const float* y, int k) {
  float acc = 0;
  for (int c = 0; c < k; ++c) acc += x[c] * y[c];
  return acc;
}

// One side (supports or queries) after preparation, per tap l.
struct HostSide {
  int count = 0;
  std::vector<std::vector<float>> Z, E, U, norm;  // Z: centered (rows n*P + p, C_l cols)
  std::vector<std::vector<float>> matchNorm;      // |z + g(z)| per row, with an MLP
};

inline HostSide PrepareSideHost(const HeadConfig& cfg, const float* feats, int count) {
  const int P = cfg.pixels(), C = cfg.total_channels(), L = cfg.taps();
  HostSide side;
  side.count = count;
  side.Z.resize(L);
  side.E.resize(L);
  side.U.resize(L);
  side.norm.resize(L);
  side.matchNorm.resize(L);
  std::vector<double> mean(size_t(count) * P, 0.0);
  for (int n = 0; n < count; ++n)
    for (int c = 0; c < C; ++c)
      for (int p = 0; p < P; ++p) mean[size_t(n) * P + p] += feats[(int64_t(n) * C + c) * P + p];
  for (double& m : mean) m /= C;
  int offset = 0;
  for (int l = 0; l < L; ++l) {
    const int Cl = cfg.channels[l];
    const size_t rows = size_t(count) * P;
    auto& Z = side.Z[l];
    auto& E = side.E[l];
    Z.resize(rows * Cl);
    E.resize(rows * Cl);
    side.norm[l].resize(rows);
    for (int n = 0; n < count; ++n)
      for (int p = 0; p < P; ++p) {
        const size_t r = size_t(n) * P + p;
        double ss = 0;
        for (int c = 0; c < Cl; ++c) {
          const float z = float(feats[(int64_t(n) * C + offset + c) * P + p] - mean[r]);
          Z[r * Cl + c] = z;
          ss += double(z) * z;
        }
        const float nrm = float(std::sqrt(ss));
        side.norm[l][r] = nrm;
        for (int c = 0; c < Cl; ++c) E[r * Cl + c] = Z[r * Cl + c] / NormGuard(nrm);
      }
    if (cfg.has_matcher()) {
      // As on the GPU: two ReLU matrix products over all pixel rows, then u = z + g(z).
      const int H = Cl / 2;
      std::vector<float> hidden(rows * H), g(rows * Cl);
      GemmNT(Z.data(), cfg.w1[l].data(), hidden.data(), int(rows), H, Cl, H, true);
      GemmNT(hidden.data(), cfg.w2[l].data(), g.data(), int(rows), Cl, H, Cl, true);
      auto& U = side.U[l];
      U.resize(rows * Cl);
      side.matchNorm[l].resize(rows);
      for (size_t r = 0; r < rows; ++r) {
        double ss = 0;
        for (int c = 0; c < Cl; ++c) {
          const float u = Z[r * Cl + c] + g[r * Cl + c];
          ss += double(u) * u;
        }
        side.matchNorm[l][r] = float(std::sqrt(ss));
        const float inv = 1.0f / NormGuard(side.matchNorm[l][r]);
        for (int c = 0; c < Cl; ++c) U[r * Cl + c] = (Z[r * Cl + c] + g[r * Cl + c]) * inv;
      }
    }
    offset += Cl;
  }
  return side;
}

// Support indices grouped by class (CSR); false if a label is out of range or a class is empty.
inline bool GroupByClass(const int32_t* labels, int S, int way, std::vector<int32_t>& start,
                         std::vector<int32_t>& members) {
  start.assign(size_t(way) + 1, 0);
  for (int s = 0; s < S; ++s) {
    if (labels[s] < 0 || labels[s] >= way) return false;
    ++start[labels[s] + 1];
  }
  for (int k = 0; k < way; ++k) {
    if (start[k + 1] == 0) return false;
    start[k + 1] += start[k];
  }
  members.resize(S);
  std::vector<int32_t> fill(start.begin(), start.end() - 1);
  for (int s = 0; s < S; ++s) members[fill[labels[s]]++] = s;
  return true;
}

// Q x way logits. Labels must be valid (GroupByClass); returns empty on invalid labels.
inline std::vector<float> HeadScoreHost(const HeadConfig& cfg, int way, const float* support, const int32_t* labels,
                                        int S, const float* queries, int Q) {
  const int P = cfg.pixels(), L = cfg.taps();
  std::vector<int32_t> start, members;
  if (!GroupByClass(labels, S, way, start, members)) return {};
  const HostSide sup = PrepareSideHost(cfg, support, S);
  const HostSide qry = PrepareSideHost(cfg, queries, Q);
  const int64_t ld = int64_t(Q) * P;
  std::vector<std::vector<float>> G(L), M(L), qGram(L), cGram(L);
  std::vector<int64_t> cOffset(way + 1, 0);
  for (int k = 0; k < way; ++k) {
    const int64_t n = int64_t(start[k + 1] - start[k]) * P;
    cOffset[k + 1] = cOffset[k] + n * n;
  }
  for (int l = 0; l < L; ++l) {
    const int Cl = cfg.channels[l];
    G[l].resize(size_t(S) * P * ld);
    GemmNT(sup.E[l].data(), qry.E[l].data(), G[l].data(), S * P, Q * P, Cl, ld, false);
    if (cfg.has_matcher() && cfg.matching()) {
      M[l].resize(G[l].size());
      GemmNT(sup.U[l].data(), qry.U[l].data(), M[l].data(), S * P, Q * P, Cl, ld, false);
    }
    qGram[l].resize(size_t(Q) * P * P);
    for (int q = 0; q < Q; ++q)
      for (int a = 0; a < P; ++a)
        for (int b = 0; b < P; ++b)
          qGram[l][(size_t(q) * P + a) * P + b] =
              RowDot(&qry.Z[l][(size_t(q) * P + a) * Cl], &qry.Z[l][(size_t(q) * P + b) * Cl], Cl);
    cGram[l].resize(size_t(cOffset[way]));
    for (int k = 0; k < way; ++k) {
      const int shots = start[k + 1] - start[k];
      const int n = shots * P;
      for (int a = 0; a < n; ++a)
        for (int b = 0; b < n; ++b) {
          const float* x = &sup.Z[l][(size_t(members[start[k] + a / P]) * P + a % P) * Cl];
          const float* y = &sup.Z[l][(size_t(members[start[k] + b / P]) * P + b % P) * Cl];
          cGram[l][cOffset[k] + int64_t(a) * n + b] = RowDot(x, y, Cl);
        }
    }
  }
  std::vector<float> aS(size_t(L) * S * Q * P), aQ(aS.size()), m(size_t(S) * Q);
  PairViews pv = PairViewsFor(cfg, S, Q, ld);
  for (int l = 0; l < L; ++l) {
    pv.G[l] = G[l].data();
    pv.M[l] = M[l].empty() ? G[l].data() : M[l].data();
    pv.supNorm[l] = sup.norm[l].data();
    pv.qryNorm[l] = qry.norm[l].data();
    pv.supMatchNorm[l] = M[l].empty() ? sup.norm[l].data() : sup.matchNorm[l].data();
    pv.qryMatchNorm[l] = M[l].empty() ? qry.norm[l].data() : qry.matchNorm[l].data();
  }
  pv.aS = aS.data();
  pv.aQ = aQ.data();
  pv.m = m.data();
  auto scratch = std::make_unique<PairScratch<kMaxPixels>>();
  auto auctionScratch = pv.auction ? std::make_unique<AuctionScratch<kMaxPixels>>() : nullptr;
  for (int s = 0; s < S; ++s)
    for (int q = 0; q < Q; ++q) ProcessPair<kMaxPixels>(pv, q, s, *scratch, auctionScratch.get());
  std::vector<float> logits(size_t(Q) * way);
  ScoreViews sv = ScoreViewsFor(cfg, way, S, Q, ld);
  for (int l = 0; l < L; ++l) {
    sv.G[l] = G[l].data();
    sv.supNorm[l] = sup.norm[l].data();
    sv.qryNorm[l] = qry.norm[l].data();
    sv.qryGram[l] = qGram[l].data();
    sv.clsGram[l] = cGram[l].data();
  }
  sv.aS = aS.data();
  sv.aQ = aQ.data();
  sv.m = m.data();
  sv.clsGramOffset = cOffset.data();
  sv.memberStart = start.data();
  sv.members = members.data();
  sv.logits = logits.data();
  for (int q = 0; q < Q; ++q)
    for (int k = 0; k < way; ++k) ClassLogit(sv, q, k);
  return logits;
}

}  // namespace cuda
}  // namespace lwfm
