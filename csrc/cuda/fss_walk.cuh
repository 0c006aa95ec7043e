// Per-key DPF / DCF Gen and Eval (docs/kernels.md sections 2-4): the body of one GPU thread,
// written as __host__ __device__ functions that mirror csrc/cpu/dpf.cpp and dcf.cpp line by
// line (same constant-time selections, same 64-bit arithmetic). The kernels in dpf.cu /
// dcf.cu call them with a shared-memory T-table; emulate.cu calls them on the host.
#pragma once
#include <cstdint>

#include "aes_device.cuh"
#include "fss_keys.cuh"

namespace fss {
namespace cuda {
namespace dev {

// ------------------------------------------------------------------ scalar helpers
FSS_HD uint64_t mask_bits(int m) { return m >= 64 ? ~uint64_t(0) : (uint64_t(1) << m) - 1; }
FSS_HD uint64_t ct_mask(uint64_t bit) { return uint64_t(0) - (bit & 1); }
FSS_HD uint32_t ct_mask32(uint32_t bit) { return 0u - (bit & 1u); }
FSS_HD uint64_t ct_eq(uint64_t a, uint64_t b) { const uint64_t d = a ^ b; return 1 ^ ((d | (0 - d)) >> 63); }
FSS_HD uint64_t ct_sel64(uint64_t mask, uint64_t if_set, uint64_t if_clear) { return (if_set & mask) | (if_clear & ~mask); }
FSS_HD uint4 ct_sel(uint32_t mask, const uint4& if_set, const uint4& if_clear) {
  return make_uint4((if_set.x & mask) | (if_clear.x & ~mask), (if_set.y & mask) | (if_clear.y & ~mask),
                    (if_set.z & mask) | (if_clear.z & ~mask), (if_set.w & mask) | (if_clear.w & ~mask));
}

// Slot j (width w) of a block as a 128-bit LE integer (public j).
FSS_HD uint64_t get_slot(const uint4& b, uint64_t j, int w) {
  const uint64_t pos = j * static_cast<uint64_t>(w);
  const uint64_t word = (pos >> 6) ? hi64(b) : lo64(b);
  return w == 64 ? word : (word >> (pos & 63)) & ((uint64_t(1) << w) - 1);
}
FSS_HD void put_slot(uint64_t& lo, uint64_t& hi, uint64_t j, int w, uint64_t v) {
  const uint64_t pos = j * static_cast<uint64_t>(w);
  const uint64_t bits = w == 64 ? v : (v & ((uint64_t(1) << w) - 1)) << (pos & 63);
  if (pos >> 6) hi |= bits; else lo |= bits;  // public j: no secret-dependent branch
}

// ------------------------------------------------------------------ parameters
struct GenParams {
  int bits, out_bits, w, nu;  // w: slot width; nu: early-terminated bits (DPF, one-bit DCF)
  uint64_t mm;                // 2^out_bits - 1
  KeyGeom geom;
  const uint64_t* alpha;
  const uint64_t* beta;       // nullptr: beta_value
  bool beta_scalar;
  uint64_t beta_value;
  uint8_t* key0;              // whole buffers (header at offset 0, body at 32)
  uint8_t* key1;
  uint32_t hdr0[8], hdr1[8];  // the 32-byte headers, written by thread 0
  RoundKeys master;           // AES-CTR master key R, expanded
  unsigned long long* err;    // smallest alpha index >= 2^bits, or nullptr
};

struct EvalParams {
  int party, bits, out_bits, w, nu;
  uint64_t mm;
  KeyGeom geom;
  const uint8_t* body;
  const uint64_t* x;
  uint64_t* out;
  unsigned long long* err;    // smallest x index >= 2^bits, or nullptr (no check)
};

FSS_HD uint64_t gen_beta(const GenParams& p, uint64_t k) {
  if (!p.beta) return p.beta_value;
  return ld_u64(p.beta + (p.beta_scalar ? 0 : k));
}

FSS_HD uint64_t load_checked(const uint64_t* v, uint64_t k, int bits, unsigned long long* err) {
  const uint64_t x = ld_u64(v + k);
  if (bits < 64 && (x >> bits)) report_bad_index(err, k);
  return x;
}

// Root seeds of key k: AES-CTR_R blocks 2k (party 0) and 2k + 1 (party 1), low 2 bits cleared.
template <class Tab>
FSS_HD void gen_roots(const GenParams& p, uint64_t k, uint4& s0, uint4& s1, const Tab& T) {
  s0 = clear_low2(aes128(make_block(2 * k, 0), p.master, T));
  s1 = clear_low2(aes128(make_block(2 * k + 1, 0), p.master, T));
}

// ------------------------------------------------------------------ DPF tree (Gen)
// One level of the DPF tree for both parties (csrc/cpu/dpf.cpp dpf_gen_tree): returns CW_i
// and advances (s0, t0), (s1, t1) along alpha bit `a` (secret: constant-time selections).
template <class Tab>
FSS_HD uint4 dpf_gen_level(uint4& s0, uint4& s1, uint32_t& t0, uint32_t& t1, uint32_t a, const Tab& T) {
  const uint4 o00 = mmo(s0, 0, T), o01 = mmo(s0, 1, T), o10 = mmo(s1, 0, T), o11 = mmo(s1, 1, T);
  const uint32_t am = ct_mask32(a);
  const uint4 scw = clear_low2(xor4(ct_sel(am, o00, o01), ct_sel(am, o10, o11)));  // lose side
  const uint32_t tcw0 = (o00.x ^ o10.x ^ a ^ 1u) & 1u;
  const uint32_t tcw1 = (o01.x ^ o11.x ^ a) & 1u;
  uint4 cw = scw;
  cw.x |= tcw0 | (tcw1 << 1);
  const uint32_t tcw_keep = (tcw1 & am) | (tcw0 & ~am);
  const uint4 k0 = ct_sel(am, o01, o00), k1 = ct_sel(am, o11, o10);
  const uint32_t m0 = ct_mask32(t0), m1 = ct_mask32(t1);
  s0 = xor4(clear_low2(k0), and4(scw, m0));
  s1 = xor4(clear_low2(k1), and4(scw, m1));
  const uint32_t nt0 = (k0.x & 1u) ^ (t0 & tcw_keep);
  const uint32_t nt1 = (k1.x & 1u) ^ (t1 & tcw_keep);
  t0 = nt0;
  t1 = nt1;
  return cw;
}

// Root seeds and the L tree levels of key k (shared by DPF Gen and one-bit DCF Gen); leaves
// the leaf seeds / control bits in s0, s1, t0, t1.
template <class Tab>
FSS_HD void dpf_gen_tree(const GenParams& p, uint64_t k, uint64_t alpha, const KeyPtrs& p0, const KeyPtrs& p1,
                         uint4& s0, uint4& s1, uint32_t& t0, uint32_t& t1, const Tab& T) {
  gen_roots(p, k, s0, s1, T);
  st16(p0.roots, s0);
  st16(p1.roots, s1);
  t0 = 0;
  t1 = 1;
  for (int i = 0; i < p.geom.levels; ++i) {
    const uint32_t a = static_cast<uint32_t>(alpha >> (p.bits - 1 - i)) & 1u;
    const uint4 cw = dpf_gen_level(s0, s1, t0, t1, a, T);
    st16(p0.cw + p0.cw_stride * i, cw);
    st16(p1.cw + p1.cw_stride * i, cw);
  }
}

// DPF final correction word (csrc/cpu/dpf.cpp dpf_final_cw).
FSS_HD uint4 dpf_final_cw(const uint4& c0, const uint4& c1, uint64_t alpha_lo, uint64_t beta, uint64_t t1, int w,
                          int m) {
  if (w == 1) {  // Z_2: FCW = c0 ^ c1 ^ beta * e_{alpha_lo}
    const uint64_t bm = ct_mask(beta);
    const uint64_t one = uint64_t(1) << (alpha_lo & 63);
    const uint64_t hi_sel = ct_mask(alpha_lo >> 6);
    return make_block(lo64(c0) ^ lo64(c1) ^ (one & ~hi_sel & bm), hi64(c0) ^ hi64(c1) ^ (one & hi_sel & bm));
  }
  const uint64_t mm = mask_bits(m);
  const uint64_t sg = uint64_t(1) - 2 * t1;
  const int slots = 128 / w;
  uint64_t lo = 0, hi = 0;
  for (int j = 0; j < slots; ++j) {
    const uint64_t eq = ct_eq(static_cast<uint64_t>(j), alpha_lo);
    const uint64_t v = sg * (beta * eq - get_slot(c0, j, w) + get_slot(c1, j, w));
    put_slot(lo, hi, static_cast<uint64_t>(j), w, v & mm);
  }
  return make_block(lo, hi);
}

FSS_HD void write_headers(const GenParams& p) {
  st16(p.key0, make_uint4(p.hdr0[0], p.hdr0[1], p.hdr0[2], p.hdr0[3]));
  st16(p.key0 + 16, make_uint4(p.hdr0[4], p.hdr0[5], p.hdr0[6], p.hdr0[7]));
  st16(p.key1, make_uint4(p.hdr1[0], p.hdr1[1], p.hdr1[2], p.hdr1[3]));
  st16(p.key1 + 16, make_uint4(p.hdr1[4], p.hdr1[5], p.hdr1[6], p.hdr1[7]));
}

template <class Tab>
FSS_HD void dpf_gen_key(const GenParams& p, uint64_t k, const Tab& T) {
  const uint64_t alpha = load_checked(p.alpha, k, p.bits, p.err);
  const KeyPtrs p0 = key_ptrs(p.key0 + 32, p.geom, k), p1 = key_ptrs(p.key1 + 32, p.geom, k);
  uint4 s0, s1;
  uint32_t t0, t1;
  dpf_gen_tree(p, k, alpha, p0, p1, s0, s1, t0, t1, T);
  const uint4 c0 = mmo(s0, 2, T), c1 = mmo(s1, 2, T);
  const uint64_t alpha_lo = p.nu ? alpha & ((uint64_t(1) << p.nu) - 1) : 0;
  const uint64_t beta = gen_beta(p, k) & p.mm;
  const uint4 f = dpf_final_cw(c0, c1, alpha_lo, beta, t1, p.w, p.out_bits);
  st16(p0.fcw, f);
  st16(p1.fcw, f);
}

// ------------------------------------------------------------------ DCF Gen
// One-bit DCF (section 4, csrc/cpu/dcf.cpp dcf_gen_onebit).
template <class Tab>
FSS_HD void dcf1_gen_key(const GenParams& p, uint64_t k, const Tab& T) {
  const uint64_t alpha_in = load_checked(p.alpha, k, p.bits, p.err);
  const uint64_t alpha = alpha_in & ct_mask(gen_beta(p, k));  // beta = 0: compare with 0
  const KeyPtrs p0 = key_ptrs(p.key0 + 32, p.geom, k), p1 = key_ptrs(p.key1 + 32, p.geom, k);
  uint4 s0, s1;
  uint32_t t0, t1;
  dpf_gen_tree(p, k, alpha, p0, p1, s0, s1, t0, t1, T);
  const uint4 c0 = mmo(s0, 2, T), c1 = mmo(s1, 2, T);
  const uint64_t lo = alpha & ((uint64_t(1) << p.nu) - 1);  // < 128
  const uint64_t ge64 = ct_mask(lo >> 6), below = (uint64_t(1) << (lo & 63)) - 1;
  const uint4 lt = make_block(ge64 | (below & ~ge64), below & ge64);  // bits j < lo
  const uint4 f = xor4(lt, xor4(c0, c1));
  st16(p0.fcw, f);
  st16(p1.fcw, f);
}

// BCG DCF, out_bits >= 2 (section 3, csrc/cpu/dcf.cpp dcf_gen_bcg).
template <class Tab>
FSS_HD void dcf_gen_key(const GenParams& p, uint64_t k, const Tab& T) {
  const uint64_t alpha = load_checked(p.alpha, k, p.bits, p.err);
  const uint64_t beta = gen_beta(p, k) & p.mm;
  const int vb = p.geom.vb;
  const KeyPtrs p0 = key_ptrs(p.key0 + 32, p.geom, k), p1 = key_ptrs(p.key1 + 32, p.geom, k);
  uint4 s0, s1;
  gen_roots(p, k, s0, s1, T);
  st16(p0.roots, s0);
  st16(p1.roots, s1);
  uint64_t t0 = 0, t1 = 1, va = 0;
  for (int i = 0; i < p.geom.levels; ++i) {
    const uint4 o00 = mmo(s0, 0, T), o01 = mmo(s0, 1, T), v0 = mmo(s0, 2, T);
    const uint4 o10 = mmo(s1, 0, T), o11 = mmo(s1, 1, T), v1 = mmo(s1, 2, T);
    const uint64_t al = (alpha >> (p.bits - 1 - i)) & 1, am = ct_mask(al);
    const uint32_t am32 = static_cast<uint32_t>(am);
    const uint64_t sg = uint64_t(1) - 2 * t1;
    const uint64_t v0_lose = ct_sel64(am, lo64(v0), hi64(v0)), v1_lose = ct_sel64(am, lo64(v1), hi64(v1));
    const uint64_t v0_keep = ct_sel64(am, hi64(v0), lo64(v0)), v1_keep = ct_sel64(am, hi64(v1), lo64(v1));
    const uint4 scw = clear_low2(xor4(ct_sel(am32, o00, o01), ct_sel(am32, o10, o11)));
    uint64_t vcw = sg * (v1_lose - v0_lose - va) + (sg * beta & am);
    vcw &= p.mm;
    va = va - v1_keep + v0_keep + sg * vcw;
    const uint64_t tcw0 = (o00.x ^ o10.x ^ al ^ 1) & 1;
    const uint64_t tcw1 = (o01.x ^ o11.x ^ al) & 1;
    uint4 cw = scw;
    cw.x |= static_cast<uint32_t>(tcw0 | (tcw1 << 1));
    st16(p0.cw + p0.cw_stride * i, cw);
    st16(p1.cw + p1.cw_stride * i, cw);
    st_value(p0.vcw + p0.vcw_stride * i, vb, vcw);
    st_value(p1.vcw + p1.vcw_stride * i, vb, vcw);
    const uint64_t tcw_keep = ct_sel64(am, tcw1, tcw0);
    const uint4 k0 = ct_sel(am32, o01, o00), k1 = ct_sel(am32, o11, o10);
    const uint32_t m0 = static_cast<uint32_t>(ct_mask(t0)), m1 = static_cast<uint32_t>(ct_mask(t1));
    s0 = xor4(clear_low2(k0), and4(scw, m0));
    s1 = xor4(clear_low2(k1), and4(scw, m1));
    const uint64_t nt0 = (k0.x & 1) ^ (t0 & tcw_keep);
    const uint64_t nt1 = (k1.x & 1) ^ (t1 & tcw_keep);
    t0 = nt0;
    t1 = nt1;
  }
  const uint4 c0 = mmo(s0, 2, T), c1 = mmo(s1, 2, T);
  const uint64_t sg = uint64_t(1) - 2 * t1;
  const uint64_t f = (sg * (lo64(c1) - lo64(c0) - va)) & p.mm;
  st_value(p0.fcw, vb, f);
  st_value(p1.fcw, vb, f);
}

// ------------------------------------------------------------------ Eval
// One DPF / one-bit-DCF tree step: (s, t) -> child x_i = d, corrected with CW c.
FSS_HD void tree_step(const uint4& o, const uint4& c, uint32_t d, uint4& s, uint32_t& t) {
  const uint32_t tm = ct_mask32(t);
  const uint32_t nt = (o.x ^ (t & (c.x >> d))) & 1u;
  s = clear_low2(xor4(o, and4(c, tm)));
  t = nt;
}

// DPF Eval (section 2, csrc/cpu/dpf.cpp dpf_eval).
template <class Tab>
FSS_HD uint64_t dpf_eval_key(const EvalParams& p, uint64_t k, const Tab& T) {
  const uint64_t x = load_checked(p.x, k, p.bits, p.err);
  const KeyPtrs kp = key_ptrs(p.body, p.geom, k);
  uint4 s = ld16(kp.roots);
  uint32_t t = static_cast<uint32_t>(p.party);
  for (int i = 0; i < p.geom.levels; ++i) {
    const uint4 c = ld16(kp.cw + kp.cw_stride * i);  // issued before the AES that hides it
    const uint32_t d = static_cast<uint32_t>(x >> (p.bits - 1 - i)) & 1u;
    tree_step(mmo(s, d, T), c, d, s, t);
  }
  const uint4 f = ld16(kp.fcw);
  const uint4 o = mmo(s, 2, T);
  const uint64_t j = x & ((uint64_t(1) << p.nu) - 1);
  uint64_t y = get_slot(o, j, p.w) + (get_slot(f, j, p.w) & ct_mask(t));
  y = p.party ? uint64_t(0) - y : y;
  return y & p.mm;
}

// BCG DCF Eval (section 3, csrc/cpu/dcf.cpp dcf_eval_bcg).
template <class Tab>
FSS_HD uint64_t dcf_eval_key(const EvalParams& p, uint64_t k, const Tab& T) {
  const uint64_t x = load_checked(p.x, k, p.bits, p.err);
  const KeyPtrs kp = key_ptrs(p.body, p.geom, k);
  const int vb = p.geom.vb;
  uint4 s = ld16(kp.roots);
  uint32_t t = static_cast<uint32_t>(p.party);
  uint64_t acc = 0;
  for (int i = 0; i < p.geom.levels; ++i) {
    const uint4 c = ld16(kp.cw + kp.cw_stride * i);
    const uint64_t vc = ld_value(kp.vcw + kp.vcw_stride * i, vb);
    const uint32_t d = static_cast<uint32_t>(x >> (p.bits - 1 - i)) & 1u;
    const uint4 o = mmo(s, d, T), vv = mmo(s, 2, T);
    acc += (d ? hi64(vv) : lo64(vv)) + (vc & ct_mask(t));
    tree_step(o, c, d, s, t);
  }
  const uint64_t f = ld_value(kp.fcw, vb);
  const uint4 o = mmo(s, 2, T);
  uint64_t y = acc + lo64(o) + (f & ct_mask(t));
  y = p.party ? uint64_t(0) - y : y;
  return y & p.mm;
}

// One-bit DCF Eval (section 4, csrc/cpu/dcf.cpp dcf_eval_onebit).
template <class Tab>
FSS_HD uint64_t dcf1_eval_key(const EvalParams& p, uint64_t k, const Tab& T) {
  const uint64_t x = load_checked(p.x, k, p.bits, p.err);
  const KeyPtrs kp = key_ptrs(p.body, p.geom, k);
  uint4 s = ld16(kp.roots);
  uint32_t t = static_cast<uint32_t>(p.party), acc = 0;
  for (int i = 0; i < p.geom.levels; ++i) {
    const uint4 c = ld16(kp.cw + kp.cw_stride * i);
    const uint32_t d = static_cast<uint32_t>(x >> (p.bits - 1 - i)) & 1u;
    const uint4 o0 = mmo(s, 0, T), o1 = mmo(s, 1, T);
    const uint32_t t_right = (o1.x ^ (t & (c.x >> 1))) & 1u;
    acc ^= t_right & (d ^ 1u);  // x_i = 0: the right sibling's control bit
    tree_step(d ? o1 : o0, c, d, s, t);
  }
  const uint4 f = ld16(kp.fcw);
  const uint4 o = mmo(s, 2, T);
  const uint64_t j = x & ((uint64_t(1) << p.nu) - 1);
  return acc ^ get_slot(o, j, 1) ^ (get_slot(f, j, 1) & t);
}

// ------------------------------------------------------------------ EvalAll passes
// Full-domain evaluation of keys [k0, k0 + n) in passes (dpf.cu): level pass `lv` expands
// every node of level lv into its two children (node g of a level = key g >> lv, index
// g mod 2^lv; control bit kept in bit 0), and the leaf pass hashes the 2^L leaves.
struct ExpandParams {
  int party, w, nu, L;
  uint64_t mm;
  KeyGeom geom;
  const uint8_t* body;
  uint64_t k0;  // first key of the chunk
};

FSS_HD uint4 root_node(const ExpandParams& p, const KeyPtrs& kp) {
  uint4 r = ld16(kp.roots);
  r.x |= static_cast<uint32_t>(p.party);
  return r;
}

// Parent g of level lv (from `prev`, or the key's root when lv == 0) -> next[2g], next[2g+1].
template <class Tab>
FSS_HD void expand_node(const ExpandParams& p, int lv, uint64_t g, const uint4* prev, uint4* next, const Tab& T) {
  const KeyPtrs kp = key_ptrs(p.body, p.geom, p.k0 + (g >> lv));
  const uint4 c = ld16(kp.cw + kp.cw_stride * lv);
  const uint4 node = lv == 0 ? root_node(p, kp) : prev[g];
  const uint32_t t = node.x & 1u, tm = ct_mask32(t);
  const uint4 sd = clear_low2(node);
#pragma unroll
  for (uint32_t d = 0; d < 2; ++d) {
    const uint4 o = mmo(sd, d, T);
    const uint32_t nt = (o.x ^ (t & (c.x >> d))) & 1u;
    uint4 child = xor4(o, and4(c, tm));
    child.x = (child.x & ~3u) | nt;
    next[2 * g + d] = child;
  }
}

// Leaf g (level L; from `nodes`, or the root when L == 0): its hash block and its FCW masked
// by the control bit; leaf_value then gives output slot s.
template <class Tab>
FSS_HD void leaf_blocks(const ExpandParams& p, uint64_t g, const uint4* nodes, uint4& o, uint4& fm, const Tab& T) {
  const KeyPtrs kp = key_ptrs(p.body, p.geom, p.k0 + (g >> p.L));
  const uint4 node = p.L == 0 ? root_node(p, kp) : nodes[g];
  o = mmo(clear_low2(node), 2, T);
  fm = and4(ld16(kp.fcw), ct_mask32(node.x & 1u));
}
FSS_HD uint64_t leaf_value(const ExpandParams& p, const uint4& o, const uint4& fm, uint64_t s) {
  const uint64_t y = get_slot(o, s, p.w) + get_slot(fm, s, p.w);
  return (p.party ? uint64_t(0) - y : y) & p.mm;
}

}  // namespace dev
}  // namespace cuda
}  // namespace fss
