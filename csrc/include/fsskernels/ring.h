// fsskernels/ring.h: exact linear algebra over the ring Z_{2^64}.
//
// ring_matmul computes C[b] = A[b] @ B[b] mod 2^64 for b < batch, row-major, uint64
// (two's complement int64 gives the same bits). Exact for every shape: no overflow
// assumptions on values. Threads: split over fss::num_threads().
#pragma once
#include <cstddef>
#include <cstdint>

namespace fss {

struct RingGemmArgs {
  size_t batch = 1, m = 0, k = 0, n = 0;
  const uint64_t* a = nullptr;  // batch * m * k, row-major; a_batch_stride = 0 broadcasts A
  const uint64_t* b = nullptr;  // batch * k * n, row-major; b_batch_stride = 0 broadcasts B
  uint64_t* c = nullptr;        // batch * m * n, row-major (must not alias a or b)
  size_t a_batch_stride = 0, b_batch_stride = 0;  // in elements
};

void ring_matmul(const RingGemmArgs& args);

// Element counts spanned by a, b and c (0 when empty) after checking the arguments: sizes
// that overflow size_t, null pointers for non-empty operands, c overlapping a or b.
// Throws std::invalid_argument naming "a", "b" or "c". Shared by the CPU and CUDA GEMMs.
struct RingGemmExtents {
  size_t a, b, c;
};
RingGemmExtents check_ring_gemm_args(const RingGemmArgs& args);

}  // namespace fss
