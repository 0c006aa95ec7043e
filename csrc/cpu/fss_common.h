// Internal helpers shared by the DPF and DCF kernels (docs/kernels.md).
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "aes_internal.h"
#include "fsskernels/aes.h"
#include "fsskernels/errors.h"
#include "fsskernels/fss.h"
#include "fsskernels/keyformat.h"
#include "fsskernels/limits.h"
#include "fsskernels/zeroize.h"

namespace fss {
namespace detail {

constexpr int kGroup = 16;               // keys walked in lockstep (fills the VAES pipeline)
constexpr uint64_t kChunkKeys = 2048;    // keys per thread task

inline uint64_t mask_bits(int m) { return m >= 64 ? ~uint64_t(0) : (uint64_t(1) << m) - 1; }
inline int slot_width(int out_bits) { int w = 1; while (w < out_bits) w <<= 1; return w; }

// Constant-time helpers (no branches on secret data). value_barrier hides a value from the
// optimizer (an empty asm that "may change" it), so the compiler cannot prove that a mask is
// 0 or all ones and rewrite a masked select into a conditional branch. Checked by
// tests/cpp/ct_keygen.cpp under valgrind (scripts/check_cpp.sh, docs/kernels.md section 7).
inline uint64_t value_barrier(uint64_t x) {
#if defined(__GNUC__) || defined(__clang__)
  __asm__ volatile("" : "+r"(x));
#endif
  return x;
}
inline uint64_t ct_mask(uint64_t bit) { return value_barrier(uint64_t(0) - (bit & 1)); }  // 0 or all ones
inline uint64_t ct_eq(uint64_t a, uint64_t b) {
  const uint64_t d = a ^ b;
  return value_barrier(1 ^ ((d | (0 - d)) >> 63));
}
inline Block ct_sel(uint64_t mask, Block if_set, Block if_clear) {
  mask = value_barrier(mask);
  return Block{(if_set.lo & mask) | (if_clear.lo & ~mask), (if_set.hi & mask) | (if_clear.hi & ~mask)};
}
inline uint64_t ct_sel64(uint64_t mask, uint64_t if_set, uint64_t if_clear) {
  mask = value_barrier(mask);
  return (if_set & mask) | (if_clear & ~mask);
}
inline Block clear_low2(Block b) { return Block{b.lo & ~uint64_t(3), b.hi}; }

// Slot j (width w) of a block as a 128-bit LE integer (public j).
inline uint64_t get_slot(Block b, uint64_t j, int w) {
  const uint64_t pos = j * static_cast<uint64_t>(w);
  const uint64_t word = (pos >> 6) ? b.hi : b.lo;
  return w == 64 ? word : (word >> (pos & 63)) & ((uint64_t(1) << w) - 1);
}
inline void put_slot(Block& b, uint64_t j, int w, uint64_t v) {
  const uint64_t pos = j * static_cast<uint64_t>(w);
  uint64_t& word = (pos >> 6) ? b.hi : b.lo;
  word |= w == 64 ? v : (v & ((uint64_t(1) << w) - 1)) << (pos & 63);
}

inline uint64_t load_value(const uint8_t* p, int vb) {
  switch (vb) {
    case 1: return p[0];
    case 2: { uint16_t v; std::memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; std::memcpy(&v, p, 4); return v; }
    default: { uint64_t v; std::memcpy(&v, p, 8); return v; }
  }
}
inline void store_value(uint8_t* p, int vb, uint64_t v) { std::memcpy(p, &v, static_cast<size_t>(vb)); }

// Per-call randomness: the AES-CTR master key R, expanded (docs/kernels.md section 1).
struct RootRng {
  AesKey key;
  explicit RootRng(const uint8_t* seed16) {
    uint8_t r[16];
    if (seed16) std::memcpy(r, seed16, 16); else os_random_key(r);
    aes_expand_key(r, &key);
    secure_zero(r, 16);
  }
  ~RootRng() { secure_zero(&key, sizeof(key)); }
  // Root seeds of keys [k0, k0 + n): s0[i] = AES_R(2(k0+i)), s1[i] = AES_R(2(k0+i)+1), low bits
  // cleared; also stored as the keys' roots (16 bytes apart from root0 / root1).
  void roots(uint64_t k0, int n, Block* s0, Block* s1, uint8_t* root0, uint8_t* root1) const {
    Block ctr[2 * kGroup], out[2 * kGroup];
    for (int i = 0; i < 2 * n; ++i) {
      const uint64_t c = 2 * k0 + static_cast<uint64_t>(i);
      ctr[i] = Block{c, 0};
    }
    current_enc()(key, ctr, out, static_cast<size_t>(2 * n));
    for (int i = 0; i < n; ++i) {
      s0[i] = clear_low2(out[2 * i]);
      s1[i] = clear_low2(out[2 * i + 1]);
      store_block(root0 + 16 * i, s0[i]);
      store_block(root1 + 16 * i, s1[i]);
    }
    secure_zero(out, sizeof(out));
  }
};

// Tile digests of both parties' key buffers, computed right after each tile is written.
struct TileDigests {
  std::vector<uint64_t> d0, d1;
  const uint8_t *body0, *body1;
  size_t bpk;
  uint64_t count;
  TileDigests(const GenArgs& a, size_t bytes_per_key)
      : d0((a.count + kKeyTile - 1) / kKeyTile), d1(d0.size()), body0(a.key0 + kKeyHeaderSize),
        body1(a.key1 + kKeyHeaderSize), bpk(bytes_per_key), count(a.count) {}
  // Call after keys [base, base + n) are complete; digests a tile once its last key is done.
  void after_group(uint64_t base, int n) {
    const uint64_t end = base + static_cast<uint64_t>(n);
    if (end % kKeyTile == 0 || end == count) {
      const uint64_t t = base / kKeyTile;
      d0[t] = key_tile_digest(body0, bpk, count, t);
      d1[t] = key_tile_digest(body1, bpk, count, t);
    }
  }
};

// One level of the BGI tree in key generation, for one key (constant time in the secret bit
// a = alpha_i): from both parties' children o_bd = child block of party b in direction d,
// returns the correction word block (sCW | tCW0 | tCW1 << 1) and advances s_b, t_b along
// alpha's path (docs/kernels.md sections 2-3).
inline Block gen_tree_step(uint64_t a, Block o00, Block o01, Block o10, Block o11, Block& s0, Block& s1,
                           uint64_t& t0, uint64_t& t1) {
  const uint64_t am = ct_mask(a);
  const Block scw = clear_low2(xor_block(ct_sel(am, o00, o01), ct_sel(am, o10, o11)));  // the lose side
  const uint64_t tcw0 = (o00.lo ^ o10.lo ^ a ^ 1) & 1;
  const uint64_t tcw1 = (o01.lo ^ o11.lo ^ a) & 1;
  const uint64_t tcw_keep = ct_sel64(am, tcw1, tcw0);
  const Block k0 = ct_sel(am, o01, o00), k1 = ct_sel(am, o11, o10);
  const uint64_t m0 = ct_mask(t0), m1 = ct_mask(t1);
  s0 = Block{(k0.lo & ~uint64_t(3)) ^ (scw.lo & m0), k0.hi ^ (scw.hi & m0)};
  s1 = Block{(k1.lo & ~uint64_t(3)) ^ (scw.lo & m1), k1.hi ^ (scw.hi & m1)};
  const uint64_t nt0 = (k0.lo & 1) ^ (t0 & tcw_keep);
  const uint64_t nt1 = (k1.lo & 1) ^ (t1 & tcw_keep);
  t0 = nt0;
  t1 = nt1;
  return Block{scw.lo | tcw0 | (tcw1 << 1), scw.hi};
}

// Validates GenArgs common to DPF and DCF; returns the key layout.
KeyLayout check_gen_args(const GenArgs& a, Scheme scheme);
// Validates EvalArgs; returns the parsed key view (scheme must match).
KeyView check_eval_args(const EvalArgs& a, Scheme scheme);

// Runs body(k0, k1) over [0, count) in chunks on fss::num_threads() threads.
// Exceptions inside the body are not allowed (kernels validate first).
template <class F>
void parallel_chunks(uint64_t count, F&& body) {
  const uint64_t nchunks = (count + kChunkKeys - 1) / kChunkKeys;
  const int nt = static_cast<int>(std::min<uint64_t>(static_cast<uint64_t>(num_threads()), std::max<uint64_t>(nchunks, 1)));
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (int64_t c = 0; c < static_cast<int64_t>(nchunks); ++c) {
    const uint64_t k0 = static_cast<uint64_t>(c) * kChunkKeys;
    body(k0, std::min(count, k0 + kChunkKeys));
  }
}

// The DPF tree walk shared by DPF Gen and one-bit DCF Gen: builds the L correction words
// for `alpha` (secret, handled in constant time) and returns the leaf seeds/bits per party.
void dpf_gen_tree(int bits, int levels, int n, const uint64_t* alpha, Block* s0, Block* s1,
                  uint64_t* t0, uint64_t* t1, uint8_t* cw0, uint8_t* cw1, uint64_t stride_bytes);

}  // namespace detail
}  // namespace fss
