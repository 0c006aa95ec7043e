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
// in[2j] = cur[j] with bits 0..1 of lo cleared, in[2j + 1] = the same with bit 0 set (j < n).
void lookup_level_inputs_avx2(const Block* cur, uint64_t n, Block* in);
// Children of n nodes: nxt[2j + d] = res[2j + d] xor (C_d and t_j), bit 1 of lo cleared, where
// t_j = bit 0 of cur[j].lo, C_d = cw with bit 0 of lo replaced by bit d of cw.lo (the DPF
// correction of the seed and of the child's control bit, BGI'16 / BCG'21 tree step).
void lookup_level_children_avx2(const Block* cur, const Block* res, uint64_t n, Block cw, Block* nxt);
// Leaf inputs: in[j] = cur[j] with bits 0..1 of lo replaced by 2 (the leaf conversion tweak).
void lookup_leaf_inputs_avx2(const Block* cur, uint64_t n, Block* in);
// Leaf values for 64-bit slots (2 per leaf): row[2j + s] = (-1)^party (slot_s(res[j]) +
// (slot_s(fcw) and t_j)) mod 2^out_bits, out_bits in 33..64.
void lookup_leaf_values64_avx2(const Block* cur, const Block* res, uint64_t n, Block fcw, int party,
                               uint64_t mask, uint64_t* row);
// sum_{j < dom} r[j] * row[j] mod 2^64, with r_hi[j] = r[j] >> 32 given (the tables are public
// and prepared once per call): 32-bit-half products, lo*lo sums plus (hi*lo + lo*hi) << 32.
uint64_t lookup_dot_avx2(const uint64_t* r, const uint64_t* r_hi, const uint64_t* row, uint64_t dom);
#endif

}  // namespace detail
}  // namespace fss
