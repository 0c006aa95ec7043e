// AVX-512 kernels for the ring GEMM over Z_{2^64} (dispatch and threads: ring_gemm.cpp).
//
// Two kernel families share one GotoBLAS-style driver (loops jc / B group / ic / pc / jr / ir,
// B packed into NR-column panels, register-blocked MR x NR micro-kernels):
//
//  * IFMA + VNNI (avx512ifma, avx512vnni: Ice Lake, Sapphire Rapids, Zen 4). Split
//    a = a0 + 2^52 a1 (a0 < 2^52, a1 < 2^12) and b likewise; with a0' = a mod 2^12,
//    b0' = b mod 2^12:
//        a*b = a0 b0 + 2^52 (a1 b0 + a0 b1) + 2^104 a1 b1
//            = lo52(a0 b0) + 2^52 (hi52(a0 b0) + a1 b0' + a0' b1)   (mod 2^64).
//    Per output three accumulators:
//        L += lo52(a0 b0)                     vpmadd52luq (IFMA ignores bits 52..63 of its
//        H += hi52(a0 b0)                     vpmadd52huq  inputs, so a, b go in raw)
//        X += a1 b0' + a0' b1  (mod 2^32)     vpdpwssd on 16-bit pairs (a1, a0') . (b0', b1),
//    and C = L + ((H + X) << 52). Only 12 bits of the cross term survive the shift, so it
//    fits 16-bit lanes; one vpdpwssd covers 8 outputs for TWO k steps (the 64-bit lane holds
//    the 32-bit pair sums of k = 2q and 2q+1; the epilogue adds the halves). Cost per 8
//    multiply-adds: 2 IFMA + 0.5 VNNI = 2.5 uops on the two 512-bit ports, versus 4 for
//    vpmullq (3 uops) + vpaddq: measured 6.3 vs 4.0 multiply-adds per cycle per core.
//    Exact for every k (all sums are taken mod 2^64 or mod 2^32 and only their low bits
//    are used).
//  * MULLQ (avx512dq): acc += vpmullq(a, b).
//
// A is read in place (the MR rows of a tile with the caller's row stride); only the 16-bit
// pair plane (a1, a0') of an MC x KC block is packed, as uint32 per element, and rows of a
// last partial tile are copied into a zero-padded buffer. B panels (kc x NR, zero-padded
// beyond n) are packed once per KC block and reused by all row blocks:
//   IFMA: per k pair: [b(2q) x NR][b(2q+1) x NR][y x NR], y = yb(2q) | yb(2q+1) << 32,
//         yb = (b mod 2^12) | (b >> 52) << 16; a zero row pads an odd kc.
//   MULLQ: per k: [b x NR].
// Packing buffers are thread_local and only grow.
#if defined(FSS_X86)
// GCC 12 reports the deliberately undefined pass-through operand of the shift intrinsics
// (_mm512_undefined_epi32) as maybe-uninitialized once they are inlined; it is not.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace fss {
namespace ring_detail {

namespace {

constexpr size_t KC = 256;                    // depth of a packed block (even)
constexpr size_t KS = KC + 16;                // row stride (elements) of the packed A buffers
constexpr size_t MC = 96;                     // rows of A per block (rounded down to MR)
constexpr size_t NC = 768;                    // columns of B per block (multiple of NR)
constexpr size_t B_BUDGET = size_t(1) << 20;  // bytes of packed B kept for one A sweep
constexpr size_t A1_BUDGET = size_t(1) << 20; // bytes of the packed A pair plane

#if defined(__GNUC__)
// In-place accumulate: with the intrinsic, GCC 12 allocates the tied operand poorly (extra
// register moves and a spill in the IFMA kernel loop).
#define FSS_DPWSSD(acc, x, y) __asm__("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(y))
#else
#define FSS_DPWSSD(acc, x, y) ((acc) = _mm512_dpwssd_epi32((acc), (x), (y)))
#endif
#define FSS_IFMA_TARGET __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx512ifma,avx512vnni")))

inline __mmask8 col_mask(ptrdiff_t cols) {
  if (cols >= 8) return 0xFF;
  if (cols <= 0) return 0;
  return static_cast<__mmask8>((1u << cols) - 1);
}

template <int Tag>
uint64_t* scratch(size_t n) {
  thread_local std::vector<uint64_t> v;
  if (v.size() < n) v.resize(n);
  return v.data();
}

inline void store_tile_row(uint64_t* c, __m512i r, __mmask8 mk, bool accumulate) {
  if (mk == 0xFF) {
    if (accumulate) r = _mm512_add_epi64(r, _mm512_loadu_si512(c));
    _mm512_storeu_si512(c, r);
  } else if (mk) {
    if (accumulate) r = _mm512_add_epi64(r, _mm512_maskz_loadu_epi64(mk, c));
    _mm512_mask_storeu_epi64(c, mk, r);
  }
}

// ------------------------------------------------------------------ IFMA + VNNI family
// 16-bit pair (a1, a0') of each a, as uint32 (low half a1 = a >> 52, high half a mod 2^12).
inline __m512i pair_a(__m512i v) {
  return _mm512_or_si512(_mm512_srli_epi64(v, 52), _mm512_slli_epi64(_mm512_and_si512(v, _mm512_set1_epi64(0xFFF)), 16));
}
// 16-bit pair (b0', b1) of each b: low half b mod 2^12, high half b >> 52.
inline __m512i pair_b(__m512i v) {
  return _mm512_or_si512(_mm512_and_si512(v, _mm512_set1_epi64(0xFFF)), _mm512_slli_epi64(_mm512_srli_epi64(v, 52), 16));
}

struct IfmaFamily {
  static size_t b_panel(size_t nr_, size_t kc) { return (kc + 1) / 2 * 3 * nr_; }

