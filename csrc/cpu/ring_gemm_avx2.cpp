// AVX2 kernel for the ring GEMM over Z_{2^64} (CPUs with AVX2 but no AVX-512, e.g. AMD Zen 2/3);
// dispatch and threads: ring_gemm.cpp. C[m x n] = A[m x k] @ B[k x n] mod 2^64 on one thread.
//
// AVX2 has no 64-bit multiply. With a = a_lo + 2^32 a_hi and b = b_lo + 2^32 b_hi (32-bit halves),
//     a*b = a_lo b_lo + 2^32 ((a_lo b_hi + a_hi b_lo) mod 2^32)   (mod 2^64),
// so per output two sums over k suffice:
//     L = sum a_lo b_lo              (mod 2^64)  vpmuludq (32x32 -> 64) + vpaddq, 4 outputs per ymm
//     X = sum a_lo b_hi + a_hi b_lo  (mod 2^32)  vpmulld (low 32 bits)  + vpaddd, 8 outputs per ymm
// and C = L + (X << 32). Exact for every k and every input: each sum is taken mod 2^64 or
// mod 2^32 and only those bits are used. Per 8 multiply-adds: 2 vpmuludq + 2 vpmulld + 4 adds.
//
// Two drivers, both exact for every m, k, n >= 1 and any row strides (the caller checks
// sizes and overlap; this file throws only std::bad_alloc, from its packing buffers):
//  * m > DIRECT_M: GotoBLAS-style loops jc / pc / ic / jr / ir with 3 x 8 register tiles
//    (9 accumulators; 4 rows spill on GCC 12 and ran slower). B is packed per KC x NC block
//    into 8-column panels; per k a panel holds two ymm of uint32: V0 = b_lo of columns
//    (0,4,1,5,2,6,3,7) and V1 = b_hi in the same order. Then vpmuludq(a_lo, V0) gives a_lo b_lo
//    of columns 0..3 in its 64-bit lanes, vpmuludq(a_lo, V0 >> 32) columns 4..7, and the 32-bit
//    lanes of X hold columns (0,4,1,5,...): X << 32 lines up with columns 0..3 and
//    X & 0xFFFFFFFF00000000 with columns 4..7. Packed columns beyond n are zero. a_lo and
//    a_hi are 32-bit broadcasts straight from the uint64 in A (x86 is little-endian).
//  * m <= DIRECT_M: B read in place (see gemm_direct).
// Measured on AMD EPYC (Zen 3, one thread): the 3 x 8 kernel runs ~4.1 multiply-adds per TSC
// tick from L1, i.e. ~2 (multiply + add) pairs per tick, the rate a micro-benchmark of
// independent vpmuludq/vpmulld + add pairs reached on that core; going faster would need
// fewer multiplies per product.
// The packing buffers are thread_local, owned by this file, and only grow.
//
// ISA: every function that executes AVX2 carries the target attribute, so the file is right
// without flags (CMake also gives *_avx2.cpp files -mavx2 -mfma). It instantiates no library
// template that another translation unit could share (a shared out-of-line copy compiled for
// AVX2 could be picked by the linker for non-AVX2 callers).
#if defined(FSS_X86)
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace fss {
namespace ring_detail {

namespace {

#define FSS_AVX2_GEMM __attribute__((target("avx2")))

constexpr size_t NR = 8;     // columns of a register tile and of a packed B panel
constexpr size_t KC = 256;   // depth of a packed block: a B panel (KC x 8 x 8 bytes) stays in L1
constexpr size_t MC = 120;   // rows of A per block (rounded down to MR): MC x KC x 8 bytes in L2
constexpr size_t NC = 512;   // columns of B per block (multiple of NR)
constexpr size_t KS = KC + 8;  // row stride of a copied A block: no 4 KiB aliasing between its rows

inline size_t min_sz(size_t x, size_t y) { return x < y ? x : y; }

// A grow-only buffer of uint64, one per thread and use (Tag); released at thread exit.
struct Scratch {
  uint64_t* p = nullptr;
  size_t n = 0;
  ~Scratch() { delete[] p; }
  uint64_t* get(size_t want) {
    if (n < want) {
      delete[] p;
      p = nullptr;
      n = 0;
      p = new uint64_t[want];  // bad_alloc propagates to ring_gemm.cpp's task loop
      n = want;
    }
    return p;
  }
};

template <int Tag>
uint64_t* scratch(size_t want) {
  thread_local Scratch s;
  return s.get(want);
}

FSS_AVX2_GEMM inline __m256i load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
FSS_AVX2_GEMM inline void store(void* p, __m256i v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }

// B rows [0, kc) x columns [0, nc) (row stride ldb) into 8-column panels of 2 * 8 * kc uint32
// each (the order in the header); columns beyond nc are zero.
FSS_AVX2_GEMM void pack_b(const uint64_t* b, size_t ldb, size_t nc, size_t kc, uint32_t* dst) {
  const size_t panels = (nc + NR - 1) / NR;
  for (size_t jp = 0; jp < panels; ++jp) {
    const size_t j0 = jp * NR, w = min_sz(NR, nc - j0);
    uint32_t* d = dst + jp * 2 * NR * kc;
    for (size_t p = 0; p < kc; ++p, d += 2 * NR) {
      const uint64_t* row = b + p * ldb + j0;
      __m256i q0, q1;  // raw columns 0..3 and 4..7
      if (w == NR) {
        q0 = load(row);
        q1 = load(row + 4);
      } else {
        alignas(32) uint64_t t[NR] = {0, 0, 0, 0, 0, 0, 0, 0};
        std::memcpy(t, row, w * sizeof(uint64_t));
        q0 = load(t);
        q1 = load(t + 4);
      }
      store(d, _mm256_blend_epi32(q0, _mm256_slli_epi64(q1, 32), 0xAA));       // lo: 0,4,1,5,...
      store(d + NR, _mm256_blend_epi32(_mm256_srli_epi64(q0, 32), q1, 0xAA));  // hi: same order
    }
  }
}

// C[0:MR, 0:nr] (= or += when accumulate) A[0:MR, 0:kc] (row stride lda, read in place: a_lo
// and a_hi are 32-bit broadcasts from the raw uint64) @ a packed B panel; nr <= 8.
template <int MR>
FSS_AVX2_GEMM __attribute__((noinline)) void kernel(size_t kc, const uint64_t* __restrict a, size_t lda,
                                                    const uint32_t* __restrict bp, uint64_t* c, size_t ldc, size_t nr,
                                                    bool accumulate) {
  // The 32-bit halves of a uint64 x are at byte offsets 0 (x_lo) and 4 (x_hi) on x86; they are
  // read with _mm_loadu_si32, which may alias any type.
  const char* ap = reinterpret_cast<const char*>(a);
  const size_t lda_bytes = lda * sizeof(uint64_t);
  __m256i l0[MR], l1[MR], x[MR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) l0[i] = l1[i] = x[i] = _mm256_setzero_si256();
  for (size_t p = 0; p < kc; ++p) {
    const __m256i v0 = load(bp), v1 = load(bp + NR), v0s = _mm256_srli_epi64(v0, 32);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m256i lo = _mm256_broadcastd_epi32(_mm_loadu_si32(ap + i * lda_bytes));
      const __m256i hi = _mm256_broadcastd_epi32(_mm_loadu_si32(ap + i * lda_bytes + 4));
      l0[i] = _mm256_add_epi64(l0[i], _mm256_mul_epu32(lo, v0));
      l1[i] = _mm256_add_epi64(l1[i], _mm256_mul_epu32(lo, v0s));
      x[i] = _mm256_add_epi32(x[i], _mm256_mullo_epi32(hi, v0));
      x[i] = _mm256_add_epi32(x[i], _mm256_mullo_epi32(lo, v1));
    }
    ap += sizeof(uint64_t);
    bp += 2 * NR;
  }
  const __m256i hi_mask = _mm256_set1_epi64x(static_cast<long long>(0xFFFFFFFF00000000ull));
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    __m256i r0 = _mm256_add_epi64(l0[i], _mm256_slli_epi64(x[i], 32));
    __m256i r1 = _mm256_add_epi64(l1[i], _mm256_and_si256(x[i], hi_mask));
    uint64_t* crow = c + i * ldc;
    if (nr == NR) {
      if (accumulate) {
        r0 = _mm256_add_epi64(r0, load(crow));
        r1 = _mm256_add_epi64(r1, load(crow + 4));
      }
      store(crow, r0);
      store(crow + 4, r1);
    } else {
      alignas(32) uint64_t t[NR];
      store(t, r0);
      store(t + 4, r1);
      for (size_t j = 0; j < nr; ++j) crow[j] = accumulate ? crow[j] + t[j] : t[j];
    }
  }
}

// Few rows (m <= DIRECT_M): packing B would cost about as much as the products, so B is read
// in place, raw. For R rows x 8 columns: per k, L_v += vpmuludq(a, B_v) (a_lo b_lo of 4
// columns) and X_v += vpmulld(a_swapped, B_v), whose 32-bit lanes hold a_hi b_lo and a_lo
// b_hi of each column; then C_v = L_v + (X_v << 32) + (X_v & 0xFFFFFFFF00000000), the two
// cross halves of a column summed in its high 32 bits. Columns [j0, j0 + nr), nr <= 8; the
// tail columns are loaded with a mask (nothing beyond row end is read).
constexpr size_t DIRECT_M = 4;

template <int R>
FSS_AVX2_GEMM __attribute__((noinline)) void direct_strip(size_t k, const uint64_t* __restrict a, size_t lda,
                                                          const uint64_t* __restrict b, size_t ldb, uint64_t* c,
                                                          size_t ldc, size_t nr) {
  __m256i l[R][2], x[R][2];
#pragma GCC unroll 4
  for (int i = 0; i < R; ++i) l[i][0] = l[i][1] = x[i][0] = x[i][1] = _mm256_setzero_si256();
  const __m256i lane = _mm256_setr_epi64x(0, 1, 2, 3);
  const __m256i m0 = _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(nr)), lane);
  const __m256i m1 = _mm256_cmpgt_epi64(_mm256_set1_epi64x(static_cast<long long>(nr) - 4), lane);
  for (size_t p = 0; p < k; ++p) {
    const uint64_t* row = b + p * ldb;
    __m256i b0, b1;
    if (nr == NR) {
      b0 = load(row);
      b1 = load(row + 4);
    } else {
      b0 = _mm256_maskload_epi64(reinterpret_cast<const long long*>(row), m0);
      b1 = _mm256_maskload_epi64(reinterpret_cast<const long long*>(row + 4), m1);
    }
#pragma GCC unroll 4
    for (int i = 0; i < R; ++i) {
      const __m256i av = _mm256_set1_epi64x(static_cast<long long>(a[i * lda + p]));
      const __m256i as = _mm256_shuffle_epi32(av, 0xB1);  // (a_hi, a_lo) in every 64-bit lane
      l[i][0] = _mm256_add_epi64(l[i][0], _mm256_mul_epu32(av, b0));
      l[i][1] = _mm256_add_epi64(l[i][1], _mm256_mul_epu32(av, b1));
      x[i][0] = _mm256_add_epi32(x[i][0], _mm256_mullo_epi32(as, b0));
      x[i][1] = _mm256_add_epi32(x[i][1], _mm256_mullo_epi32(as, b1));
    }
  }
  const __m256i hi_mask = _mm256_set1_epi64x(static_cast<long long>(0xFFFFFFFF00000000ull));
