// CudaHead: the prepared support lives on the device; Score uploads the queries once,
// prepares them, then per query chunk runs the tiled matrix products, the pair kernel
// (attention sums, exact assignment, matching scores) and the class kernel, and
// downloads the logits.
#include "cuda_head.h"
#include "staged_copy.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "head_host.h"
#include "head_kernels.cuh"
#include "runtime.cuh"

namespace lwfm {
namespace cuda {

namespace {

unsigned Blocks(int64_t threads, int per) { return unsigned((threads + per - 1) / per); }

// One side (supports or queries) prepared on the device, per tap.
struct DeviceSide {
  int count = 0;
  DeviceBuffer<float> Z[kMaxTaps], E[kMaxTaps], U[kMaxTaps], norm[kMaxTaps];
  DeviceBuffer<float> matchNorm[kMaxTaps];  // |x + g(x)| per row, only with an MLP (else norm)
  const float* unit(int l) const { return U[l].get() ? U[l].get() : E[l].get(); }
  const float* unitNorm(int l) const { return U[l].get() ? matchNorm[l].get() : norm[l].get(); }
};

}  // namespace

struct CudaHead::Impl {
  HeadConfig cfg;  // matcher weights dropped (they live on the device); w1/w2 keep one empty entry per tap
  int way = 0;
  int S = 0;
  cudaStream_t stream = nullptr;
  std::mutex mutex;
  DeviceBuffer<float> w1[kMaxTaps], w2[kMaxTaps];
  DeviceSide sup;
  DeviceBuffer<float> classGram[kMaxTaps];
  DeviceBuffer<int64_t> classGramOffset;
  DeviceBuffer<int32_t> memberStart, members;
  // Scratch reused across Score calls.
  DeviceBuffer<float> raw, mean, hidden, mlpOut;
  DeviceSide qry;
  DeviceBuffer<float> qryGram[kMaxTaps], logits;
  // Per-chunk matrices. (Alternating two streams over query chunks, so that one chunk's
  // products overlap the other's pair kernel, measured 29.9 vs 30.6 ms on an H200 for the
  // 1000-way x 1000 head: both kernels slowed each other; not kept.)
  DeviceBuffer<float> G[kMaxTaps], M[kMaxTaps], aS, aQ, m;
  DeviceBuffer<int32_t> qStart, qMembers;
  DeviceBuffer<int64_t> qOffset;
  int qCapacity = 0;

  // The buffers below release their blocks to the device cache after this body, recording
  // reuse events on `stream`: it goes back to the stream pool (still valid), not destroyed.
  Impl() { PoolAddOwner(); }
  ~Impl() {
    ReleaseStream(stream);
    PoolRemoveOwner();
  }

  // Resizes dst to src and queues the copy on the head's stream (src must outlive it).
  template <class T>
  void UploadVector(DeviceBuffer<T>& dst, const std::vector<T>& src) {
    dst.resize(src.size());
    LWFM_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.data(), src.size() * sizeof(T), cudaMemcpyHostToDevice, stream));
  }

  // Rows in slabs: gridDim.y is limited to 65535 tiles (M up to 8.4M rows per launch), and
  // M = queries x pixels for the matcher MLP's products.
  void Gemm(const float* A, const float* B, float* C, int M, int N_, int K, int64_t ldc, bool relu) {
    constexpr int kSlabRows = 65535 * kernels::kTile;
    for (int r0 = 0; r0 < M; r0 += kSlabRows)
      GemmSlab(A + int64_t(r0) * K, B, C + int64_t(r0) * ldc, std::min(kSlabRows, M - r0), N_, K, ldc, relu);
  }
  void GemmSlab(const float* A, const float* B, float* C, int M_, int N_, int K, int64_t ldc, bool relu) {
    const dim3 grid(Blocks(N_, kernels::kTile), Blocks(M_, kernels::kTile));
    const bool vec4 =
        K % 4 == 0 && reinterpret_cast<uintptr_t>(A) % 16 == 0 && reinterpret_cast<uintptr_t>(B) % 16 == 0;
    if (relu && vec4)
      kernels::GemmNT<true, true><<<grid, 256, 0, stream>>>(A, B, C, M_, N_, K, ldc);
    else if (relu)
      kernels::GemmNT<true, false><<<grid, 256, 0, stream>>>(A, B, C, M_, N_, K, ldc);
    else if (vec4)
      kernels::GemmNT<false, true><<<grid, 256, 0, stream>>>(A, B, C, M_, N_, K, ldc);
    else
      kernels::GemmNT<false, false><<<grid, 256, 0, stream>>>(A, B, C, M_, N_, K, ldc);
    LWFM_CUDA_CHECK(cudaGetLastError());
  }