  // B rows [0, kc) x cols [0, nc) into NR-wide panels (panel stride b_panel(NR, kc)), read
  // row by row; columns beyond nc are zero.
  template <int NR>
  static void pack_b(const uint64_t* b, size_t ldb, size_t nc, size_t kc, uint64_t* dst) {
    const size_t nvec = (nc + NR - 1) / NR * (NR / 8), panel = b_panel(NR, kc);
    for (size_t p = 0; p < kc; p += 2) {
      const uint64_t* r0 = b + p * ldb;
      const bool two = p + 1 < kc;
      uint64_t* d0 = dst + (p / 2) * 3 * NR;
      for (size_t w = 0; w < nvec; ++w) {
        const __mmask8 mk = col_mask(static_cast<ptrdiff_t>(nc) - static_cast<ptrdiff_t>(8 * w));
        const __m512i x0 = _mm512_maskz_loadu_epi64(mk, r0 + 8 * w);
        const __m512i x1 = two ? _mm512_maskz_loadu_epi64(mk, r0 + ldb + 8 * w) : _mm512_setzero_si512();
        uint64_t* d = d0 + (w / (NR / 8)) * panel + 8 * (w % (NR / 8));
        _mm512_storeu_si512(d, x0);
        _mm512_storeu_si512(d + NR, x1);
        _mm512_storeu_si512(d + 2 * NR, _mm512_or_si512(pair_b(x0), _mm512_slli_epi64(pair_b(x1), 32)));
      }
    }
  }

  // Pair plane of one row of A: dst[p] = pair_a(a[p]) for p < kc, dst[kc] = 0 if kc is odd.
  static void pack_a1_row(const uint64_t* a, size_t kc, uint32_t* dst) {
    size_t p = 0;
    for (; p + 8 <= kc; p += 8)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + p), _mm512_cvtepi64_epi32(pair_a(_mm512_loadu_si512(a + p))));
    if (p < kc) {
      const __mmask8 mk = col_mask(static_cast<ptrdiff_t>(kc - p));
      _mm512_mask_cvtepi64_storeu_epi32(dst + p, mk, pair_a(_mm512_maskz_loadu_epi64(mk, a + p)));
    }
    if (kc & 1) dst[kc] = 0;
  }

