// Ring GEMM mod 2^64 on integer tensor cores: the tile geometry and the per-thread pieces
// shared by the kernel (ring_gemm_imma.cu) and its host emulation (emulate_ring.cu).
//
// Arithmetic. Write a = sum_i a_i 2^(8i) and b = sum_j b_j 2^(8j) with byte limbs a_i, b_j in
// [0, 255] (i, j < 8). Then
//     a * b  =  sum_{i+j<8} a_i b_j 2^(8(i+j))  (mod 2^64),
// because every pair with i + j >= 8 is a multiple of 2^64. So C = A @ B mod 2^64 is
//     C = sum_{s<8} 2^(8s) P_s,   P_s = sum_{i+j=s} A_i @ B_j     (A_i: the byte-i plane of A)
// 36 byte-plane products, each an exact u8 x u8 -> s32 GEMM on the tensor cores
// (mma.sync.aligned.m16n8k32.row.col.s32.u8.u8.s32, sm_80 and later).
// Exactness: P_s has s + 1 <= 8 terms of at most 255 * 255 per k, so over a chunk of
// kFlushK = 4096 values of k it is at most 8 * 4096 * 65025 = 2,130,739,200 < 2^31: the s32
// accumulators never overflow (no reliance on wrap-around or saturation). After every chunk
// (and at the end) each thread folds its accumulators into uint64:
//     c += sum_s (uint64) P_s << 8s      (mod 2^64)
// writing C on the first fold and adding to it on later ones (K > 4096).
//
// Tiles. A 256-thread block (8 warps) computes a 64 x 64 tile of C, stepping through k in
// slices of kBK = 32 (one mma k-step). Each slice of A (64 x 32 uint64) and B (32 x 64) is
// split into 8 byte planes in shared memory, A row-major [row][k], B column-major [col][k]
// (k contiguous, what the .row.col fragments read as 32-bit words). A plane row is padded to
// kRowBytes = 48 bytes (12 words): fragment loads touch words 12g + t (g < 8, t < 4), all in
// different banks. Warp w owns rows 16 (w % 4) .. +15 and columns 32 (w / 4) .. +31 of the
// tile: one m16 x (4 x n8) strip, i.e. 8 (s) x 4 (n-tiles) x 4 = 128 s32 accumulators per
// thread.
//
// Fragments (PTX ISA, "Matrix Fragments for mma.m16n8k32", .u8): g = lane / 4, t = lane % 4;
//   A 16x32 row: reg 0 row g k 4t..4t+3 | reg 1 row g+8, same k | reg 2 row g, k 16+4t.. |
//                reg 3 row g+8, k 16+4t..                (low byte = lowest k)
//   B 32x8 col:  reg 0 col g, k 4t..4t+3 | reg 1 col g, k 16+4t..
//   C 16x8 s32:  c0, c1 row g, cols 2t, 2t+1 | c2, c3 row g+8, cols 2t, 2t+1
#pragma once
#include <cstdint>
#include <cstring>

#include "aes_device.cuh"  // FSS_HD

