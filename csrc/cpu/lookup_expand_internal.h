// Internal: vectorized steps of the fused lookup (dpf_lookup.cpp): the grouped DPF expansion's
// node steps and the table dot products. Each computes exactly what the scalar loops there compute.
#pragma once
#include <cstdint>

#include "aes_internal.h"

namespace fss {
namespace detail {

#if defined(FSS_X86)
// True on the VAES paths (vaes, vaes256: both need AVX2), so the AES-NI and portable paths
// keep the scalar steps and the every-path tests compare the two.
inline bool lookup_vector_steps() { const MmoFn f = current_mmo(); return f == mmo_vaes || f == mmo_vaes256; }
// One tree level of several keys, in place, with the fixed-key MMO done here (256-bit VAES, two
// blocks per instruction, 16 in flight): node q (< n) of the level becomes nodes 2q, 2q + 1 of
// the next, nodes[2q + d] = MMO(seed_q with bits 0..1 of lo set to d) xor (C_{g,d} and t_q),
// where t_q = bit 0 of the old nodes[q].lo, g = q >> shift (the key of node q) and
// cc[2g + d] = C_{g,d} = that key's correction word with bit 0 of lo replaced by bit d of its lo
// (BGI'16 / BCG'21 tree step). Bit 1 of lo is left as computed (the scalar step clears it): every
// later step clears it or ignores it. Needs VAES (the VAES paths).
void lookup_level_vaes256(Block* nodes, uint64_t n, int shift, const Block* cc);
// Leaf values for 64-bit slots (2 per leaf), with the leaf MMO done here: for leaf q < n (key
// g = q >> shift), res = MMO(nodes[q] with bits 0..1 of lo replaced by 2) and
// rows[2q + s] = (-1)^party (slot_s(res) + (slot_s(fcw[g]) and t_q)) mod 2^out_bits (mask),
// t_q = bit 0 of nodes[q].lo. rows may alias nodes exactly. Needs VAES.
void lookup_leaves64_vaes256(const Block* nodes, uint64_t n, int shift, const Block* fcw, int party, uint64_t mask,
                             uint64_t* rows);
// Leaf inputs: in[j] = cur[j] with bits 0..1 of lo replaced by 2 (the leaf conversion tweak).
void lookup_leaf_inputs_avx2(const Block* cur, uint64_t n, Block* in);
// out[t * out_stride] = (sum_{j < dom} R[t * r_stride + j] * row[j] mod 2^64) and mask for
// t < ntab (all tables against one row, which is loaded once): 64-bit products as the lo*lo
// products plus the 32-bit cross products (lo*hi + hi*lo mod 2^32) << 32.
void lookup_dots_avx2(const uint64_t* R, uint64_t r_stride, uint64_t ntab, const uint64_t* row, uint64_t dom,
                      uint64_t mask, uint64_t* out, uint64_t out_stride);
#endif

}  // namespace detail
}  // namespace fss
