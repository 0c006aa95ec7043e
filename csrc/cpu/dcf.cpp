// Batched DCF: Boyle-Chandran-Gilboa-Gupta-Ishai-Kumar-Rathee (EUROCRYPT 2021) for
// out_bits >= 2, and the DPF-based one-bit comparison for out_bits == 1
// (docs/kernels.md sections 3 and 4). kGroup keys are walked in lockstep.
#include <string>

#include "fss_common.h"
#include "walk_internal.h"

namespace fss {
using namespace detail;

namespace {

void dcf_gen_bcg(const GenArgs& a, const KeyLayout& lay, TileDigests& dig) {
  const uint64_t N = a.count;
  const int m = a.out_bits, vb = lay.value_bytes, n_lv = lay.levels;
  const uint64_t mm = mask_bits(m);
  const RootRng rng(a.seed16);
  const FusedWalks* fw = fused_walks();
  uint8_t* body0 = a.key0 + kKeyHeaderSize;
  uint8_t* body1 = a.key1 + kKeyHeaderSize;
  parallel_chunks(N, [&](uint64_t c0, uint64_t c1) {
    Block s0[kGroup], s1[kGroup], in[6 * kGroup], out[6 * kGroup];
    uint64_t t0[kGroup], t1[kGroup], va[kGroup];
    for (uint64_t base = c0; base < c1; base += kGroup) {
      const int n = static_cast<int>(std::min<uint64_t>(kGroup, c1 - base));
      const KeyTilePtrs p0 = key_tile(body0, lay, N, base), p1 = key_tile(body1, lay, N, base);
      rng.roots(base, n, s0, s1, p0.roots, p1.roots);
      for (int g = 0; g < n; ++g) {
        t0[g] = 0; t1[g] = 1; va[g] = 0;
      }
      if (fw && n % kGenWalkKeys == 0) {
        uint64_t beta[kGroup];
        for (int g = 0; g < n; ++g) beta[g] = (a.beta_scalar ? a.beta[0] : a.beta[base + g]) & mm;
        for (int g = 0; g < n; g += kGenWalkKeys)
          fw->dcf_gen(fixed_key(), a.bits, n_lv, m, a.alpha + base + g, beta + g, s0 + g, s1 + g, t0 + g, t1 + g,
                      va + g, p0.cw + 16 * g, p1.cw + 16 * g, p0.cw_stride, p0.vcw + vb * g, p1.vcw + vb * g,
                      p0.vcw_stride, vb);
        wipe(beta);  // the group's copy of the secret beta
      } else {
      for (int i = 0; i < n_lv; ++i) {
        for (int g = 0; g < n; ++g) {
          for (int j = 0; j < 3; ++j) {
            in[6 * g + j] = Block{s0[g].lo ^ static_cast<uint64_t>(j), s0[g].hi};
            in[6 * g + 3 + j] = Block{s1[g].lo ^ static_cast<uint64_t>(j), s1[g].hi};
          }
        }
        mmo(in, out, static_cast<size_t>(6 * n));
        const int sh = a.bits - 1 - i;
        for (int g = 0; g < n; ++g) {
          const uint64_t al = (a.alpha[base + g] >> sh) & 1, am = ct_mask(al);
          const uint64_t beta = (a.beta_scalar ? a.beta[0] : a.beta[base + g]) & mm;
          const Block o00 = out[6 * g], o01 = out[6 * g + 1], v0 = out[6 * g + 2];
          const Block o10 = out[6 * g + 3], o11 = out[6 * g + 4], v1 = out[6 * g + 5];
          const uint64_t sg = uint64_t(1) - 2 * t1[g];
          const uint64_t v0_lose = ct_sel64(am, v0.lo, v0.hi), v1_lose = ct_sel64(am, v1.lo, v1.hi);
          const uint64_t v0_keep = ct_sel64(am, v0.hi, v0.lo), v1_keep = ct_sel64(am, v1.hi, v1.lo);
          uint64_t vcw = sg * (v1_lose - v0_lose - va[g]) + (sg * beta & am);
          vcw &= mm;
          va[g] = va[g] - v1_keep + v0_keep + sg * vcw;
          const Block cw = gen_tree_step(al, o00, o01, o10, o11, s0[g], s1[g], t0[g], t1[g]);
          store_block(p0.cw + p0.cw_stride * i + 16 * g, cw);
          store_block(p1.cw + p1.cw_stride * i + 16 * g, cw);
          store_value(p0.vcw + p0.vcw_stride * i + vb * g, vb, vcw);
          store_value(p1.vcw + p1.vcw_stride * i + vb * g, vb, vcw);
        }
      }
      }  // generic path
      for (int g = 0; g < n; ++g) {
        in[2 * g] = Block{s0[g].lo ^ 2, s0[g].hi};
        in[2 * g + 1] = Block{s1[g].lo ^ 2, s1[g].hi};
      }
      mmo(in, out, static_cast<size_t>(2 * n));
      for (int g = 0; g < n; ++g) {
        const uint64_t sg = uint64_t(1) - 2 * t1[g];
        const uint64_t f = (sg * (out[2 * g + 1].lo - out[2 * g].lo - va[g])) & mm;
        store_value(p0.fcw + vb * g, vb, f);
        store_value(p1.fcw + vb * g, vb, f);
      }
      dig.after_group(base, n);
    }
    wipe(s0, s1, in, out, t0, t1, va);  // seeds, control bits, value accumulators
  });
}

void dcf_gen_onebit(const GenArgs& a, const KeyLayout& lay, TileDigests& dig) {
  const uint64_t N = a.count;
  const int L = lay.levels, nu = lay.early_bits;
  const RootRng rng(a.seed16);
  uint8_t* body0 = a.key0 + kKeyHeaderSize;
  uint8_t* body1 = a.key1 + kKeyHeaderSize;
  parallel_chunks(N, [&](uint64_t c0, uint64_t c1) {
    Block s0[kGroup], s1[kGroup], in[2 * kGroup], out[2 * kGroup];
    uint64_t t0[kGroup], t1[kGroup], alpha[kGroup];
    for (uint64_t base = c0; base < c1; base += kGroup) {
      const int n = static_cast<int>(std::min<uint64_t>(kGroup, c1 - base));
      const KeyTilePtrs p0 = key_tile(body0, lay, N, base), p1 = key_tile(body1, lay, N, base);
      rng.roots(base, n, s0, s1, p0.roots, p1.roots);
      for (int g = 0; g < n; ++g) {
        const uint64_t beta = a.beta_scalar ? a.beta[0] : a.beta[base + g];
        alpha[g] = a.alpha[base + g] & ct_mask(beta);  // beta = 0: compare with 0 (never true)
      }
      dpf_gen_tree(a.bits, L, n, alpha, s0, s1, t0, t1, p0.cw, p1.cw, p0.cw_stride);
      for (int g = 0; g < n; ++g) {
        in[2 * g] = Block{s0[g].lo ^ 2, s0[g].hi};
        in[2 * g + 1] = Block{s1[g].lo ^ 2, s1[g].hi};
      }
      mmo(in, out, static_cast<size_t>(2 * n));
      for (int g = 0; g < n; ++g) {
        const uint64_t lo = alpha[g] & ((uint64_t(1) << nu) - 1);  // < 128
        const uint64_t ge64 = ct_mask(lo >> 6), below = (uint64_t(1) << (lo & 63)) - 1;
        const Block lt{ge64 | (below & ~ge64), below & ge64};  // bits j < lo
        const Block f = xor_block(lt, xor_block(out[2 * g], out[2 * g + 1]));
        store_block(p0.fcw + 16 * g, f);
        store_block(p1.fcw + 16 * g, f);
      }
      dig.after_group(base, n);
    }
    wipe(s0, s1, in, out, t0, t1, alpha);  // seeds, control bits, copies of alpha
  });
}

void dcf_eval_bcg(const EvalArgs& a, const KeyView& v) {
  const uint64_t N = v.h.count;
  const int bits = v.h.bits, m = v.h.out_bits, vb = v.lay.value_bytes, n_lv = v.lay.levels;
  const uint64_t mm = mask_bits(m);
  const uint64_t party = static_cast<uint64_t>(a.party);
  const FusedWalks* fw = fused_walks();
  parallel_chunks(N, [&](uint64_t c0, uint64_t c1) {
    Block s[kGroup], in[2 * kGroup], out[2 * kGroup];
    uint64_t t[kGroup], acc[kGroup];
    static_assert(kDcfWalkKeys == kGroup, "fused DCF walks fill one group");
    for (uint64_t base = c0; base < c1; base += kGroup) {
      const int n = static_cast<int>(std::min<uint64_t>(kGroup, c1 - base));
      const uint64_t* x = a.x + base;
      const KeyTilePtrs p = v.tile(base);
      if (fw && n == kDcfWalkKeys && base + kDcfWalkKeys <= N) {
        fw->dcf(fixed_key(), bits, n_lv, p.roots, p.cw, p.cw_stride, p.vcw, p.vcw_stride, vb, x, party, s, t, acc);
      } else {
        for (int g = 0; g < n; ++g) { s[g] = load_block(p.roots + 16 * g); t[g] = party; acc[g] = 0; }
        for (int i = 0; i < n_lv; ++i) {
          const int sh = bits - 1 - i;
          const uint8_t* cw = p.cw + p.cw_stride * i;
          const uint8_t* vcw = p.vcw + p.vcw_stride * i;
          for (int g = 0; g < n; ++g) {
            in[2 * g] = Block{s[g].lo ^ ((x[g] >> sh) & 1), s[g].hi};
            in[2 * g + 1] = Block{s[g].lo ^ 2, s[g].hi};
          }
          mmo(in, out, static_cast<size_t>(2 * n));
          for (int g = 0; g < n; ++g) {
            const Block c = load_block(cw + 16 * g);
            const uint64_t d = (x[g] >> sh) & 1, tm = ct_mask(t[g]);
            const Block o = out[2 * g], vv = out[2 * g + 1];
            acc[g] += (d ? vv.hi : vv.lo) + (load_value(vcw + vb * g, vb) & tm);
            const uint64_t nt = (o.lo ^ (t[g] & (c.lo >> d))) & 1;
            s[g] = Block{(o.lo ^ (c.lo & tm)) & ~uint64_t(3), o.hi ^ (c.hi & tm)};
            t[g] = nt;
          }
        }
      }
      for (int g = 0; g < n; ++g) in[g] = Block{s[g].lo ^ 2, s[g].hi};
      mmo(in, out, static_cast<size_t>(n));
      for (int g = 0; g < n; ++g) {
        uint64_t y = acc[g] + out[g].lo + (load_value(p.fcw + vb * g, vb) & ct_mask(t[g]));
        y = party ? uint64_t(0) - y : y;
        a.out[base + g] = y & mm;
      }
    }
  });
}

void dcf_eval_onebit(const EvalArgs& a, const KeyView& v) {
  const uint64_t N = v.h.count;
  const int bits = v.h.bits, L = v.lay.levels, nu = v.lay.early_bits;
  const uint64_t party = static_cast<uint64_t>(a.party), lo_mask = (uint64_t(1) << nu) - 1;
  const FusedWalks* fw = fused_walks();
  parallel_chunks(N, [&](uint64_t c0, uint64_t c1) {
    Block s[kGroup], in[2 * kGroup], out[2 * kGroup];
    uint64_t t[kGroup], acc[kGroup];
    for (uint64_t base = c0; base < c1; base += kGroup) {
      const int n = static_cast<int>(std::min<uint64_t>(kGroup, c1 - base));
      const uint64_t* x = a.x + base;
      const KeyTilePtrs p = v.tile(base);
      if (fw && n == kDcfWalkKeys && base + kDcfWalkKeys <= N) {
        fw->dcf1(fixed_key(), bits, L, p.roots, p.cw, p.cw_stride, x, party, s, t, acc);
      } else {
        for (int g = 0; g < n; ++g) { s[g] = load_block(p.roots + 16 * g); t[g] = party; acc[g] = 0; }
        for (int i = 0; i < L; ++i) {
          const int sh = bits - 1 - i;
          const uint8_t* cw = p.cw + p.cw_stride * i;
          for (int g = 0; g < n; ++g) {
            in[2 * g] = s[g];
            in[2 * g + 1] = Block{s[g].lo ^ 1, s[g].hi};
          }
          mmo(in, out, static_cast<size_t>(2 * n));
          for (int g = 0; g < n; ++g) {
            const Block c = load_block(cw + 16 * g);
            const uint64_t d = (x[g] >> sh) & 1, tm = ct_mask(t[g]);
            const uint64_t t_right = (out[2 * g + 1].lo ^ (t[g] & (c.lo >> 1))) & 1;
            acc[g] ^= t_right & (d ^ 1);  // x_i = 0: the right sibling's control bit
            const Block o = out[2 * g + d];
            const uint64_t nt = (o.lo ^ (t[g] & (c.lo >> d))) & 1;
            s[g] = Block{(o.lo ^ (c.lo & tm)) & ~uint64_t(3), o.hi ^ (c.hi & tm)};
            t[g] = nt;
          }
        }
      }
      for (int g = 0; g < n; ++g) in[g] = Block{s[g].lo ^ 2, s[g].hi};
      mmo(in, out, static_cast<size_t>(n));
      for (int g = 0; g < n; ++g) {
        const uint64_t j = x[g] & lo_mask;
        const Block f = load_block(p.fcw + 16 * g);
        a.out[base + g] = acc[g] ^ get_slot(out[g], j, 1) ^ (get_slot(f, j, 1) & t[g]);
      }
    }
  });
}

}  // namespace

void dcf_gen(const GenArgs& a) {
  const KeyLayout lay = check_gen_args(a, Scheme::DCF);
  TileDigests dig(a, lay.bytes_per_key);
  if (a.out_bits == 1) dcf_gen_onebit(a, lay, dig); else dcf_gen_bcg(a, lay, dig);
  const uint8_t b = static_cast<uint8_t>(a.bits), m = static_cast<uint8_t>(a.out_bits);
  write_key_header(a.key0, a.key_len, KeyHeader{Scheme::DCF, 0, b, m, a.count}, dig.d0.data());
  write_key_header(a.key1, a.key_len, KeyHeader{Scheme::DCF, 1, b, m, a.count}, dig.d1.data());
}

void dcf_eval(const EvalArgs& a) {
  const KeyView v = check_eval_args(a, Scheme::DCF);
  if (v.h.out_bits == 1) dcf_eval_onebit(a, v); else dcf_eval_bcg(a, v);
}

}  // namespace fss
