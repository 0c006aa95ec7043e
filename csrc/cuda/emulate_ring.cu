// Host emulation of the Imma ring GEMM kernel (fss::cuda::emulate::ring_matmul_imma, for tests
// without a GPU): the kernel's loops over batch entries, tiles and k-slices, with the same
// staging, fragment loads and folds of ring_imma.cuh, run thread by thread (staging, folds)
// and warp by warp (fragments, mma) on host pointers. The warp-collective mma.sync
// m16n8k32.row.col.s32.u8.u8.s32 is computed here from the 32 lanes' fragments, written
// directly from the PTX ISA fragment tables (an independent statement of the layout that the
// kernel's loads assume; see ring_imma.cuh).
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "fss_host.cuh"
#include "fsskernels/errors.h"
#include "ring_imma.cuh"

namespace fss {
namespace cuda {
namespace emulate {
namespace {

using namespace imma;

// The byte of a 32-bit fragment register holding element e (0..3) of its group of 4.
inline uint32_t byte_of(uint32_t reg, int e) { return (reg >> (8 * e)) & 0xffu; }

// d[lane] += A B for one warp: A 16 x 32 and B 32 x 8 gathered from the lanes' fragments.
void warp_mma(const uint32_t a[32][4], const uint32_t b[32][2], int32_t* d[32]) {
  uint32_t A[16][32], B[32][8];
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    for (int e = 0; e < 4; ++e) {
      A[g][4 * t + e] = byte_of(a[lane][0], e);
      A[g + 8][4 * t + e] = byte_of(a[lane][1], e);
      A[g][16 + 4 * t + e] = byte_of(a[lane][2], e);
      A[g + 8][16 + 4 * t + e] = byte_of(a[lane][3], e);
      B[4 * t + e][g] = byte_of(b[lane][0], e);
      B[16 + 4 * t + e][g] = byte_of(b[lane][1], e);
    }
  }
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    for (int r = 0; r < 4; ++r) {
      const int row = g + 8 * (r / 2), col = 2 * t + (r % 2);
      int64_t sum = d[lane][r];
      for (int kk = 0; kk < 32; ++kk) sum += static_cast<int64_t>(A[row][kk]) * B[kk][col];
      if (sum > INT32_MAX) throw std::logic_error("ring_matmul_imma emulation: s32 accumulator overflow");
      d[lane][r] = static_cast<int32_t>(sum);
    }
  }
}

}  // namespace

void ring_matmul_imma(const RingGemmArgs& g, uint64_t flush_tiles) {
  const RingGemmExtents ext = check_ring_gemm_args(g);
  if (flush_tiles > kMaxFlushTiles)
    bad_arg("flush_tiles", "must be at most " + std::to_string(kMaxFlushTiles) + " (s32 accumulators)");
  if (ext.c == 0) return;
  if (g.k == 0) {
    std::memset(g.c, 0, ext.c * sizeof(uint64_t));
    return;
  }
  const Params p{g.a, g.b, g.c, g.batch, g.m, g.k, g.n, g.a_batch_stride, g.b_batch_stride,
                 (g.m + kBM - 1) / kBM, flush_tiles ? flush_tiles : kMaxFlushTiles};
  const uint64_t ntiles = (g.n + kBN - 1) / kBN;
  std::vector<uint8_t> sa(kLimbs * kPlaneBytes + 16), sb(kLimbs * kPlaneBytes + 16);
  struct ThreadAcc {
    Acc v;
  };
  std::vector<ThreadAcc> acc(kThreads);  // per thread of the block
  const int warps = kThreads / 32;
  for (uint64_t z = 0; z < p.batch; ++z) {
    const uint64_t* A = p.a + z * p.sa;
    const uint64_t* B = p.b + z * p.sb;
    uint64_t* C = p.c + z * p.m * p.n;
    for (uint64_t mt = 0; mt < p.mtiles; ++mt) {
      for (uint64_t nt0 = 0; nt0 < ntiles; ++nt0) {  // one block
        const uint64_t m0 = mt * kBM, n0 = nt0 * kBN;
        for (auto& a : acc) std::memset(&a.v, 0, sizeof(Acc));
        bool first = true;
        uint64_t since_fold = 0;
        for (uint64_t k0 = 0; k0 < p.k; k0 += kBK) {
          for (int tid = 0; tid < kThreads; ++tid) {
            stage_a(p, A, m0, k0, tid, sa.data());
            stage_b(p, B, n0, k0, tid, sb.data());
          }
          for (int w = 0; w < warps; ++w) {
            uint32_t af[kLimbs][32][4];
            for (int lane = 0; lane < 32; ++lane)
              for (int l = 0; l < kLimbs; ++l) load_a_frag(sa.data(), w, lane, l, af[l][lane]);
            for (int nt = 0; nt < kNTiles; ++nt) {
              uint32_t bf[kLimbs][32][2];
              for (int lane = 0; lane < 32; ++lane)
                for (int l = 0; l < kLimbs; ++l) load_b_frag(sb.data(), w, lane, nt, l, bf[l][lane]);
              for (int s = 0; s < kLimbs; ++s)
                for (int i = 0; i <= s; ++i) {
                  int32_t* d[32];
                  for (int lane = 0; lane < 32; ++lane) d[lane] = acc[32 * w + lane].v[s][nt];
                  warp_mma(af[i], bf[s - i], d);
                }
            }
          }
          if (++since_fold == p.flush_tiles && k0 + kBK < p.k) {
            for (int tid = 0; tid < kThreads; ++tid) fold(p, C, m0, n0, tid / 32, tid % 32, acc[tid].v, first);
            first = false;
            since_fold = 0;
          }
        }
        for (int tid = 0; tid < kThreads; ++tid) fold(p, C, m0, n0, tid / 32, tid % 32, acc[tid].v, first);
      }
    }
  }
}

}  // namespace emulate
}  // namespace cuda
}  // namespace fss
