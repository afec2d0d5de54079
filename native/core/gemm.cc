#include "core/gemm.h"

#include <algorithm>
#include <cstring>

#include "core/gemm_kernels.h"
#include "core/thread_pool.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define LWFM_GEMM_X86 1
#endif

namespace lwfm {
namespace {

using gemm_detail::MicroKernel;

// kc x nr panels of B stay in L1 (256 x 16 floats = 16 KB); an mc x kc block of A in L2.
constexpr int kKc = 256;
constexpr int kMc = 96;   // multiple of every mr (6, 12)
constexpr int kNc = 128;  // multiple of every nr (16, 32)

MicroKernel KernelFor(SimdLevel level) {
  switch (level) {
    case SimdLevel::kAvx512:
      return gemm_detail::MicroKernelAvx512;
    case SimdLevel::kAvx2:
      return gemm_detail::MicroKernelAvx2;
    default:
      return gemm_detail::MicroKernelScalar;
  }
}

// Packs rows [m0, m0 + rows) of A into mr-row panels, each k-major over [0, k), zero padded.
// Writes are sequential; the mr source rows are read as parallel streams.
// Widest panel PackA is used for: mr of any kernel, and nr when it packs B (32 for AVX-512).
constexpr int kMaxPanel = 32;
static_assert(gemm_detail::kAvx512Nr <= kMaxPanel && gemm_detail::kAvx2Nr <= kMaxPanel &&
                  gemm_detail::kScalarNr <= kMaxPanel && gemm_detail::kAvx512Mr <= kMaxPanel,
              "PackA's source-row table is too small for a kernel shape");

#ifdef LWFM_GEMM_X86
// A full 6-row panel (the AVX2 kernel's mr) as 8 x 8 in-register transposes of 8 k-steps of
// the 6 rows (2 zero rows): the same values in the same places as the scalar loop, about 4x
// fewer instructions. Each k-step's 6 floats are written with an 8-float store that the next
// step overwrites, except the block's last step, stored exactly, so nothing past the panel
// (another thread's panel) is ever touched.
__attribute__((target("avx2,fma"))) void PackPanel6Avx2(const float* const* src, int k, float* dst) {
  const __m256 zero = _mm256_setzero_ps();
  int kk = 0;
  for (; kk + 8 <= k; kk += 8) {
    const __m256 r0 = _mm256_loadu_ps(src[0] + kk), r1 = _mm256_loadu_ps(src[1] + kk);
    const __m256 r2 = _mm256_loadu_ps(src[2] + kk), r3 = _mm256_loadu_ps(src[3] + kk);
    const __m256 r4 = _mm256_loadu_ps(src[4] + kk), r5 = _mm256_loadu_ps(src[5] + kk);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 s4 = _mm256_shuffle_ps(t4, zero, 0x44), s5 = _mm256_shuffle_ps(t4, zero, 0xEE);
    const __m256 s6 = _mm256_shuffle_ps(t5, zero, 0x44), s7 = _mm256_shuffle_ps(t5, zero, 0xEE);
    float* d = dst + static_cast<std::size_t>(kk) * 6;
    _mm256_storeu_ps(d + 0, _mm256_permute2f128_ps(s0, s4, 0x20));
    _mm256_storeu_ps(d + 6, _mm256_permute2f128_ps(s1, s5, 0x20));
    _mm256_storeu_ps(d + 12, _mm256_permute2f128_ps(s2, s6, 0x20));
    _mm256_storeu_ps(d + 18, _mm256_permute2f128_ps(s3, s7, 0x20));
    _mm256_storeu_ps(d + 24, _mm256_permute2f128_ps(s0, s4, 0x31));
    _mm256_storeu_ps(d + 30, _mm256_permute2f128_ps(s1, s5, 0x31));
    _mm256_storeu_ps(d + 36, _mm256_permute2f128_ps(s2, s6, 0x31));
    const __m256 last = _mm256_permute2f128_ps(s3, s7, 0x31);
    _mm_storeu_ps(d + 42, _mm256_castps256_ps128(last));
    _mm_storel_pi(reinterpret_cast<__m64*>(d + 46), _mm256_extractf128_ps(last, 1));
  }
  for (; kk < k; ++kk)
    for (int r = 0; r < 6; ++r) dst[static_cast<std::size_t>(kk) * 6 + r] = src[r][kk];
}
#endif

// vector_ok: the CPU has AVX2 (the caller's SIMD level is not scalar).
void PackA(const float* a, std::size_t lda, int m0, int rows, int k, int mr, float* out, bool vector_ok = false) {
  for (int p = 0; p < rows; p += mr) {
    const int valid = std::min(mr, rows - p);
    float* dst = out + static_cast<std::size_t>(p) * k;
    const float* src[kMaxPanel];
    for (int r = 0; r < valid; ++r) src[r] = a + static_cast<std::size_t>(m0 + p + r) * lda;
#ifdef LWFM_GEMM_X86
    if (vector_ok && valid == 6 && mr == 6) {
      PackPanel6Avx2(src, k, dst);
      continue;
    }
#endif
    (void)vector_ok;
    if (valid == mr) {
      for (int kk = 0; kk < k; ++kk, dst += mr)
        for (int r = 0; r < mr; ++r) dst[r] = src[r][kk];
    } else {
      for (int kk = 0; kk < k; ++kk, dst += mr) {
        for (int r = 0; r < valid; ++r) dst[r] = src[r][kk];
        for (int r = valid; r < mr; ++r) dst[r] = 0.0f;
      }
    }
  }
}

}  // namespace

GemmShape GemmShapeFor(SimdLevel level) {
  switch (level) {
    case SimdLevel::kAvx512:
      return {gemm_detail::kAvx512Mr, gemm_detail::kAvx512Nr};
    case SimdLevel::kAvx2:
      return {gemm_detail::kAvx2Mr, gemm_detail::kAvx2Nr};
    default:
      return {gemm_detail::kScalarMr, gemm_detail::kScalarNr};
  }
}

PackedB PackB(const float* b, int n, int k, std::size_t ldb, SimdLevel level, int threads) {
  PackedB out;
  out.level = level;
  out.n = n;
  out.k = k;
  out.nr = GemmShapeFor(level).nr;
  const int nr = out.nr;
  const int panels = (n + nr - 1) / nr;
  out.data.assign(static_cast<std::size_t>(panels) * nr * k, 0.0f);
  ParallelFor(panels, threads, 8, [&](std::size_t begin, std::size_t end) {
    const int first = static_cast<int>(begin) * nr;
    const int rows = std::min(n, static_cast<int>(end) * nr) - first;
    PackA(b, ldb, first, rows, k, nr, out.data.data() + static_cast<std::size_t>(first) * k);
  });
  return out;
}

void GemmABt(const float* a, int m, std::size_t lda, const PackedB& b, float* c, std::size_t ldc, GemmEpilogue epilogue,
             int threads, std::vector<float>* pack_buffer) {
  const int n = b.n, k = b.k;
  if (m <= 0 || n <= 0) return;
  if (k == 0) {
    for (int i = 0; i < m; ++i) std::memset(c + i * ldc, 0, sizeof(float) * n);
    return;
  }
  const GemmShape shape = GemmShapeFor(b.level);
  const int mr = shape.mr, nr = shape.nr;
  const MicroKernel kernel = KernelFor(b.level);
  const bool relu = epilogue == GemmEpilogue::kRelu;
  const int m_blocks = (m + kMc - 1) / kMc;
  const int n_blocks = (n + kNc - 1) / kNc;
  // A is packed once (in parallel) and shared by every tile.
  const int m_padded = (m + mr - 1) / mr * mr;
  std::vector<float> local;
  std::vector<float>& a_pack = pack_buffer ? *pack_buffer : local;
  if (a_pack.size() < static_cast<std::size_t>(m_padded) * k) a_pack.resize(static_cast<std::size_t>(m_padded) * k);
  const int m_panels = m_padded / mr;
  ParallelFor(m_panels, threads, 8, [&](std::size_t begin, std::size_t end) {
    const int first = static_cast<int>(begin) * mr;
    const int rows = std::min(m, static_cast<int>(end) * mr) - first;
    PackA(a, lda, first, rows, k, mr, a_pack.data() + static_cast<std::size_t>(first) * k,
          b.level != SimdLevel::kScalar);
  });
  ParallelFor(static_cast<std::size_t>(m_blocks) * n_blocks, threads, 1, [&](std::size_t begin, std::size_t end) {
    for (std::size_t t = begin; t < end; ++t) {
      const int mb = static_cast<int>(t / n_blocks), nb = static_cast<int>(t % n_blocks);
      const int m0 = mb * kMc, rows = std::min(kMc, m - m0);
      const int n0 = nb * kNc, cols = std::min(kNc, n - n0);
      for (int k0 = 0; k0 < k; k0 += kKc) {
        const int kc = std::min(kKc, k - k0);
        const bool accumulate = k0 > 0;
        const bool last = k0 + kc >= k;
        for (int j = 0; j < cols; j += nr) {
          const float* bp =
              b.data.data() + static_cast<std::size_t>((n0 + j) / nr) * nr * k + static_cast<std::size_t>(k0) * nr;
          const int valid_cols = std::min(nr, cols - j);
          for (int i = 0; i < rows; i += mr) {
            const float* ap = a_pack.data() + static_cast<std::size_t>(m0 + i) * k + static_cast<std::size_t>(k0) * mr;
            const int valid_rows = std::min(mr, rows - i);
            float* ct = c + static_cast<std::size_t>(m0 + i) * ldc + n0 + j;
            if (valid_rows == mr && valid_cols == nr) {
              kernel(kc, ap, bp, ct, static_cast<long>(ldc), accumulate, relu && last);
              continue;
            }
            // Edge tile: compute into a scratch tile, then merge only the valid part.
            alignas(64) float tile[gemm_detail::kAvx512Mr * gemm_detail::kAvx512Nr];
            kernel(kc, ap, bp, tile, nr, false, false);
            for (int r = 0; r < valid_rows; ++r) {
              float* dst = ct + r * ldc;
              for (int q = 0; q < valid_cols; ++q) {
                float v = accumulate ? dst[q] + tile[r * nr + q] : tile[r * nr + q];
                if (relu && last && v < 0.0f) v = 0.0f;
                dst[q] = v;
              }
            }
          }
        }
      }
    }
  });
}

}  // namespace lwfm
