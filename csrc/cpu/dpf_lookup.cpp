// Fused lookup table by full-domain DPF evaluation (Boyle-Gilboa-Ishai; the LUT protocol of
// Pika / SIGMA): for a DPF key of the point (alpha, beta) and a public opened index c,
//   out[t][k] = sum_j T[t][(c_k - j) mod 2^n] * D_k[j]  (mod 2^out_bits)
// where D_k[j] is this party's share of beta*[j == alpha_k]; the two parties' outputs add up to
// beta * T[t][(c_k - alpha_k) mod 2^n]. Each key's domain is expanded into a per-thread row and
// consumed at once, so no N x 2^n intermediate is written. Table reads are indexed by the public
// c_k only (constant time with respect to the key and alpha).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "dpf_internal.h"
#include "fss_common.h"
#include "lookup_expand_internal.h"

namespace fss {

using namespace detail;

namespace {

// Keys expanded together, so that every AES call of a level has many independent blocks in
// flight (one key's first levels alone have 2, 4, 8 nodes: latency-bound). dpf_expand_key
// (dpf.cpp) expands one key in place in its output row with no scratch, which full-domain
// evaluation needs up to 2^24 points; lookups (<= 2^16 points) can afford 4 scratch rows.
int group_size(int levels) { return static_cast<int>(std::max<uint64_t>(1, std::min<uint64_t>(8, uint64_t(4096) >> levels))); }

struct GroupScratch {
  std::vector<Block> cur, nxt, in, res;
  explicit GroupScratch(uint64_t blocks) : cur(blocks), nxt(blocks), in(blocks), res(blocks) {}
};

// Returns rows with rows[g * dom + j] = this party's share of key (k0 + g) at point j, for g < G:
// the same values as dpf_expand_key, computed level by level for G keys at once. The rows are
// `rows`, or on the vectorized 64-bit path the scratch's node array (the leaf step overwrites its
// own inputs, so the rows stay in the cache lines just used).
// vec: the VAES paths' vectorized steps (lookup_vector_steps(), decided once per call).
const uint64_t* expand_group(int party, const KeyView& v, uint64_t k0, int G, bool vec, GroupScratch& sc,
                             uint64_t* rows) {
  const int m = v.h.out_bits, w = slot_width(m), L = v.lay.levels, nu = v.lay.early_bits;
  const uint64_t mm = mask_bits(m), W = uint64_t(1) << L, per_leaf = uint64_t(1) << nu, dom = W * per_leaf;
  Block* cur = sc.cur.data();
  Block* nxt = sc.nxt.data();
  Block* in = sc.in.data();
  Block* res = sc.res.data();
  KeyTilePtrs p[8];
  alignas(32) Block cc[16];  // the vectorized levels' corrections C_{g,0}, C_{g,1} per key
  // The vectorized path keeps each level compact (node j of key g at g * width + j), so one
  // call prepares every key's AES inputs; at the last level that is the scalar layout g * W + j.
  for (int g = 0; g < G; ++g) {
    p[g] = v.tile(k0 + static_cast<uint64_t>(g));
    const Block root = load_block(p[g].roots);
    cur[vec ? g : g * W] = Block{root.lo | static_cast<uint64_t>(party), root.hi};
  }
  for (int i = 0; i < L; ++i) {
    const uint64_t width = uint64_t(1) << i;
#if defined(FSS_X86)
    if (vec) {  // in place: node q of key g = q >> i becomes nodes 2q, 2q + 1 of the next level
      for (int g = 0; g < G; ++g) {
        const Block c = load_block(p[g].cw + p[g].cw_stride * i);
        cc[2 * g] = c;
        cc[2 * g + 1] = Block{(c.lo & ~uint64_t(1)) | ((c.lo >> 1) & 1), c.hi};
      }
      lookup_level_vaes256(cur, width * static_cast<uint64_t>(G), i, cc);
      continue;
    }
#endif
    for (int g = 0; g < G; ++g)
      for (uint64_t j = 0; j < width; ++j) {
        const Block sd = clear_low2(cur[g * W + j]);
        in[2 * (g * width + j)] = sd;
        in[2 * (g * width + j) + 1] = Block{sd.lo ^ 1, sd.hi};
      }
    mmo(in, res, static_cast<size_t>(2 * width * static_cast<uint64_t>(G)));
    for (int g = 0; g < G; ++g) {
      const Block c = load_block(p[g].cw + p[g].cw_stride * i);
      for (uint64_t j = 0; j < width; ++j) {
        const uint64_t t = cur[g * W + j].lo & 1, tm = ct_mask(t);
        for (int d = 0; d < 2; ++d) {
          const Block o = res[2 * (g * width + j) + d];
          const uint64_t nt = (o.lo ^ (t & (c.lo >> d))) & 1;
          nxt[g * W + 2 * j + d] = Block{((o.lo ^ (c.lo & tm)) & ~uint64_t(3)) | nt, o.hi ^ (c.hi & tm)};
        }
      }
    }
    std::swap(cur, nxt);
  }
#if defined(FSS_X86)
  if (vec && w == 64 && per_leaf == 2) {  // 64-bit outputs: leaf MMO and values in one step
    Block f[8];
    for (int g = 0; g < G; ++g) f[g] = load_block(p[g].fcw);
    uint64_t* out = reinterpret_cast<uint64_t*>(cur);  // 2 slots per leaf: G * dom words in G * W blocks
    lookup_leaves64_vaes256(cur, W * static_cast<uint64_t>(G), L, f, party, mm, out);
    return out;
  }
  if (vec) {
    lookup_leaf_inputs_avx2(cur, W * static_cast<uint64_t>(G), in);
  } else
#endif
  for (int g = 0; g < G; ++g)
    for (uint64_t j = 0; j < W; ++j) in[g * W + j] = Block{(cur[g * W + j].lo & ~uint64_t(3)) ^ 2, cur[g * W + j].hi};
  mmo(in, res, static_cast<size_t>(W * static_cast<uint64_t>(G)));
  for (int g = 0; g < G; ++g) {
    const Block f = load_block(p[g].fcw);
    uint64_t* row = rows + static_cast<uint64_t>(g) * dom;
    for (uint64_t j = 0; j < W; ++j) {
      const uint64_t tm = ct_mask(cur[g * W + j].lo & 1);
      for (uint64_t s = 0; s < per_leaf; ++s) {
        const uint64_t y = get_slot(res[g * W + j], s, w) + (get_slot(f, s, w) & tm);
        row[j * per_leaf + s] = (party ? uint64_t(0) - y : y) & mm;
      }
    }
  }
  return rows;
}

}  // namespace

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
#if defined(FSS_X86)
  const bool vec = lookup_vector_steps();
#else
  const bool vec = false;
#endif
  const int L = v.lay.levels, G = group_size(L);
  const uint64_t groups = (N + static_cast<uint64_t>(G) - 1) / static_cast<uint64_t>(G);
  const int nt = static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(num_threads()), std::max<uint64_t>(groups, 1)));