namespace fss {
namespace cuda {
namespace imma {

constexpr int kLimbs = 8;
constexpr int kBM = 64, kBN = 64, kBK = 32;
constexpr int kThreads = 256;
constexpr int kNTiles = 4;                    // n8 tiles per warp (32 columns)
constexpr int kRowBytes = kBK + 16;           // padded plane row (see above)
constexpr int kPlaneBytes = kBM * kRowBytes;  // one limb plane of a slice (kBM == kBN)
constexpr int kSmemBytes = 2 * kLimbs * kPlaneBytes;
constexpr uint64_t kFlushK = 4096;            // k values summed in s32 between folds
constexpr uint64_t kMaxFlushTiles = kFlushK / kBK;
static_assert(kBM == kBN, "one plane size for A and B");
static_assert(kSmemBytes <= 48 * 1024, "static shared memory limit");
static_assert(kFlushK % kBK == 0, "folds happen at slice boundaries");
static_assert(uint64_t(kLimbs) * kFlushK * 255u * 255u < (uint64_t(1) << 31), "s32 accumulators must not overflow");

struct Params {
  const uint64_t* a;
  const uint64_t* b;
  uint64_t* c;
  uint64_t batch, m, k, n, sa, sb;  // sa, sb: batch strides in elements (0 broadcasts)
  uint64_t mtiles;
  uint64_t flush_tiles;             // slices between folds, 1..kMaxFlushTiles
};

// Accumulators of one thread: [s][n-tile][register].
using Acc = int32_t[kLimbs][kNTiles][4];

// The 32-bit word of byte plane `limb` made of 4 consecutive-k values v[0..3] (low byte = v[0]).
FSS_HD uint32_t limb_word(const uint64_t v[4], int limb) {
  const int sh = 8 * limb;
  return static_cast<uint32_t>((v[0] >> sh) & 0xff) | (static_cast<uint32_t>((v[1] >> sh) & 0xff) << 8) |
         (static_cast<uint32_t>((v[2] >> sh) & 0xff) << 16) | (static_cast<uint32_t>((v[3] >> sh) & 0xff) << 24);
}

// 4-byte aligned shared-memory word access (memcpy on the host: no type-punning there).
FSS_HD void store_word(uint8_t* p, uint32_t w) {
#ifdef __CUDA_ARCH__
  *reinterpret_cast<uint32_t*>(p) = w;
#else
  std::memcpy(p, &w, 4);
#endif
}
FSS_HD uint32_t load_word(const uint8_t* p) {
#ifdef __CUDA_ARCH__
  return *reinterpret_cast<const uint32_t*>(p);
#else
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
#endif
}

// Thread `tid` stages its share of slice k0 of A (rows m0..m0+63 of batch entry A) into the
// 8 planes `sa` (zeros outside the matrix): 64 rows x 8 groups of 4 k = 2 items per thread,
// 8 consecutive threads covering one row's 32 contiguous values.
FSS_HD void stage_a(const Params& p, const uint64_t* A, uint64_t m0, uint64_t k0, int tid, uint8_t* sa) {
#pragma unroll
  for (int r = 0; r < (kBM * kBK / 4) / kThreads; ++r) {
    const int e = tid + kThreads * r, row = e / (kBK / 4), grp = e % (kBK / 4);
    const uint64_t gr = m0 + row, gk = k0 + 4 * grp;
    uint64_t v[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) v[q] = (gr < p.m && gk + q < p.k) ? A[gr * p.k + gk + q] : 0;
#pragma unroll
    for (int l = 0; l < kLimbs; ++l) store_word(sa + l * kPlaneBytes + row * kRowBytes + 4 * grp, limb_word(v, l));
  }
}

// The same for B (rows k0..k0+31, columns n0..n0+63), stored column-major: 64 columns x 8
// groups of 4 k = 2 items per thread, consecutive threads on consecutive columns (coalesced).
FSS_HD void stage_b(const Params& p, const uint64_t* B, uint64_t n0, uint64_t k0, int tid, uint8_t* sb) {
#pragma unroll
  for (int r = 0; r < (kBN * kBK / 4) / kThreads; ++r) {
    const int e = tid + kThreads * r, col = e % kBN, grp = e / kBN;
    const uint64_t gc = n0 + col, gk = k0 + 4 * grp;
    uint64_t v[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) v[q] = (gc < p.n && gk + q < p.k) ? B[(gk + q) * p.n + gc] : 0;
#pragma unroll
    for (int l = 0; l < kLimbs; ++l) store_word(sb + l * kPlaneBytes + col * kRowBytes + 4 * grp, limb_word(v, l));
  }
}

// Warp `warp`, lane `lane`: the A fragment of plane `limb` (rows 16 (warp % 4) ..).
FSS_HD void load_a_frag(const uint8_t* sa, int warp, int lane, int limb, uint32_t r[4]) {
  const int g = lane >> 2, t = lane & 3;
  const uint8_t* base = sa + limb * kPlaneBytes + (16 * (warp % 4) + g) * kRowBytes + 4 * t;
  r[0] = load_word(base);
  r[1] = load_word(base + 8 * kRowBytes);
  r[2] = load_word(base + 16);
  r[3] = load_word(base + 8 * kRowBytes + 16);
}

// The B fragment of plane `limb`, n-tile `nt` (columns 32 (warp / 4) + 8 nt ..).
FSS_HD void load_b_frag(const uint8_t* sb, int warp, int lane, int nt, int limb, uint32_t r[2]) {
  const int g = lane >> 2, t = lane & 3;
  const uint8_t* base = sb + limb * kPlaneBytes + (32 * (warp / 4) + 8 * nt + g) * kRowBytes + 4 * t;
  r[0] = load_word(base);
  r[1] = load_word(base + 16);
}

// Folds the accumulators into C (tile origin m0, n0 of batch entry C): c = (first ? 0 : c)
// + sum_s P_s << 8s mod 2^64, for the elements of this thread inside the matrix; then zeroes
// the accumulators.
FSS_HD void fold(const Params& p, uint64_t* C, uint64_t m0, uint64_t n0, int warp, int lane, Acc& acc, bool first) {
  const int g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int nt = 0; nt < kNTiles; ++nt) {
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      uint64_t v = 0;
#pragma unroll
      for (int s = 0; s < kLimbs; ++s) {
        v += static_cast<uint64_t>(static_cast<uint32_t>(acc[s][nt][r])) << (8 * s);
        acc[s][nt][r] = 0;
      }
      const uint64_t row = m0 + 16 * (warp % 4) + g + 8 * (r >> 1);
      const uint64_t col = n0 + 32 * (warp / 4) + 8 * nt + 2 * t + (r & 1);
      if (row < p.m && col < p.n) {
        uint64_t* dst = C + row * p.n + col;
        *dst = first ? v : *dst + v;
      }
    }
  }
}

}  // namespace imma
}  // namespace cuda
}  // namespace fss
