// Table lookup with DPF keys on the GPU (fss::cuda::dpf_lookup; the LUT protocol of Pika /
// SIGMA, as fss::dpf_lookup on the CPU): the keys are expanded over their full domain in
// chunks of rows that fit kRowBytes (dpf.cu's level and leaf kernels), and each chunk is
// reduced against the rotated tables by one 256-thread block per key (lookup.cuh).
#include <algorithm>
#include <string>

#include "fss_host.cuh"
#include "fsskernels/errors.h"
#include "lookup.cuh"

namespace fss {
namespace cuda {
namespace detail {
namespace {

struct LookupParams {
  const uint64_t* rows;  // n rows of dom values: keys k0 .. k0+n-1
  const uint64_t* c;     // N opened indices
  const uint64_t* tables;
  uint64_t n, k0, N, dom, mm;
  int ntab;
  uint64_t* out;         // ntab x N
};

__global__ void __launch_bounds__(lookup::kThreads) lookup_reduce_kernel(const LookupParams p) {
  __shared__ uint64_t part[lookup::kThreads / 32];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  for (uint64_t g = blockIdx.x; g < p.n; g += gridDim.x) {
    const uint64_t k = p.k0 + g, ck = p.c[k];
    const uint64_t* row = p.rows + g * p.dom;
    for (int t = 0; t < p.ntab; ++t) {
      uint64_t acc = lookup::partial(row, p.tables + static_cast<uint64_t>(t) * p.dom, p.dom, ck, tid, lookup::kThreads);
#pragma unroll
      for (int off = 16; off; off >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, off);
      if (lane == 0) part[warp] = acc;
      __syncthreads();
      if (tid == 0) {
        uint64_t sum = 0;
#pragma unroll
        for (int w = 0; w < lookup::kThreads / 32; ++w) sum += part[w];
        p.out[static_cast<uint64_t>(t) * p.N + k] = sum & p.mm;
      }
      __syncthreads();
    }
  }
}

}  // namespace
}  // namespace detail

void dpf_lookup(int party, const uint8_t* key, size_t key_len, const uint8_t* host_header, const uint64_t* c,
                const uint64_t* tables, size_t ntab, uint64_t* out, void* stream) {
  using namespace detail;
  const cudaStream_t s = as_stream(stream);
  uint8_t hdr[32];
  fetch_header(key, key_len, host_header, hdr, s);
  const KeyHeader h0 = parse_key_header(hdr, key_len, false);
  const uint64_t N = h0.count;
  EvalAllSetup st = eval_all_params(party, key, key_len, hdr, h0.bits <= 24 ? N << h0.bits : 0, out);
  if (st.h.bits > 16) bad_arg("bits", "table lookups need bits <= 16, got " + std::to_string(st.h.bits));
  if (ntab == 0 || ntab > 64) bad_arg("tables", "expected 1..64 tables, got " + std::to_string(ntab));
  const uint64_t dom = uint64_t(1) << st.h.bits;
  require_device_ptr(key, key_len, 16, "keys");
  require_device_ptr(c, N * 8, 8, "x");
  require_device_ptr(tables, ntab * dom * 8, 8, "tables");
  require_device_ptr(out, ntab * N * 8, 8, "out");
  if (N == 0) return;
  const int L = st.p.L;
  const uint64_t chunk = std::min<uint64_t>(N, std::max<uint64_t>(1, lookup::kRowBytes / (dom * 8)));
  Scratch rows(static_cast<size_t>(chunk * dom * 8), s);
  Scratch xs(L == 0 ? 0 : static_cast<size_t>(chunk * (uint64_t(16) << L)), s);
  LookupParams lp{static_cast<const uint64_t*>(rows.get()), c, tables, 0, 0, N, dom, st.p.mm, static_cast<int>(ntab),
                  out};
  for (uint64_t k0 = 0; k0 < N; k0 += chunk) {
    const uint64_t n = std::min(chunk, N - k0);
    eval_all_chunk(st.p, k0, n, static_cast<uint4*>(xs.get()), static_cast<uint64_t*>(rows.get()), s);
    lp.n = n;
    lp.k0 = k0;
    const unsigned grid = static_cast<unsigned>(std::min<uint64_t>(n, 1u << 20));
    lookup_reduce_kernel<<<grid, lookup::kThreads, 0, s>>>(lp);
    check_launch("dpf_lookup reduce kernel");
  }
}

}  // namespace cuda
}  // namespace fss