  // C[0:mr, 0:nr] (=|+=) A @ B over kc. a0: rows of A (stride lda0); a1: pair plane
  // (stride KS uint32); bp: packed B panel.
  template <int MR, int NV>
  FSS_IFMA_TARGET __attribute__((noinline)) static void kernel(size_t kc, const uint64_t* __restrict a0, size_t lda0,
                                                                const uint32_t* __restrict a1,
                                                                const uint64_t* __restrict bp, uint64_t* c, size_t ldc,
                                                                size_t mr, size_t nr, bool accumulate) {
    constexpr int NR = 8 * NV;
    __m512i L[MR][NV], H[MR][NV], X[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) L[i][v] = H[i][v] = X[i][v] = _mm512_setzero_si512();
    // One k step (h = 0 or 1 within the pair): L, H += lo52, hi52 of a(k) * b(k).
#define FSS_IFMA_STEP(h)                                                                   \
  do {                                                                                     \
    __m512i b_[NV];                                                                        \
    _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) b_[v] =                          \
        _mm512_loadu_si512(bp + (h) * NR + 8 * v);                                         \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i) {                                \
      const __m512i a_ = _mm512_set1_epi64(static_cast<long long>(a0[i * lda0 + q + (h)])); \
      _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) {                               \
        L[i][v] = _mm512_madd52lo_epu64(L[i][v], a_, b_[v]);                               \
        H[i][v] = _mm512_madd52hi_epu64(H[i][v], a_, b_[v]);                               \
      }                                                                                    \
    }                                                                                      \
  } while (0)
    // Cross terms of the pair (k = q, q + 1): X += (a1, a0') . (b0', b1) in 32-bit lanes.
#define FSS_IFMA_CROSS()                                                                   \
  do {                                                                                     \
    __m512i y_[NV];                                                                        \
    _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) y_[v] =                          \
        _mm512_loadu_si512(bp + 2 * NR + 8 * v);                                           \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; ++i) {                                \
      uint64_t xv_;                                                                        \
      std::memcpy(&xv_, a1 + i * KS + q, sizeof xv_);                                      \
      const __m512i x_ = _mm512_set1_epi64(static_cast<long long>(xv_));                   \
      _Pragma("GCC unroll 4") for (int v = 0; v < NV; ++v) FSS_DPWSSD(X[i][v], x_, y_[v]); \
    }                                                                                      \
  } while (0)
    size_t q = 0;
    for (; q + 2 <= kc; q += 2) {
      FSS_IFMA_STEP(0);
      FSS_IFMA_STEP(1);
      FSS_IFMA_CROSS();
      bp += 3 * NR;
    }
    if (q < kc) {  // odd kc: the pair plane and y hold zeros for k = kc
      FSS_IFMA_STEP(0);
      FSS_IFMA_CROSS();
    }
#undef FSS_IFMA_STEP
#undef FSS_IFMA_CROSS
    __mmask8 mk[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) mk[v] = col_mask(static_cast<ptrdiff_t>(nr) - 8 * v);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      if (static_cast<size_t>(i) >= mr) break;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        const __m512i x = _mm512_add_epi64(X[i][v], _mm512_srli_epi64(X[i][v], 32));
        const __m512i r = _mm512_add_epi64(L[i][v], _mm512_slli_epi64(_mm512_add_epi64(H[i][v], x), 52));
        store_tile_row(c + i * ldc + 8 * v, r, mk[v], accumulate);
      }
    }
  }
  static constexpr bool kPairPlane = true;
};

// ------------------------------------------------------------------ vpmullq family
struct MullqFamily {
  static size_t b_panel(size_t nr_, size_t kc) { return kc * nr_; }

  template <int NR>
  static void pack_b(const uint64_t* b, size_t ldb, size_t nc, size_t kc, uint64_t* dst) {
    const size_t nvec = (nc + NR - 1) / NR * (NR / 8), panel = b_panel(NR, kc);
    for (size_t p = 0; p < kc; ++p)
      for (size_t w = 0; w < nvec; ++w) {
        const __mmask8 mk = col_mask(static_cast<ptrdiff_t>(nc) - static_cast<ptrdiff_t>(8 * w));
        _mm512_storeu_si512(dst + (w / (NR / 8)) * panel + p * NR + 8 * (w % (NR / 8)),
                            _mm512_maskz_loadu_epi64(mk, b + p * ldb + 8 * w));
      }
  }

