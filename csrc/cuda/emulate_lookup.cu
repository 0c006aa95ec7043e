// Host emulation of the GPU table lookup (fss::cuda::emulate::dpf_lookup, for tests without a
// GPU): the emulated full-domain expansion (emulate.cu), then per key and table the 256
// "threads" of the reduce kernel with the same per-thread code (lookup.cuh), summed.
#include <string>
#include <vector>

#include "fss_host.cuh"
#include "fsskernels/errors.h"
#include "lookup.cuh"

namespace fss {
namespace cuda {
namespace emulate {

void dpf_lookup(int party, const uint8_t* key, size_t key_len, const uint64_t* c, const uint64_t* tables, size_t ntab,
                uint64_t* out) {
  if (!key) bad_arg("keys", "null pointer");
  if (key_len < kKeyHeaderSize) parse_key_header(key, key_len, false);  // throws "truncated"
  const KeyHeader h0 = parse_key_header(key, key_len, false);
  const uint64_t N = h0.count;
  detail::EvalAllSetup st = detail::eval_all_params(party, key, key_len, key, h0.bits <= 24 ? N << h0.bits : 0, out);
  if (st.h.bits > 16) bad_arg("bits", "table lookups need bits <= 16, got " + std::to_string(st.h.bits));
  if (ntab == 0 || ntab > 64) bad_arg("tables", "expected 1..64 tables, got " + std::to_string(ntab));
  if (N == 0) return;
  if (!c || !tables) bad_arg("x", "null pointer");
  const uint64_t dom = uint64_t(1) << st.h.bits;
  std::vector<uint4> store(static_cast<size_t>((N * dom + 1) / 2));  // 16-byte aligned rows
  uint64_t* aligned = reinterpret_cast<uint64_t*>(store.data());
  dpf_eval_all(party, key, key_len, aligned, N * dom);
  for (uint64_t k = 0; k < N; ++k)
    for (size_t t = 0; t < ntab; ++t) {
      uint64_t sum = 0;
      for (int tid = 0; tid < lookup::kThreads; ++tid)
        sum += lookup::partial(aligned + k * dom, tables + t * dom, dom, c[k], tid, lookup::kThreads);
      out[t * N + k] = sum & st.p.mm;
    }
}

}  // namespace emulate
}  // namespace cuda
}  // namespace fss
