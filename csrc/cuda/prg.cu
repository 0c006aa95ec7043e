// The PRG on the GPU: out[i] = H(in[i], tweak) = AES_K(in[i] ^ tweak) ^ (in[i] ^ tweak) with
// the fixed key K (docs/kernels.md section 1), as fss::prg_hash. The AES itself is in
// aes_device.cuh; key generation's AES-CTR runs inside the Gen kernels (fss_walk.cuh).
#include "launch.cuh"

namespace fss {
namespace cuda {
namespace detail {
namespace {

struct PrgParams {
  const uint4* in;
  uint4* out;
  uint64_t tweak;
};

template <class Tab>
FSS_HD uint4 prg_block(const PrgParams& p, uint64_t i, const Tab& T) {
  const uint4 v = p.in[i];
  const uint4 x = dev::make_block(dev::lo64(v) ^ p.tweak, dev::hi64(v));
  return dev::xor4(dev::aes128(x, dev::FixedKey{}, T), x);
}

struct PrgOp : NoPrologue {
  static __device__ void run(const PrgParams& p, uint64_t i, const dev::SmemT0& T) { p.out[i] = prg_block(p, i, T); }
};

}  // namespace
}  // namespace detail

void prg_hash(const void* in, void* out, size_t n, uint64_t tweak, void* stream) {
  using namespace detail;
  require_device_ptr(in, n * 16, 16, "blocks");
  require_device_ptr(out, n * 16, 16, "out");
  if (n == 0) return;
  launch_per_key<PrgOp>(PrgParams{static_cast<const uint4*>(in), static_cast<uint4*>(out), tweak}, n,
                        as_stream(stream), "prg_hash kernel");
}

namespace emulate {
void prg_hash(const void* in, void* out, size_t n, uint64_t tweak) {
  if (n && (!in || !out)) bad_arg("blocks", "null pointer");
  const detail::PrgParams p{static_cast<const uint4*>(in), static_cast<uint4*>(out), tweak};
  for (size_t i = 0; i < n; ++i) p.out[i] = detail::prg_block(p, i, dev::HostT0{});
}
}  // namespace emulate

}  // namespace cuda
}  // namespace fss
