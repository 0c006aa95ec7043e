// Fused lookup table by full-domain DPF evaluation (Boyle-Gilboa-Ishai; the LUT protocol of
// Pika / SIGMA): for a DPF key of the point (alpha, beta) and a public opened index c,
//   out[t][k] = sum_j T[t][(c_k - j) mod 2^n] * D_k[j]  (mod 2^out_bits)
// where D_k[j] is this party's share of beta*[j == alpha_k]; the two parties' outputs add up to
// beta * T[t][(c_k - alpha_k) mod 2^n]. Each key's domain is expanded into a per-thread row and
// consumed at once, so no N x 2^n intermediate is written. Table reads are indexed by the public
// c_k only (constant time with respect to the key and alpha).
#include <string>
#include <vector>

#include "dpf_internal.h"
#include "fss_common.h"

namespace fss {

using namespace detail;

void dpf_lookup(int party, const uint8_t* key, size_t key_len, const uint64_t* c, const uint64_t* tables,
                size_t ntab, uint64_t* out) {
  const KeyView v = key_view(key, key_len);
  check_full_domain_keys(party, v);
  if (v.h.bits > 16) bad_arg("bits", "table lookups need bits <= 16, got " + std::to_string(v.h.bits));
  const uint64_t N = v.h.count, dom = uint64_t(1) << v.h.bits, dm = dom - 1;
  if (ntab == 0 || ntab > 64) bad_arg("tables", "expected 1..64 tables, got " + std::to_string(ntab));
  if (N && (!c || !out || !tables)) bad_arg("out", "null pointer");
  const uint64_t mm = mask_bits(v.h.out_bits);
  // R[t][i] = T[t][(dom - 1 - i) mod dom] for i < 2 dom: then T[t][(c - j) mod dom] = R[t][j + s]
  // with s = dom - 1 - (c mod dom), a contiguous window for every c.
  std::vector<uint64_t> R(ntab * 2 * dom);
  for (size_t t = 0; t < ntab; ++t)
    for (uint64_t i = 0; i < 2 * dom; ++i) R[t * 2 * dom + i] = tables[t * dom + ((dom - 1 - i) & dm)];
  const int nt = static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(num_threads()), std::max<uint64_t>(N, 1)));
#pragma omp parallel num_threads(nt)
  {
    std::vector<uint64_t> row(dom);
#pragma omp for schedule(static)
    for (int64_t kk = 0; kk < static_cast<int64_t>(N); ++kk) {
      const uint64_t k = static_cast<uint64_t>(kk);
      dpf_expand_key(party, v, k, row.data());
      const uint64_t s = dm - (c[k] & dm);
      for (size_t t = 0; t < ntab; ++t) {
        const uint64_t* r = R.data() + t * 2 * dom + s;
        uint64_t acc = 0;
        for (uint64_t j = 0; j < dom; ++j) acc += r[j] * row[j];
        out[t * N + k] = acc & mm;
      }
    }
  }
}

}  // namespace fss