  static void pack_a1_row(const uint64_t*, size_t, uint32_t*) {}

  template <int MR, int NV>
  __attribute__((noinline)) static void kernel(size_t kc, const uint64_t* __restrict a0, size_t lda0, const uint32_t*,
                                               const uint64_t* __restrict bp, uint64_t* c, size_t ldc, size_t mr,
                                               size_t nr, bool accumulate) {
    constexpr int NR = 8 * NV;
    __m512i acc[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_si512();
    for (size_t p = 0; p < kc; ++p) {
      __m512i bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_si512(bp + 8 * v);
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) {
        const __m512i av = _mm512_set1_epi64(static_cast<long long>(a0[i * lda0 + p]));
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_add_epi64(acc[i][v], _mm512_mullo_epi64(av, bv[v]));
      }
      bp += NR;
    }
    __mmask8 mk[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) mk[v] = col_mask(static_cast<ptrdiff_t>(nr) - 8 * v);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      if (static_cast<size_t>(i) >= mr) break;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) store_tile_row(c + i * ldc + 8 * v, acc[i][v], mk[v], accumulate);
    }
  }
  static constexpr bool kPairPlane = false;
};

// ------------------------------------------------------------------ driver
// C[m x n] = A[m x k] @ B[k x n] (mod 2^64), k >= 1, arbitrary row strides; one thread.
// B is packed in groups of KC blocks that fit B_BUDGET (all of B when it is small), so that
// a row block of A is then swept over the whole group; within a KC block the B panel of
// each jr stays in L1/L2 while the MR-row tiles of the block pass over it.
template <class F, int MR, int NV>
void gemm_run(size_t m, size_t k, size_t n, const uint64_t* a, size_t lda, const uint64_t* b, size_t ldb,
              uint64_t* c, size_t ldc) {
  constexpr size_t NR = 8 * NV;
  constexpr size_t MCB = MC / MR * MR;
  static_assert(NC % NR == 0, "NC must be a multiple of NR");
  const size_t ncp = (std::min(NC, n) + NR - 1) / NR * NR;
  const size_t per_pc = (ncp / NR) * F::b_panel(NR, KC);
  const size_t pk = (k + KC - 1) / KC;
  constexpr size_t A1_BLOCK = MCB * KS / 2;  // uint64 per KC block of the pair plane
  constexpr size_t E_BLOCK = MR * KS;        // uint64 per KC block of the edge rows
  size_t group = std::min(pk, B_BUDGET / (per_pc * sizeof(uint64_t)));
  if (F::kPairPlane) group = std::min(group, A1_BUDGET / (A1_BLOCK * sizeof(uint64_t)));
  group = std::max<size_t>(1, group);
  uint64_t* bb = scratch<0>(group * per_pc);
  uint64_t* a1 = F::kPairPlane ? scratch<1>(group * A1_BLOCK) : nullptr;
  uint64_t* edge = scratch<2>(group * E_BLOCK);
  for (size_t jc = 0; jc < n; jc += NC) {
    const size_t nc = std::min(NC, n - jc);
    for (size_t pg = 0; pg < k; pg += group * KC) {
      const size_t pend = std::min(k, pg + group * KC);
      for (size_t pc = pg; pc < pend; pc += KC) {
        const size_t kc = std::min(KC, k - pc);
        uint64_t* dst = bb + ((pc - pg) / KC) * per_pc;
        F::template pack_b<static_cast<int>(NR)>(b + pc * ldb + jc, ldb, nc, kc, dst);
      }
      for (size_t ic = 0; ic < m; ic += MCB) {
        const size_t mc = std::min(MCB, m - ic);
        const size_t m_full = mc / MR * MR;
        // Pair plane of this row block over the group's depth, and copies of the rows of a
        // last partial tile (zero-padded to MR rows): A is read row by row, contiguously,
        // once from memory; the micro-kernels then find it in L2.
        for (size_t r = 0; r < mc; ++r) {
          const uint64_t* arow = a + (ic + r) * lda;
          for (size_t pc = pg; pc < pend; pc += KC) {
            const size_t blk = (pc - pg) / KC, kc = std::min(KC, k - pc);
            if (F::kPairPlane) F::pack_a1_row(arow + pc, kc, reinterpret_cast<uint32_t*>(a1 + blk * A1_BLOCK) + r * KS);
            if (r >= m_full) std::memcpy(edge + blk * E_BLOCK + (r - m_full) * KS, arow + pc, kc * sizeof(uint64_t));
          }
        }
        if (m_full < mc)
          for (size_t pc = pg; pc < pend; pc += KC)
            for (size_t i = mc - m_full; i < MR; ++i)
              std::memset(edge + (pc - pg) / KC * E_BLOCK + i * KS, 0, KS * sizeof(uint64_t));
        for (size_t pc = pg; pc < pend; pc += KC) {
          const size_t blk = (pc - pg) / KC, kc = std::min(KC, k - pc);
          const uint64_t* ablk = a + ic * lda + pc;
          const uint32_t* a1blk = F::kPairPlane ? reinterpret_cast<const uint32_t*>(a1 + blk * A1_BLOCK) : nullptr;
          const uint64_t* eblk = edge + blk * E_BLOCK;
          const uint64_t* bsrc = bb + blk * per_pc;
          for (size_t jr = 0; jr < nc; jr += NR) {
            const uint64_t* bp = bsrc + (jr / NR) * F::b_panel(NR, kc);
            const size_t nr = std::min(NR, nc - jr);
            for (size_t ir = 0; ir < mc; ir += MR) {
              const bool full = ir < m_full;
              F::template kernel<MR, NV>(kc, full ? ablk + ir * lda : eblk, full ? lda : KS,
                                         a1blk ? a1blk + ir * KS : nullptr, bp, c + (ic + ir) * ldc + jc + jr, ldc,
                                         std::min<size_t>(MR, mc - ir), nr, pc > 0);
            }
          }
        }
      }
    }
  }
}

}  // namespace

