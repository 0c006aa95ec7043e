// Host emulation of the GPU kernels (fss::cuda::emulate, for tests without a GPU): the same
// per-thread code of fss_walk.cuh, the same parameter setup and the same eval_all level /
// leaf passes and buffer alternation as dpf.cu, run one "thread" after another on the host
// with the plain T-table.
#include <algorithm>
#include <cstring>
#include <vector>

#include "fss_host.cuh"

namespace fss {
namespace cuda {
namespace emulate {
namespace {

using dev::HostT0;

template <class F>
void gen_common(const GenArgs& a, Scheme scheme, F per_key) {
  dev::GenParams p = detail::gen_params(a, scheme);
  unsigned long long err = ~0ull;
  p.err = &err;
  dev::write_headers(p);
  for (uint64_t k = 0; k < a.count; ++k) per_key(p, k);
  std::memset(&p.master, 0, sizeof(p.master));
  // The checksum passes of checksum.cu: tile digests, then the header checksum.
  const uint64_t ntiles = (a.count + 31) / 32;
  for (uint8_t* key : {a.key0, a.key1}) {
    std::vector<uint64_t> dig(static_cast<size_t>(ntiles));
    for (uint64_t t = 0; t < ntiles; ++t) {
      const uint64_t len = dev::tile_bytes(p.geom, t);
      dig[t] = dev::cs_host(dev::ByteWords{dev::tile_start(key + kKeyHeaderSize, p.geom, t), len}, len);
    }
    const uint64_t sum = dev::cs_host(dev::HeaderWords{key, dig.data()}, 24 + 8 * ntiles);
    std::memcpy(key + 24, &sum, 8);
  }
  if (err != ~0ull) detail::bad_index("alpha", err, a.bits);
}

template <class F>
void eval_common(const EvalArgs& a, Scheme scheme, F per_key) {
  if (!a.key) bad_arg("keys", "null pointer");
  if (a.key_len < kKeyHeaderSize) parse_key_header(a.key, a.key_len, false);  // throws "truncated"
  detail::EvalSetup s = detail::eval_params(a, scheme, a.key);
  unsigned long long err = ~0ull;
  if (a.check && s.h.bits < 64) s.p.err = &err;
  // Run every key first (like the kernel), then report.
  for (uint64_t k = 0; k < s.h.count; ++k) s.p.out[k] = per_key(s.p, k);
  if (err != ~0ull) detail::bad_index("x", err, s.h.bits);
}

}  // namespace

void dpf_gen(const GenArgs& a) {
  gen_common(a, Scheme::DPF, [](const dev::GenParams& p, uint64_t k) { dev::dpf_gen_key(p, k, HostT0{}); });
}

void dcf_gen(const GenArgs& a) {
  if (a.out_bits == 1)
    gen_common(a, Scheme::DCF, [](const dev::GenParams& p, uint64_t k) { dev::dcf1_gen_key(p, k, HostT0{}); });
  else
    gen_common(a, Scheme::DCF, [](const dev::GenParams& p, uint64_t k) { dev::dcf_gen_key(p, k, HostT0{}); });
}

void dpf_eval(const EvalArgs& a) {
  eval_common(a, Scheme::DPF, [](const dev::EvalParams& p, uint64_t k) { return dev::dpf_eval_key(p, k, HostT0{}); });
}

void dcf_eval(const EvalArgs& a) {
  if (!a.key || a.key_len < kKeyHeaderSize) return eval_common(a, Scheme::DCF, [](const dev::EvalParams&, uint64_t) { return uint64_t(0); });
  if (parse_key_header(a.key, a.key_len, false).out_bits == 1)
    eval_common(a, Scheme::DCF, [](const dev::EvalParams& p, uint64_t k) { return dev::dcf1_eval_key(p, k, HostT0{}); });
  else
    eval_common(a, Scheme::DCF, [](const dev::EvalParams& p, uint64_t k) { return dev::dcf_eval_key(p, k, HostT0{}); });
}

void dpf_eval_all(int party, const uint8_t* key, size_t key_len, uint64_t* out, size_t out_len) {
  if (!key) bad_arg("keys", "null pointer");
  if (key_len < kKeyHeaderSize) parse_key_header(key, key_len, false);
  detail::EvalAllSetup st = detail::eval_all_params(party, key, key_len, key, out_len, out);
  if (reinterpret_cast<uintptr_t>(out) % 16) bad_arg("out", "must be 16-byte aligned");
  const uint64_t N = st.h.count;
  if (N == 0) return;
  dev::ExpandParams& p = st.p;
  const int L = p.L;
  const uint64_t dom = uint64_t(1) << st.h.bits;
  // Small chunks (3 keys) so that the chunk loop and the buffer alternation are exercised.
  const uint64_t chunk = std::min<uint64_t>(N, 3);
  std::vector<uint4> scratch(L == 0 ? 0 : static_cast<size_t>(chunk << L));
  uint4* X = scratch.data();
  for (uint64_t k0 = 0; k0 < N; k0 += chunk) {
    const uint64_t n = std::min(chunk, N - k0);
    p.k0 = k0;
    uint64_t* out_rows = out + k0 * dom;
    uint4* Y = reinterpret_cast<uint4*>(out_rows);
    auto level_buf = [&](int lv) { return ((L - lv) % 2 == 0) ? X : Y; };
    for (int lv = 0; lv < L; ++lv)
      for (uint64_t g = 0; g < (n << lv); ++g)
        dev::expand_node(p, lv, g, lv == 0 ? nullptr : level_buf(lv), level_buf(lv + 1), HostT0{});
    // Leaf pass in blocks of kThreads leaves, as the kernel: hash all, then write.
    const uint64_t leaves = n << L;
    std::vector<uint4> so(detail::kThreads), sf(detail::kThreads);
    for (uint64_t base = 0; base < leaves; base += detail::kThreads) {
      const uint64_t nl = std::min<uint64_t>(detail::kThreads, leaves - base);
      for (uint64_t t = 0; t < nl; ++t) dev::leaf_blocks(p, base + t, L == 0 ? nullptr : X, so[t], sf[t], HostT0{});
      uint64_t* dst = out_rows + (base << p.nu);
      for (uint64_t e = 0; e < (nl << p.nu); ++e)
        dst[e] = dev::leaf_value(p, so[e >> p.nu], sf[e >> p.nu], e & ((uint64_t(1) << p.nu) - 1));
    }
  }
}

}  // namespace emulate
}  // namespace cuda
}  // namespace fss