  // Centering, unit vectors and matcher MLP for `count` images already in `raw`.
  void PrepareSide(DeviceSide& side, int count) {
    const int P = cfg.pixels(), C = cfg.total_channels();
    side.count = count;
    const int64_t rows = int64_t(count) * P;
    mean.resize(size_t(rows));
    kernels::ChannelMean<<<Blocks(rows, 256), 256, 0, stream>>>(raw.get(), count, C, P, mean.get());
    LWFM_CUDA_CHECK(cudaGetLastError());
    int offset = 0;
    for (int l = 0; l < cfg.taps(); ++l) {
      const int Cl = cfg.channels[l];
      side.Z[l].resize(size_t(rows * Cl));
      side.E[l].resize(size_t(rows * Cl));
      side.norm[l].resize(size_t(rows));
      kernels::CenterTranspose<<<Blocks(rows * Cl, 256), 256, 0, stream>>>(raw.get(), count, C, P, mean.get(), offset,
                                                                           Cl, side.Z[l].get());
      LWFM_CUDA_CHECK(cudaGetLastError());
      kernels::RowNormalize<<<Blocks(rows * 32, 256), 256, 0, stream>>>(side.Z[l].get(), nullptr, rows, Cl,
                                                                        side.E[l].get(), side.norm[l].get());
      LWFM_CUDA_CHECK(cudaGetLastError());
      if (cfg.has_matcher() && cfg.matching()) {
        const int H = Cl / 2;
        hidden.resize(size_t(rows * H));
        mlpOut.resize(size_t(rows * Cl));
        side.U[l].resize(size_t(rows * Cl));
        side.matchNorm[l].resize(size_t(rows));
        Gemm(side.Z[l].get(), w1[l].get(), hidden.get(), int(rows), H, Cl, H, true);
        Gemm(hidden.get(), w2[l].get(), mlpOut.get(), int(rows), Cl, H, Cl, true);
        kernels::RowNormalize<<<Blocks(rows * 32, 256), 256, 0, stream>>>(side.Z[l].get(), mlpOut.get(), rows, Cl,
                                                                          side.U[l].get(), side.matchNorm[l].get());
        LWFM_CUDA_CHECK(cudaGetLastError());
      }
      offset += Cl;
    }
  }
};

