// The grid-stride per-key kernel shared by Gen and Eval: one thread per key (a warp = one
// 32-key tile), the AES T-table in 32 KB of shared memory filled once per block.
#pragma once
#include <cstring>

#include "aes_device.cuh"
#include "fss_host.cuh"

namespace fss {
namespace cuda {
namespace detail {

// Op: struct with  static __device__ void prologue(const P&)  (block 0, thread 0, once) and
// static __device__ void run(const P&, uint64_t k, const dev::SmemT0&).
template <class Op, class P>
__global__ void __launch_bounds__(kThreads) per_key_kernel(const P p, const uint64_t n) {
  const dev::SmemT0 T = dev::fill_smem_t0();
  if (blockIdx.x == 0 && threadIdx.x == 0) Op::prologue(p);
  const uint64_t stride = static_cast<uint64_t>(gridDim.x) * blockDim.x;
  for (uint64_t k = static_cast<uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < n; k += stride)
    Op::run(p, k, T);
}

template <class Op, class P>
void launch_per_key(const P& p, uint64_t n, cudaStream_t stream, const char* name) {
  const auto kernel = per_key_kernel<Op, P>;
  const unsigned grid = grid_blocks(reinterpret_cast<const void*>(kernel), n, kThreads, dev::kSmemT0Bytes);
  kernel<<<grid, kThreads, dev::kSmemT0Bytes, stream>>>(p, n);
  check_launch(name);
}

struct NoPrologue {
  template <class P>
  static __device__ void prologue(const P&) {}
};
struct WriteHeaders {
  static __device__ void prologue(const dev::GenParams& p) { dev::write_headers(p); }
};

// Gen launcher: validates, checks pointer residency, runs Op over the keys (thread 0 writes
// the headers), the checksum passes, then reads the alpha range check (synchronizes the
// stream).
template <class Op>
void run_gen(const GenArgs& a, Scheme scheme, cudaStream_t stream, const char* name) {
  dev::GenParams p = gen_params(a, scheme);
  require_device_ptr(a.alpha, a.count * 8, 8, "alpha");
  if (a.beta) require_device_ptr(a.beta, (a.beta_scalar ? 1 : a.count) * 8, 8, "beta");
  require_device_ptr(a.key0, a.key_len, 16, "key0");
  require_device_ptr(a.key1, a.key_len, 16, "key1");
  ErrorWord err(stream);
  p.err = err.ptr();
  try {
    launch_per_key<Op>(p, a.count, stream, name);
  } catch (...) {
    std::memset(&p.master, 0, sizeof(p.master));
    throw;
  }
  std::memset(&p.master, 0, sizeof(p.master));
  write_key_checksums(a.key0, a.key1, p.geom, stream);
  const uint64_t bad = err.read();
  if (bad != ~uint64_t(0)) bad_index("alpha", bad, a.bits);
}

// Eval launcher: parses the header on the host, checks pointers, runs Op (out[k] per key);
// with a.check, reads the x range check (synchronizes the stream).
template <class Op>
void run_eval(const EvalArgs& a, Scheme scheme, cudaStream_t stream, const char* name) {
  uint8_t hdr[32];
  fetch_header(a.key, a.key_len, a.host_header, hdr, stream);
  EvalSetup s = eval_params(a, scheme, hdr);
  const uint64_t n = s.h.count;
  require_device_ptr(a.key, a.key_len, 16, "keys");
  require_device_ptr(a.x, n * 8, 8, "x");
  require_device_ptr(a.out, n * 8, 8, "out");
  if (n == 0) return;
  if (!a.check || s.h.bits >= 64) {
    launch_per_key<Op>(s.p, n, stream, name);
    return;
  }
  ErrorWord err(stream);
  s.p.err = err.ptr();
  launch_per_key<Op>(s.p, n, stream, name);
  const uint64_t bad = err.read();
  if (bad != ~uint64_t(0)) bad_index("x", bad, s.h.bits);
}

}  // namespace detail
}  // namespace cuda
}  // namespace fss