#pragma GCC unroll 4
  for (int i = 0; i < R; ++i) {
    alignas(32) uint64_t t[NR];
#pragma GCC unroll 2
    for (int v = 0; v < 2; ++v)
      store(t + 4 * v, _mm256_add_epi64(l[i][v], _mm256_add_epi64(_mm256_slli_epi64(x[i][v], 32),
                                                                   _mm256_and_si256(x[i][v], hi_mask))));
    std::memcpy(c + i * ldc, t, nr * sizeof(uint64_t));
  }
}

void gemm_direct(size_t m, size_t k, size_t n, const uint64_t* a, size_t lda, const uint64_t* b, size_t ldb,
                 uint64_t* c, size_t ldc) {
  for (size_t j0 = 0; j0 < n; j0 += NR) {
    const size_t nr = min_sz(NR, n - j0);
    size_t i = 0;
    for (; i + 2 <= m; i += 2) direct_strip<2>(k, a + i * lda, lda, b + j0, ldb, c + i * ldc + j0, ldc, nr);
    if (i < m) direct_strip<1>(k, a + i * lda, lda, b + j0, ldb, c + i * ldc + j0, ldc, nr);
  }
}

// The driver: B is packed once per (jc, pc) block and swept by every row block of A; within
// a block the B panel of each jr stays in L1 while the MR-row tiles of A (in L2) pass over it.
// When more than one panel reuses an A block, its rows are first copied to a buffer of row
// stride KS (a large power-of-two lda would map the block's rows onto few L1/L2 sets); with a
// single panel A is read in place, once. Rows of a last partial tile go to the kernel of that
// many rows.
template <int MR>
void gemm_run(size_t m, size_t k, size_t n, const uint64_t* a, size_t lda, const uint64_t* b, size_t ldb,
              uint64_t* c, size_t ldc) {
  static_assert(MR >= 1 && MR <= 4, "tail dispatch covers MR <= 4");
  constexpr size_t MCB = MC / MR * MR;
  const size_t ncp = (min_sz(NC, n) + NR - 1) / NR * NR;
  uint32_t* bb = reinterpret_cast<uint32_t*>(scratch<0>(ncp * KC));
  const bool copy_a = n > NR;
  uint64_t* ab = copy_a ? scratch<1>(MCB * KS) : nullptr;
  for (size_t jc = 0; jc < n; jc += NC) {
    const size_t nc = min_sz(NC, n - jc);
    for (size_t pc = 0; pc < k; pc += KC) {
      const size_t kc = min_sz(KC, k - pc);
      const bool acc = pc > 0;
      pack_b(b + pc * ldb + jc, ldb, nc, kc, bb);
      for (size_t ic = 0; ic < m; ic += MCB) {
        const size_t mc = min_sz(MCB, m - ic), m_full = mc / MR * MR;
        const uint64_t* at = a + ic * lda + pc;
        size_t ld = lda;
        if (copy_a) {
          for (size_t r = 0; r < mc; ++r) std::memcpy(ab + r * KS, at + r * lda, kc * sizeof(uint64_t));
          at = ab;
          ld = KS;
        }
        for (size_t jr = 0; jr < nc; jr += NR) {
          const uint32_t* bp = bb + (jr / NR) * 2 * NR * kc;
          const size_t nr = min_sz(NR, nc - jr);
          uint64_t* ct = c + ic * ldc + jc + jr;
          size_t ir = 0;
          for (; ir < m_full; ir += MR) kernel<MR>(kc, at + ir * ld, ld, bp, ct + ir * ldc, ldc, nr, acc);
          switch (mc - ir) {
            case 3: kernel<3>(kc, at + ir * ld, ld, bp, ct + ir * ldc, ldc, nr, acc); break;
            case 2: kernel<2>(kc, at + ir * ld, ld, bp, ct + ir * ldc, ldc, nr, acc); break;
            case 1: kernel<1>(kc, at + ir * ld, ld, bp, ct + ir * ldc, ldc, nr, acc); break;
            default: break;
          }
        }
      }
    }
  }
}

}  // namespace

// Entry point used by ring_gemm.cpp: C[m x n] = A[m x k] @ B[k x n] mod 2^64 on one thread,
// m, k, n >= 1, row strides lda, ldb, ldc in elements; C must not overlap A or B.
void ring_gemm_block_avx2(size_t m, size_t k, size_t n, const uint64_t* a, size_t lda, const uint64_t* b, size_t ldb,
                          uint64_t* c, size_t ldc) {
  if (m <= DIRECT_M)
    gemm_direct(m, k, n, a, lda, b, ldb, c, ldc);
  else
    gemm_run<3>(m, k, n, a, lda, b, ldb, c, ldc);
}

}  // namespace ring_detail
}  // namespace fss
#endif  // FSS_X86