CudaHead::CudaHead(const HeadConfig& config, int way, const float* support, const int32_t* labels, int supportCount)
    : impl_(new Impl) {
  RequireDevice();
  const std::string problem = CheckGpuHeadConfig(config, way);
  if (!problem.empty()) throw std::invalid_argument("CudaHead: " + problem);
  if (config.pixels() > kMaxGpuPixels)
    throw std::invalid_argument("CudaHead: featureSize must be at most 5 on the GPU");
  Impl& d = *impl_;
  d.cfg = config;
  d.cfg.w1.clear();  // the host weights are not kept; they live on the device
  d.cfg.w2.clear();
  d.way = way;
  d.S = supportCount;
  const int P = config.pixels(), C = config.total_channels(), L = config.taps();
  std::vector<int32_t> start, members;
  if (!GroupByClass(labels, supportCount, way, start, members))
    throw std::invalid_argument("CudaHead: labels must cover 0..way-1 with every class present");
  d.stream = AcquireStream();
  StreamScope scope(d.stream);  // every buffer below is used on the head's stream
  if (config.has_matcher()) {
    for (int l = 0; l < L; ++l) {
      const size_t n = size_t(config.channels[l]) * (config.channels[l] / 2);
      d.w1[l].resize(n);
      d.w2[l].resize(n);
      LWFM_CUDA_CHECK(cudaMemcpyAsync(d.w1[l].get(), config.w1[l].data(), n * 4, cudaMemcpyHostToDevice, d.stream));
      LWFM_CUDA_CHECK(cudaMemcpyAsync(d.w2[l].get(), config.w2[l].data(), n * 4, cudaMemcpyHostToDevice, d.stream));
    }
    // Marks "has MLP" for PrepareSide without keeping the host weights.
    d.cfg.w1.assign(size_t(L), {});
    d.cfg.w2.assign(size_t(L), {});
  }
  const size_t rawCount = size_t(supportCount) * C * P;
  d.raw.resize(rawCount);
  StagedUpload(d.raw.get(), support, rawCount * 4, d.stream);
  d.PrepareSide(d.sup, supportCount);
  // Class Gram blocks for the global term's |A|^2.
  std::vector<int64_t> offset(size_t(way) + 1, 0);
  for (int k = 0; k < way; ++k) {
    const int64_t n = int64_t(start[k + 1] - start[k]) * P;
    offset[k + 1] = offset[k] + n * n;
  }
  d.UploadVector(d.memberStart, start);
  d.UploadVector(d.members, members);
  d.UploadVector(d.classGramOffset, offset);
  for (int l = 0; l < L; ++l) {
    d.classGram[l].resize(size_t(offset.back()));
    kernels::GroupGram<<<unsigned(way), 128, 0, d.stream>>>(d.sup.Z[l].get(), config.channels[l], P,
                                                            d.memberStart.get(), d.members.get(),
                                                            d.classGramOffset.get(), d.classGram[l].get());
    LWFM_CUDA_CHECK(cudaGetLastError());
  }
  LWFM_CUDA_CHECK(cudaStreamSynchronize(d.stream));
  for (int l = 0; l < L; ++l) d.sup.Z[l].reset();  // only needed for the Gram blocks
}

CudaHead::~CudaHead() = default;

int CudaHead::supportCount() const { return impl_->S; }
int CudaHead::way() const { return impl_->way; }
int CudaHead::featureLength() const { return impl_->cfg.total_channels() * impl_->cfg.pixels(); }
int CudaHead::pixels() const { return impl_->cfg.pixels(); }

