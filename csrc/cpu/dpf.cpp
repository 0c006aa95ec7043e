// Batched DPF (Boyle-Gilboa-Ishai CCS 2016, early termination): Gen, Eval, EvalAll.
// Follows docs/kernels.md section 2 exactly; the kernel walks kGroup keys in lockstep so
// each level issues kGroup independent AES blocks.
#include <string>

#include "fss_common.h"
#include "walk_internal.h"
#include "dpf_internal.h"

namespace fss {
namespace detail {

void dpf_gen_tree(int bits, int levels, int n, const uint64_t* alpha, Block* s0, Block* s1,
                  uint64_t* t0, uint64_t* t1, uint8_t* cw0, uint8_t* cw1, uint64_t stride) {
  const FusedWalks* fw = fused_walks();
  if (fw && n % kGenWalkKeys == 0) {
    for (int g = 0; g < n; g += kGenWalkKeys)
      fw->dpf_gen(fixed_key(), bits, levels, alpha + g, s0 + g, s1 + g, t0 + g, t1 + g, cw0 + 16 * g, cw1 + 16 * g,
                  stride);
    return;
  }
  Block in[4 * kGroup], out[4 * kGroup];
  for (int g = 0; g < n; ++g) { t0[g] = 0; t1[g] = 1; }
  for (int i = 0; i < levels; ++i) {
    for (int g = 0; g < n; ++g) {
      in[4 * g + 0] = s0[g];
      in[4 * g + 1] = Block{s0[g].lo ^ 1, s0[g].hi};
      in[4 * g + 2] = s1[g];
      in[4 * g + 3] = Block{s1[g].lo ^ 1, s1[g].hi};
    }
    mmo(in, out, static_cast<size_t>(4 * n));
    const int sh = bits - 1 - i;
    for (int g = 0; g < n; ++g) {
      const uint64_t a = (alpha[g] >> sh) & 1;
      const Block cw = gen_tree_step(a, out[4 * g], out[4 * g + 1], out[4 * g + 2], out[4 * g + 3], s0[g], s1[g],
                                     t0[g], t1[g]);
      store_block(cw0 + stride * i + 16 * g, cw);
      store_block(cw1 + stride * i + 16 * g, cw);
    }
  }
}

namespace {

// One group of DPF keys, after dpf_gen_tree: the final correction word (section 2).
Block dpf_final_cw(Block c0, Block c1, uint64_t alpha_lo, uint64_t beta, uint64_t t1, int w, int m) {
  Block f{0, 0};
  if (w == 1) {  // Z_2: FCW = c0 ^ c1 ^ beta * e_{alpha_lo}, all 128 slots at once
    const uint64_t bm = ct_mask(beta);
    const uint64_t one = uint64_t(1) << (alpha_lo & 63);
    const uint64_t hi_sel = ct_mask(alpha_lo >> 6);
    f.lo = c0.lo ^ c1.lo ^ (one & ~hi_sel & bm);
    f.hi = c0.hi ^ c1.hi ^ (one & hi_sel & bm);
    return f;
  }
  const uint64_t mm = mask_bits(m);
  const uint64_t sg = uint64_t(1) - 2 * t1;  // (-1)^t1 mod 2^64
  const int slots = 128 / w;
  for (int j = 0; j < slots; ++j) {
    const uint64_t eq = ct_eq(static_cast<uint64_t>(j), alpha_lo);
    const uint64_t v = sg * (beta * eq - get_slot(c0, j, w) + get_slot(c1, j, w));
    put_slot(f, static_cast<uint64_t>(j), w, v & mm);
  }
  return f;
}

}  // namespace
}  // namespace detail

using namespace detail;

void dpf_gen(const GenArgs& a) {
  const KeyLayout lay = check_gen_args(a, Scheme::DPF);
  const uint64_t N = a.count;
  const int w = slot_width(a.out_bits), m = a.out_bits, L = lay.levels, nu = lay.early_bits;
  const uint64_t mm = mask_bits(m);
  const RootRng rng(a.seed16);
  TileDigests dig(a, lay.bytes_per_key);
  uint8_t* body0 = a.key0 + kKeyHeaderSize;
  uint8_t* body1 = a.key1 + kKeyHeaderSize;
  parallel_chunks(N, [&](uint64_t c0, uint64_t c1) {
    Block s0[kGroup], s1[kGroup], in[2 * kGroup], out[2 * kGroup];
    uint64_t t0[kGroup], t1[kGroup];
    for (uint64_t base = c0; base < c1; base += kGroup) {
      const int n = static_cast<int>(std::min<uint64_t>(kGroup, c1 - base));
      const KeyTilePtrs p0 = key_tile(body0, lay, N, base), p1 = key_tile(body1, lay, N, base);
      rng.roots(base, n, s0, s1, p0.roots, p1.roots);
      dpf_gen_tree(a.bits, L, n, a.alpha + base, s0, s1, t0, t1, p0.cw, p1.cw, p0.cw_stride);
      for (int g = 0; g < n; ++g) {
        in[2 * g] = Block{s0[g].lo ^ 2, s0[g].hi};
        in[2 * g + 1] = Block{s1[g].lo ^ 2, s1[g].hi};
      }
      mmo(in, out, static_cast<size_t>(2 * n));
      for (int g = 0; g < n; ++g) {
        const uint64_t alpha_lo = nu ? a.alpha[base + g] & ((uint64_t(1) << nu) - 1) : 0;
        const uint64_t beta = (a.beta_scalar ? a.beta[0] : a.beta[base + g]) & mm;
        const Block f = dpf_final_cw(out[2 * g], out[2 * g + 1], alpha_lo, beta, t1[g], w, m);
        store_block(p0.fcw + 16 * g, f);
        store_block(p1.fcw + 16 * g, f);
      }
      dig.after_group(base, n);
    }
    wipe(s0, s1, in, out, t0, t1);  // seeds and control bits of the secret alpha paths
  });
  write_key_header(a.key0, a.key_len, KeyHeader{Scheme::DPF, 0, uint8_t(a.bits), uint8_t(m), N}, dig.d0.data());
  write_key_header(a.key1, a.key_len, KeyHeader{Scheme::DPF, 1, uint8_t(a.bits), uint8_t(m), N}, dig.d1.data());
}

void dpf_eval(const EvalArgs& a) {
  const KeyView v = check_eval_args(a, Scheme::DPF);
  const uint64_t N = v.h.count;
  const int bits = v.h.bits, m = v.h.out_bits, w = slot_width(m), L = v.lay.levels, nu = v.lay.early_bits;
  const uint64_t mm = mask_bits(m), lo_mask = (uint64_t(1) << nu) - 1;
  const uint64_t party = static_cast<uint64_t>(a.party);
  const FusedWalks* fw = fused_walks();
  parallel_chunks(N, [&](uint64_t c0, uint64_t c1) {
    constexpr int kMax = kDpfWalkKeys > kGroup ? kDpfWalkKeys : kGroup;
    Block s[kMax], in[kMax], out[kMax];
    uint64_t t[kMax];
    for (uint64_t base = c0; base < c1;) {
      const uint64_t* x = a.x + base;
      const KeyTilePtrs p = v.tile(base);
      int n;
      if (fw && base % kKeyTile == 0 && base + kDpfWalkKeys <= c1) {
        n = kDpfWalkKeys;
        fw->dpf(fixed_key(), bits, L, p.roots, p.cw, p.cw_stride, x, party, s, t);
      } else {
        n = static_cast<int>(std::min<uint64_t>(kGroup, c1 - base));
        for (int g = 0; g < n; ++g) { s[g] = load_block(p.roots + 16 * g); t[g] = party; }
        for (int i = 0; i < L; ++i) {
          const int sh = bits - 1 - i;
          const uint8_t* cw = p.cw + p.cw_stride * i;
          for (int g = 0; g < n; ++g) in[g] = Block{s[g].lo ^ ((x[g] >> sh) & 1), s[g].hi};
          mmo(in, out, static_cast<size_t>(n));
          for (int g = 0; g < n; ++g) {
            const Block c = load_block(cw + 16 * g);
            const uint64_t d = (x[g] >> sh) & 1, tm = ct_mask(t[g]);
            const uint64_t nt = (out[g].lo ^ (t[g] & (c.lo >> d))) & 1;
            s[g] = Block{(out[g].lo ^ (c.lo & tm)) & ~uint64_t(3), out[g].hi ^ (c.hi & tm)};
            t[g] = nt;
          }
        }
      }
      for (int g = 0; g < n; ++g) in[g] = Block{s[g].lo ^ 2, s[g].hi};
      mmo(in, out, static_cast<size_t>(n));
      for (int g = 0; g < n; ++g) {
        const uint64_t j = x[g] & lo_mask;
        const Block f = load_block(p.fcw + 16 * g);
        uint64_t y = get_slot(out[g], j, w) + (get_slot(f, j, w) & ct_mask(t[g]));
        y = party ? uint64_t(0) - y : y;
        a.out[base + g] = y & mm;
      }
      base += static_cast<uint64_t>(n);
    }
  });
}

namespace detail {

void dpf_expand_key(int party, const KeyView& v, uint64_t k, uint64_t* row) {
  const int m = v.h.out_bits, w = slot_width(m), L = v.lay.levels, nu = v.lay.early_bits;
  const uint64_t mm = mask_bits(m);
  // In-place breadth-first expansion inside this key's output row: node j of a level is
  // kept at block j (control bit in bit 0); children 2j, 2j+1 overwrite only nodes >= j,
  // which are already expanded when nodes are processed from the end.
  uint8_t* bytes = reinterpret_cast<uint8_t*>(row);
  const KeyTilePtrs p = v.tile(k);
  const Block root = load_block(p.roots);
  store_block(bytes, Block{root.lo | static_cast<uint64_t>(party), root.hi});
  constexpr int kNodes = 8;
  Block nodes[kNodes], in[2 * kNodes], res[2 * kNodes];
  for (int i = 0; i < L; ++i) {
    const Block c = load_block(p.cw + p.cw_stride * i);
    const uint64_t width = uint64_t(1) << i;
    for (uint64_t j0 = width; j0 > 0;) {
      const int n = static_cast<int>(std::min<uint64_t>(kNodes, j0));
      j0 -= static_cast<uint64_t>(n);
      for (int g = 0; g < n; ++g) {
        nodes[g] = load_block(bytes + 16 * (j0 + g));
        const Block sd = clear_low2(nodes[g]);
        in[2 * g] = sd;
        in[2 * g + 1] = Block{sd.lo ^ 1, sd.hi};
      }
      mmo(in, res, static_cast<size_t>(2 * n));
      for (int g = 0; g < n; ++g) {
        const uint64_t t = nodes[g].lo & 1, tm = ct_mask(t);
        for (int d = 0; d < 2; ++d) {
          const Block o = res[2 * g + d];
          const uint64_t nt = (o.lo ^ (t & (c.lo >> d))) & 1;
          const Block child{((o.lo ^ (c.lo & tm)) & ~uint64_t(3)) | nt, o.hi ^ (c.hi & tm)};
          store_block(bytes + 16 * (2 * (j0 + g) + d), child);
        }
      }
    }
  }
  const Block f = load_block(p.fcw);
  const uint64_t leaves = uint64_t(1) << L, per_leaf = uint64_t(1) << nu;
  for (uint64_t j0 = leaves; j0 > 0;) {
    const int n = static_cast<int>(std::min<uint64_t>(kNodes, j0));
    j0 -= static_cast<uint64_t>(n);
    for (int g = 0; g < n; ++g) {
      nodes[g] = load_block(bytes + 16 * (j0 + g));
      in[g] = Block{(nodes[g].lo & ~uint64_t(3)) ^ 2, nodes[g].hi};
    }
    mmo(in, res, static_cast<size_t>(n));
    for (int g = n - 1; g >= 0; --g) {
      const uint64_t tm = ct_mask(nodes[g].lo & 1);
      uint64_t* dst = row + (j0 + g) * per_leaf;
      for (uint64_t s = 0; s < per_leaf; ++s) {
        uint64_t y = get_slot(res[g], s, w) + (get_slot(f, s, w) & tm);
        dst[s] = (party ? uint64_t(0) - y : y) & mm;
      }
    }
  }
}

void check_full_domain_keys(int party, const KeyView& v) {
  if (party != 0 && party != 1) bad_arg("party", "must be 0 or 1, got " + std::to_string(party));
  if (v.h.scheme != Scheme::DPF) bad_arg("keys", "are DCF keys, expected DPF");
  if (v.h.party != party)
    bad_arg("party", "keys belong to party " + std::to_string(v.h.party) + ", not party " + std::to_string(party));
  if (v.h.bits > 24) bad_arg("bits", "full-domain evaluation needs bits <= 24, got " + std::to_string(v.h.bits));
}

}  // namespace detail

void dpf_eval_all(int party, const uint8_t* key, size_t key_len, uint64_t* out, size_t out_len) {
  const KeyView v = key_view(key, key_len);
  detail::check_full_domain_keys(party, v);
  const uint64_t N = v.h.count, dom = uint64_t(1) << v.h.bits;
  checked_buffer_bytes(N, dom * sizeof(uint64_t), "out");  // N * 2^bits * 8 <= 2^40
  if (out_len != N * dom) bad_arg("out", "expected " + std::to_string(N * dom) + " values");
  if (N && !out) bad_arg("out", "null pointer");
  const int nt = static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(num_threads()), std::max<uint64_t>(N, 1)));
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (int64_t kk = 0; kk < static_cast<int64_t>(N); ++kk)
    detail::dpf_expand_key(party, v, static_cast<uint64_t>(kk), out + static_cast<uint64_t>(kk) * dom);
}

}  // namespace fss
