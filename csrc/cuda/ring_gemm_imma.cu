// Ring GEMM over Z_{2^64} on integer tensor cores (fss::cuda::ring_matmul with
// RingGemmAlgo::Imma): C[b] = A[b] @ B[b] mod 2^64 from 36 u8 x u8 -> s32 byte-plane products
// (mma.sync m16n8k32, sm_80 and later), exact for every shape and value. The arithmetic, the
// tile geometry and the per-thread staging / fragment / fold code are in ring_imma.cuh, shared
// with the host emulation (emulate_ring.cu) that the tests run on machines without a GPU.
#include <algorithm>

#include "fss_host.cuh"
#include "fsskernels/errors.h"
#include "ring_imma.cuh"

namespace fss {
namespace cuda {
namespace detail {
namespace {

using namespace imma;

// D = A B + D for one m16n8k32 tile with unsigned byte inputs and s32 accumulators.
__device__ __forceinline__ void mma_u8(int32_t d[4], const uint32_t a[4], const uint32_t b[2]) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.u8.u8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
#else
  __trap();  // the launcher never selects this kernel below compute capability 8.0
#endif
}

__global__ void __launch_bounds__(kThreads, 1) ring_gemm_imma_kernel(const Params p) {
  __shared__ __align__(16) uint8_t sa[kLimbs * kPlaneBytes];
  __shared__ __align__(16) uint8_t sb[kLimbs * kPlaneBytes];
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const uint64_t n0 = static_cast<uint64_t>(blockIdx.x) * kBN;
  for (uint64_t z = blockIdx.z; z < p.batch; z += gridDim.z) {
    const uint64_t* A = p.a + z * p.sa;
    const uint64_t* B = p.b + z * p.sb;
    uint64_t* C = p.c + z * p.m * p.n;
    for (uint64_t mt = blockIdx.y; mt < p.mtiles; mt += gridDim.y) {
      const uint64_t m0 = mt * kBM;
      Acc acc;
#pragma unroll
      for (int s = 0; s < kLimbs; ++s)
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt)
#pragma unroll
          for (int r = 0; r < 4; ++r) acc[s][nt][r] = 0;
      bool first = true;
      uint64_t since_fold = 0;
      for (uint64_t k0 = 0; k0 < p.k; k0 += kBK) {
        __syncthreads();  // the previous slice's fragments are read
        stage_a(p, A, m0, k0, tid, sa);
        stage_b(p, B, n0, k0, tid, sb);
        __syncthreads();
        uint32_t af[kLimbs][4];
#pragma unroll
        for (int l = 0; l < kLimbs; ++l) load_a_frag(sa, warp, lane, l, af[l]);
#pragma unroll
        for (int nt = 0; nt < kNTiles; ++nt) {
          uint32_t bf[kLimbs][2];
#pragma unroll
          for (int l = 0; l < kLimbs; ++l) load_b_frag(sb, warp, lane, nt, l, bf[l]);
#pragma unroll
          for (int s = 0; s < kLimbs; ++s)
#pragma unroll
            for (int i = 0; i <= s; ++i) mma_u8(acc[s][nt], af[i], bf[s - i]);
        }
        if (++since_fold == p.flush_tiles && k0 + kBK < p.k) {
          fold(p, C, m0, n0, warp, lane, acc, first);
          first = false;
          since_fold = 0;
        }
      }
      fold(p, C, m0, n0, warp, lane, acc, first);
    }
  }
}

}  // namespace

bool imma_supported() {
  int dev = 0, major = 0;
  check(cudaGetDevice(&dev), "cudaGetDevice");
  check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev), "cudaDeviceGetAttribute");
  return major >= 8;
}

// Preconditions (checked by ring_matmul in ring_gemm.cu): arguments validated, device
// pointers checked, k > 0, batch * m * n > 0, compute capability >= 8.0.
void ring_matmul_imma(const RingGemmArgs& g, cudaStream_t s) {
  Params p{g.a, g.b, g.c, g.batch, g.m, g.k, g.n, g.a_batch_stride, g.b_batch_stride,
           (g.m + kBM - 1) / kBM, kMaxFlushTiles};
  const uint64_t ntiles = (g.n + kBN - 1) / kBN;
  if (ntiles > 0x7fffffffu) bad_arg("b", "too many columns");
  const dim3 grid(static_cast<unsigned>(ntiles), static_cast<unsigned>(std::min<uint64_t>(p.mtiles, 65535)),
                  static_cast<unsigned>(std::min<uint64_t>(g.batch, 65535)));
  ring_gemm_imma_kernel<<<grid, kThreads, 0, s>>>(p);
  check_launch("ring_matmul imma kernel");
}

}  // namespace detail
}  // namespace cuda
}  // namespace fss
