// DPF on the GPU (Boyle-Gilboa-Ishai CCS 2016 with early termination, docs/kernels.md s. 2):
// Gen and Eval with one thread per key (fss_walk.cuh), and full-domain EvalAll expanded
// level by level (one kernel per tree level, then a leaf pass that writes the outputs with
// coalesced stores staged through shared memory).
#include <algorithm>

#include "launch.cuh"

namespace fss {
namespace cuda {
namespace detail {
namespace {

struct DpfGenOp : WriteHeaders {
  static __device__ void run(const dev::GenParams& p, uint64_t k, const dev::SmemT0& T) { dev::dpf_gen_key(p, k, T); }
};
struct DpfEvalOp : NoPrologue {
  static __device__ void run(const dev::EvalParams& p, uint64_t k, const dev::SmemT0& T) {
    p.out[k] = dev::dpf_eval_key(p, k, T);
  }
};

// Level pass: the `parents` nodes of level lv -> their children (fss_walk.cuh expand_node).
__global__ void __launch_bounds__(kThreads)
    expand_level_kernel(const dev::ExpandParams p, const int lv, const uint4* prev, uint4* next, const uint64_t parents) {
  const dev::SmemT0 T = dev::fill_smem_t0();
  const uint64_t stride = static_cast<uint64_t>(gridDim.x) * blockDim.x;
  for (uint64_t g = static_cast<uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x; g < parents; g += stride)
    dev::expand_node(p, lv, g, prev, next, T);
}

// Leaf pass: each thread hashes one leaf into shared memory, then the block writes the
// 2^nu outputs of each of its leaves as one contiguous, coalesced stretch.
__global__ void __launch_bounds__(kThreads)
    leaf_kernel(const dev::ExpandParams p, const uint4* nodes, const uint64_t leaves, uint64_t* out) {
  const dev::SmemT0 T = dev::fill_smem_t0();
  uint4* so = reinterpret_cast<uint4*>(dev::fss_smem + 256 * dev::kT0Copies);
  uint4* sf = so + kThreads;
  const int nu = p.nu;
  const uint64_t slot_mask = (uint64_t(1) << nu) - 1;
  for (uint64_t base = static_cast<uint64_t>(blockIdx.x) * kThreads; base < leaves;
       base += static_cast<uint64_t>(gridDim.x) * kThreads) {
    const uint64_t g = base + threadIdx.x;
    if (g < leaves) dev::leaf_blocks(p, g, nodes, so[threadIdx.x], sf[threadIdx.x], T);
    __syncthreads();
    const uint64_t nl = min(static_cast<uint64_t>(kThreads), leaves - base);
    uint64_t* dst = out + (base << nu);
    for (uint64_t e = threadIdx.x; e < (nl << nu); e += kThreads) {
      const uint64_t l = e >> nu;
      dst[e] = dev::leaf_value(p, so[l], sf[l], e & slot_mask);
    }
    __syncthreads();
  }
}

constexpr size_t kLeafSmem = dev::kSmemT0Bytes + 2 * kThreads * sizeof(uint4);
constexpr uint64_t kScratchBytes = uint64_t(256) << 20;

}  // namespace
}  // namespace detail

void dpf_gen(const GenArgs& a, void* stream) {
  detail::run_gen<detail::DpfGenOp>(a, Scheme::DPF, detail::as_stream(stream), "dpf_gen kernel");
}

void dpf_eval(const EvalArgs& a, void* stream) {
  detail::run_eval<detail::DpfEvalOp>(a, Scheme::DPF, detail::as_stream(stream), "dpf_eval kernel");
}

namespace detail {

void eval_all_chunk(const dev::ExpandParams& params, uint64_t k0, uint64_t n, uint4* X, uint64_t* rows,
                    cudaStream_t s) {
  dev::ExpandParams p = params;
  p.k0 = k0;
  const int L = p.L;
  uint4* Y = reinterpret_cast<uint4*>(rows);
  auto level_buf = [&](int lv) { return ((L - lv) % 2 == 0) ? X : Y; };
  const auto expand = expand_level_kernel;
  const auto leaf = leaf_kernel;
  for (int lv = 0; lv < L; ++lv) {
    const uint64_t parents = n << lv;
    const unsigned grid = grid_blocks(reinterpret_cast<const void*>(expand), parents, kThreads, dev::kSmemT0Bytes);
    expand<<<grid, kThreads, dev::kSmemT0Bytes, s>>>(p, lv, lv == 0 ? nullptr : level_buf(lv), level_buf(lv + 1),
                                                      parents);
    check_launch("dpf_eval_all level kernel");
  }
  const uint64_t leaves = n << L;
  const unsigned grid = grid_blocks(reinterpret_cast<const void*>(leaf), leaves, kThreads, kLeafSmem);
  leaf<<<grid, kThreads, kLeafSmem, s>>>(p, L == 0 ? nullptr : X, leaves, rows);
  check_launch("dpf_eval_all leaf kernel");
}

}  // namespace detail

void dpf_eval_all(int party, const uint8_t* key, size_t key_len, const uint8_t* host_header, uint64_t* out,
                  size_t out_len, void* stream) {
  using namespace detail;
  const cudaStream_t s = as_stream(stream);
  uint8_t hdr[32];
  fetch_header(key, key_len, host_header, hdr, s);
  EvalAllSetup st = eval_all_params(party, key, key_len, hdr, out_len, out);
  require_device_ptr(key, key_len, 16, "keys");
  require_device_ptr(out, out_len * 8, 16, "out");
  const uint64_t N = st.h.count;
  if (N == 0) return;
  const int L = st.p.L;
  const uint64_t dom = uint64_t(1) << st.h.bits;
  const uint64_t node_bytes = uint64_t(16) << L;  // level L of one key
  // Levels alternate between the scratch buffer X (holds level L) and the output rows Y
  // (levels L-1, L-3, ...; a row of 2^bits uint64 holds 2^(L+nu-1) >= 2^(L-1) blocks).
  const uint64_t chunk = L == 0 ? N : std::min<uint64_t>(N, std::max<uint64_t>(1, kScratchBytes / node_bytes));
  Scratch scratch(L == 0 ? 0 : static_cast<size_t>(chunk * node_bytes), s);
  uint4* X = static_cast<uint4*>(scratch.get());
  for (uint64_t k0 = 0; k0 < N; k0 += chunk) eval_all_chunk(st.p, k0, std::min(chunk, N - k0), X, out + k0 * dom, s);
}

}  // namespace cuda
}  // namespace fss