void CudaHead::Score(const float* queries, int Q, float* hostLogits, HeadTimings* timings) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mutex);
  if (Q <= 0) return;
  StreamScope scope(d.stream);
  const HeadConfig& cfg = d.cfg;
  const int P = cfg.pixels(), C = cfg.total_channels(), L = cfg.taps(), S = d.S, way = d.way;
  const bool separateM = cfg.has_matcher() && cfg.matching();
  cudaEvent_t ev[8];
  for (auto& e : ev) LWFM_CUDA_CHECK(cudaEventCreate(&e));
  struct EventGuard {
    cudaEvent_t* e;
    ~EventGuard() {
      for (int k = 0; k < 8; ++k) cudaEventDestroy(e[k]);
    }
  } guard{ev};
  float ms[8] = {};

  LWFM_CUDA_CHECK(cudaEventRecord(ev[0], d.stream));
  const size_t rawCount = size_t(Q) * C * P;
  d.raw.resize(rawCount);
  StagedUpload(d.raw.get(), queries, rawCount * 4, d.stream);
  LWFM_CUDA_CHECK(cudaEventRecord(ev[1], d.stream));
  d.PrepareSide(d.qry, Q);
  // Per-query Gram blocks (|B|^2): each query is its own group.
  if (Q > d.qCapacity) {
    std::vector<int32_t> start(Q + 1), members(Q);
    std::vector<int64_t> offset(Q + 1);
    for (int q = 0; q <= Q; ++q) {
      start[q] = q;
      offset[q] = int64_t(q) * P * P;
      if (q < Q) members[q] = q;
    }
    d.qCapacity = 0;  // stays 0 if anything below fails: the next call rebuilds
    d.UploadVector(d.qStart, start);
    d.UploadVector(d.qMembers, members);
    d.UploadVector(d.qOffset, offset);
    LWFM_CUDA_CHECK(cudaStreamSynchronize(d.stream));  // host vectors die at scope end
    d.qCapacity = Q;
  }
  for (int l = 0; l < L; ++l) {
    d.qryGram[l].resize(size_t(Q) * P * P);
    kernels::GroupGram<<<unsigned(Q), 128, 0, d.stream>>>(d.qry.Z[l].get(), cfg.channels[l], P, d.qStart.get(),
                                                          d.qMembers.get(), d.qOffset.get(), d.qryGram[l].get());
    LWFM_CUDA_CHECK(cudaGetLastError());
  }
  d.logits.resize(size_t(Q) * way);
  LWFM_CUDA_CHECK(cudaEventRecord(ev[2], d.stream));
  if (timings) {
    LWFM_CUDA_CHECK(cudaEventSynchronize(ev[2]));
    LWFM_CUDA_CHECK(cudaEventElapsedTime(&ms[0], ev[0], ev[1]));
    LWFM_CUDA_CHECK(cudaEventElapsedTime(&ms[1], ev[1], ev[2]));
  }

  // Query chunk: keep the per-chunk matrices within ~1/4 of free memory (at most 4 GiB).
  size_t freeBytes = 0, totalBytes = 0;
  LWFM_CUDA_CHECK(cudaMemGetInfo(&freeBytes, &totalBytes));
  const size_t budget = std::min<size_t>(freeBytes / 4, size_t(4) << 30);
  const size_t perQuery = size_t(L) * S * P * P * 4 * (separateM ? 2 : 1) + size_t(L) * S * P * 8 + size_t(S) * 4;
  const int Qc = int(std::max<size_t>(1, std::min<size_t>(size_t(Q), budget / std::max<size_t>(perQuery, 1))));
  for (int l = 0; l < L; ++l) {
    d.G[l].resize(size_t(S) * P * Qc * P);
    if (separateM) d.M[l].resize(size_t(S) * P * Qc * P);
  }
  d.aS.resize(size_t(L) * S * Qc * P);
  d.aQ.resize(size_t(L) * S * Qc * P);
  d.m.resize(size_t(S) * Qc);
  // Per-chunk stage events only when timings are asked for (a huge support can mean many chunks).
  const int chunkCount = timings ? (Q + Qc - 1) / Qc : 0;
  std::vector<cudaEvent_t> marks(size_t(chunkCount) * 4, nullptr);
  struct MarkGuard {
    std::vector<cudaEvent_t>& e;
    ~MarkGuard() {
      for (cudaEvent_t x : e)
        if (x) cudaEventDestroy(x);
    }
  } markGuard{marks};
  for (cudaEvent_t& e : marks) LWFM_CUDA_CHECK(cudaEventCreate(&e));
  int chunks = 0;
  for (int q0 = 0; q0 < Q; q0 += Qc, ++chunks) {
    cudaEvent_t* mark = timings ? &marks[size_t(chunks) * 4] : nullptr;
    const int n = std::min(Qc, Q - q0);
    const int64_t ld = int64_t(n) * P;
    if (mark) LWFM_CUDA_CHECK(cudaEventRecord(mark[0], d.stream));
    for (int l = 0; l < L; ++l) {
      const int Cl = cfg.channels[l];
      d.Gemm(d.sup.E[l].get(), d.qry.E[l].get() + int64_t(q0) * P * Cl, d.G[l].get(), S * P, n * P, Cl, ld, false);
      if (separateM)
        d.Gemm(d.sup.unit(l), d.qry.unit(l) + int64_t(q0) * P * Cl, d.M[l].get(), S * P, n * P, Cl, ld, false);
    }
    if (mark) LWFM_CUDA_CHECK(cudaEventRecord(mark[1], d.stream));
    PairViews pv = PairViewsFor(cfg, S, n, ld);
    for (int l = 0; l < L; ++l) {
      pv.G[l] = d.G[l].get();
      pv.M[l] = separateM ? d.M[l].get() : d.G[l].get();
      pv.supNorm[l] = d.sup.norm[l].get();
      pv.qryNorm[l] = d.qry.norm[l].get() + int64_t(q0) * P;
      pv.supMatchNorm[l] = separateM ? d.sup.unitNorm(l) : pv.supNorm[l];
      pv.qryMatchNorm[l] = (separateM ? d.qry.unitNorm(l) : d.qry.norm[l].get()) + int64_t(q0) * P;
    }
    pv.aS = d.aS.get();
    pv.aQ = d.aQ.get();
    pv.m = d.m.get();
    const int64_t pairs = int64_t(n) * S;
    if (pv.auction && P <= 9)
      kernels::Pairs<9, true><<<Blocks(pairs, 128), 128, 0, d.stream>>>(pv);
    else if (pv.auction)
      kernels::Pairs<kMaxGpuPixels, true><<<Blocks(pairs, 128), 128, 0, d.stream>>>(pv);
    else if (P <= 9)
      kernels::Pairs<9><<<Blocks(pairs, 128), 128, 0, d.stream>>>(pv);
    else
      kernels::Pairs<kMaxGpuPixels><<<Blocks(pairs, 128), 128, 0, d.stream>>>(pv);
    LWFM_CUDA_CHECK(cudaGetLastError());
    if (mark) LWFM_CUDA_CHECK(cudaEventRecord(mark[2], d.stream));
    ScoreViews sv = ScoreViewsFor(cfg, way, S, n, ld);
    for (int l = 0; l < L; ++l) {
      sv.G[l] = d.G[l].get();
      sv.supNorm[l] = d.sup.norm[l].get();
      sv.qryNorm[l] = d.qry.norm[l].get() + int64_t(q0) * P;
      sv.qryGram[l] = d.qryGram[l].get() + int64_t(q0) * P * P;
      sv.clsGram[l] = d.classGram[l].get();
    }
    sv.aS = d.aS.get();
    sv.aQ = d.aQ.get();
    sv.m = d.m.get();
    sv.clsGramOffset = d.classGramOffset.get();
    sv.memberStart = d.memberStart.get();
    sv.members = d.members.get();
    sv.logits = d.logits.get() + int64_t(q0) * way;
    kernels::Classes<<<Blocks(int64_t(n) * way, 128), 128, 0, d.stream>>>(sv);
    LWFM_CUDA_CHECK(cudaGetLastError());
    if (mark) LWFM_CUDA_CHECK(cudaEventRecord(mark[3], d.stream));
  }
  LWFM_CUDA_CHECK(cudaEventRecord(ev[6], d.stream));
  double gemmMs = 0, pairMs = 0, classMs = 0;
  if (timings) {
    LWFM_CUDA_CHECK(cudaEventSynchronize(ev[6]));
    for (int c = 0; c < chunks; ++c) {
      float g = 0, p = 0, k = 0;
      LWFM_CUDA_CHECK(cudaEventElapsedTime(&g, marks[size_t(c) * 4], marks[size_t(c) * 4 + 1]));
      LWFM_CUDA_CHECK(cudaEventElapsedTime(&p, marks[size_t(c) * 4 + 1], marks[size_t(c) * 4 + 2]));
      LWFM_CUDA_CHECK(cudaEventElapsedTime(&k, marks[size_t(c) * 4 + 2], marks[size_t(c) * 4 + 3]));
      gemmMs += g;
      pairMs += p;
      classMs += k;
    }
  }
  StagedDownload(hostLogits, d.logits.get(), size_t(Q) * way * 4, d.stream);
  LWFM_CUDA_CHECK(cudaEventRecord(ev[7], d.stream));
  LWFM_CUDA_CHECK(cudaEventSynchronize(ev[7]));
  if (timings) {
    float dl = 0, total = 0;
    LWFM_CUDA_CHECK(cudaEventElapsedTime(&dl, ev[6], ev[7]));
    LWFM_CUDA_CHECK(cudaEventElapsedTime(&total, ev[0], ev[7]));
    timings->uploadMs = ms[0];
    timings->prepareMs = ms[1];
    timings->gemmMs = gemmMs;
    timings->pairMs = pairMs;
    timings->classMs = classMs;
    timings->downloadMs = dl;
    timings->totalMs = total;
    timings->chunks = chunks;
  }
}

}  // namespace cuda
}  // namespace lwfm