#pragma omp parallel num_threads(nt)
  {
    std::vector<uint64_t> rows(static_cast<uint64_t>(G) * dom);
    GroupScratch sc(static_cast<uint64_t>(G) << L);
#pragma omp for schedule(static)
    for (int64_t gg = 0; gg < static_cast<int64_t>(groups); ++gg) {
      const uint64_t k0 = static_cast<uint64_t>(gg) * static_cast<uint64_t>(G);
      const int n = static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(G), N - k0));
      const uint64_t* rw = expand_group(party, v, k0, n, vec, sc, rows.data());
      for (int g = 0; g < n; ++g) {
        const uint64_t k = k0 + static_cast<uint64_t>(g);
        const uint64_t* row = rw + static_cast<uint64_t>(g) * dom;
        const uint64_t s = dm - (c[k] & dm);
#if defined(FSS_X86)
        if (vec) {
          lookup_dots_avx2(R.data() + s, 2 * dom, ntab, row, dom, mm, out + k, N);
          continue;
        }
#endif
        for (size_t t = 0; t < ntab; ++t) {
          const uint64_t* r = R.data() + t * 2 * dom + s;
          uint64_t acc = 0;
          for (uint64_t j = 0; j < dom; ++j) acc += r[j] * row[j];
          out[t * N + k] = acc & mm;
        }
      }
    }
  }
}

}  // namespace fss
