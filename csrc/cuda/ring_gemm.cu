// Ring GEMM over Z_{2^64} on the GPU: C[b] = A[b] @ B[b] mod 2^64 (fss::RingGemmArgs), and the
// algorithm choice of fss::cuda::ring_matmul (the Imma kernel is in ring_gemm_imma.cu).
// The SIMT kernel:
// Classic shared-memory tiling: a 256-thread block computes a 64 x 64 tile of C, stepping
// through k in slices of 16; each thread keeps a 4 x 4 block of uint64 accumulators (rows
// ty + 16i, columns tx + 16j, so shared reads are broadcasts / conflict-free and global
// stores are 128-byte rows). uint64 multiply-adds wrap mod 2^64, so the result is exact.
#include <algorithm>
#include <string>

#include "fss_host.cuh"
#include "fsskernels/errors.h"

namespace fss {
namespace cuda {
namespace detail {
namespace {

constexpr int BM = 64, BN = 64, BK = 16, TM = 4, TN = 4;  // 16 x 16 threads

struct GemmParams {
  const uint64_t* a;
  const uint64_t* b;
  uint64_t* c;
  uint64_t batch, m, k, n, sa, sb;  // sa, sb: batch strides in elements (0 broadcasts)
  uint64_t mtiles;
};

__global__ void __launch_bounds__(256) ring_gemm_kernel(const GemmParams p) {
  __shared__ uint64_t As[BK][BM + 1];  // A tile, transposed (k-major); +1 breaks store conflicts
  __shared__ uint64_t Bs[BK][BN];
  const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
  const uint64_t n0 = static_cast<uint64_t>(blockIdx.x) * BN;
  for (uint64_t z = blockIdx.z; z < p.batch; z += gridDim.z) {
    const uint64_t* A = p.a + z * p.sa;
    const uint64_t* B = p.b + z * p.sb;
    uint64_t* C = p.c + z * p.m * p.n;
    for (uint64_t mt = blockIdx.y; mt < p.mtiles; mt += gridDim.y) {
      const uint64_t m0 = mt * BM;
      uint64_t acc[TM][TN];
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = 0;
      for (uint64_t k0 = 0; k0 < p.k; k0 += BK) {
#pragma unroll
        for (int r = 0; r < (BM * BK) / 256; ++r) {  // A: 64 rows x 16 cols
          const int e = tid + 256 * r, row = e / BK, col = e % BK;
          const uint64_t gr = m0 + row, gc = k0 + col;
          As[col][row] = (gr < p.m && gc < p.k) ? A[gr * p.k + gc] : 0;
        }
#pragma unroll
        for (int r = 0; r < (BK * BN) / 256; ++r) {  // B: 16 rows x 64 cols
          const int e = tid + 256 * r, row = e / BN, col = e % BN;
          const uint64_t gr = k0 + row, gc = n0 + col;
          Bs[row][col] = (gr < p.k && gc < p.n) ? B[gr * p.n + gc] : 0;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < BK; ++kk) {
          uint64_t av[TM], bv[TN];
#pragma unroll
          for (int i = 0; i < TM; ++i) av[i] = As[kk][ty + 16 * i];
#pragma unroll
          for (int j = 0; j < TN; ++j) bv[j] = Bs[kk][tx + 16 * j];
#pragma unroll
          for (int i = 0; i < TM; ++i)
#pragma unroll
            for (int j = 0; j < TN; ++j) acc[i][j] += av[i] * bv[j];
        }
        __syncthreads();
      }
#pragma unroll
      for (int i = 0; i < TM; ++i) {
        const uint64_t gr = m0 + ty + 16 * i;
        if (gr >= p.m) continue;
#pragma unroll
        for (int j = 0; j < TN; ++j) {
          const uint64_t gc = n0 + tx + 16 * j;
          if (gc < p.n) C[gr * p.n + gc] = acc[i][j];
        }
      }
    }
  }
}

}  // namespace

// ring_gemm_imma.cu
bool imma_supported();
void ring_matmul_imma(const RingGemmArgs& g, cudaStream_t s);
}  // namespace detail

void ring_matmul(const RingGemmArgs& g, void* stream, RingGemmAlgo algo) {
  using namespace detail;
  const size_t batch = g.batch, m = g.m, k = g.k, n = g.n;
  if (algo != RingGemmAlgo::Auto && algo != RingGemmAlgo::Simt && algo != RingGemmAlgo::Imma)
    bad_arg("algo", "must be Auto, Simt or Imma");
  const RingGemmExtents ext = check_ring_gemm_args(g);
  const size_t a_ext = ext.a, b_ext = ext.b, c_ext = ext.c;
  if (c_ext == 0) return;  // batch, m or n is zero
  const cudaStream_t s = as_stream(stream);
  require_device_ptr(g.c, c_ext * 8, 8, "c");
  if (k == 0) {
    check(cudaMemsetAsync(g.c, 0, c_ext * sizeof(uint64_t), s), "cudaMemsetAsync");
    return;
  }
  require_device_ptr(g.a, a_ext * 8, 8, "a");
  require_device_ptr(g.b, b_ext * 8, 8, "b");
  if (algo == RingGemmAlgo::Imma) {
    if (!imma_supported()) bad_arg("algo", "Imma needs compute capability >= 8.0 (integer mma.sync m16n8k32)");
    ring_matmul_imma(g, s);
    return;
  }
  GemmParams p{g.a, g.b, g.c, batch, m, k, n, g.a_batch_stride, g.b_batch_stride, (m + BM - 1) / BM};
  const uint64_t ntiles = (n + BN - 1) / BN;
  if (ntiles > 0x7fffffffu) bad_arg("b", "too many columns");
  const dim3 grid(static_cast<unsigned>(ntiles), static_cast<unsigned>(std::min<uint64_t>(p.mtiles, 65535)),
                  static_cast<unsigned>(std::min<uint64_t>(batch, 65535)));
  ring_gemm_kernel<<<grid, 256, 0, s>>>(p);
  check_launch("ring_matmul kernel");
}

}  // namespace cuda
}  // namespace fss