// Entry points used by ring_gemm.cpp: C[m x n] = A[m x k] @ B[k x n] mod 2^64 on one thread,
// k, m, n >= 1, arbitrary row strides (lda, ldb, ldc in elements).
//
// Tile choice, measured on Sapphire Rapids: IFMA 4x16 for n > 8 (kernel ~6.3 multiply-adds
// per cycle). For n <= 8 each element of A feeds only 8 products, so the A pass dominates:
// IFMA 6x8 while A fits in L2, else vpmullq 12x8, which reads A once and packs nothing.
void ring_gemm_block_ifma(size_t m, size_t k, size_t n, const uint64_t* a, size_t lda, const uint64_t* b,
                          size_t ldb, uint64_t* c, size_t ldc) {
  if (n > 8)
    gemm_run<IfmaFamily, 4, 2>(m, k, n, a, lda, b, ldb, c, ldc);
  else if (m * k <= (size_t(1) << 18))
    gemm_run<IfmaFamily, 6, 1>(m, k, n, a, lda, b, ldb, c, ldc);
  else
    gemm_run<MullqFamily, 12, 1>(m, k, n, a, lda, b, ldb, c, ldc);
}

// vpmullq only (AVX-512 DQ without IFMA/VNNI): ~4 multiply-adds per cycle.
void ring_gemm_block_avx512(size_t m, size_t k, size_t n, const uint64_t* a, size_t lda, const uint64_t* b,
                            size_t ldb, uint64_t* c, size_t ldc) {
  if (n <= 8)
    gemm_run<MullqFamily, 12, 1>(m, k, n, a, lda, b, ldb, c, ldc);
  else
    gemm_run<MullqFamily, 12, 2>(m, k, n, a, lda, b, ldb, c, ldc);
}

}  // namespace ring_detail
}  // namespace fss
#endif  // FSS_X86
