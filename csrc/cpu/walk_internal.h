// Internal: tree walks fused with VAES-512 (all keys of a group kept in zmm registers
// across levels). Same results as the generic walks in dpf.cpp / dcf.cpp; used when the
// AES path is VAES and a group is full. Each walk stops before the leaf conversion.
#pragma once
#include <cstddef>
#include <cstdint>

#include "aes_internal.h"

namespace fss {
namespace detail {

constexpr int kDpfWalkKeys = 32;  // keys per fused DPF walk
constexpr int kDcfWalkKeys = 16;  // keys per fused DCF walks (2 AES per level each)

#if defined(FSS_X86)
// DPF Eval levels 1..L for kDpfWalkKeys keys: s_out/t_out get the leaf seed and bit.
void vaes_dpf_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                   size_t cw_stride, const uint64_t* x, uint64_t party, Block* s_out, uint64_t* t_out);
// DCF (BCG) Eval levels 1..n: also the running sum V (acc_out, before the final term).
void vaes_dcf_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                   size_t cw_stride, const uint8_t* vcw, size_t vcw_stride, int vb, const uint64_t* x,
                   uint64_t party, Block* s_out, uint64_t* t_out, uint64_t* acc_out);
// One-bit DCF Eval levels 1..L: acc_out gets the XOR of the right siblings' bits.
void vaes_dcf1_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                    size_t cw_stride, const uint64_t* x, uint64_t party, Block* s_out, uint64_t* t_out,
                    uint64_t* acc_out);
#endif

inline bool use_fused_walks() {
#if defined(FSS_X86)
  return current_mmo() == mmo_vaes;
#else
  return false;
#endif
}

}  // namespace detail
}  // namespace fss

namespace fss {
namespace detail {

constexpr int kGenWalkKeys = 8;  // keys per fused key-generation walk

#if defined(FSS_X86)
// DPF Gen tree levels for kGenWalkKeys keys (alpha secret; constant time): writes the CWs
// of both parties' keys and leaves the leaf seeds / bits in s0, s1, t0, t1.
void vaes_dpf_gen_walk(const AesKey& k, int bits, int levels, const uint64_t* alpha, Block* s0, Block* s1,
                       uint64_t* t0, uint64_t* t1, uint8_t* cw0, uint8_t* cw1, size_t cw_stride);
// DCF (BCG) Gen levels 1..n for kGenWalkKeys keys; beta already reduced mod 2^m; also
// returns the running V_alpha in va.
void vaes_dcf_gen_walk(const AesKey& k, int bits, int levels, int out_bits, const uint64_t* alpha,
                       const uint64_t* beta, Block* s0, Block* s1, uint64_t* t0, uint64_t* t1, uint64_t* va,
                       uint8_t* cw0, uint8_t* cw1, size_t cw_stride, uint8_t* vcw0, uint8_t* vcw1,
                       size_t vcw_stride, int vb);
#endif

}  // namespace detail
}  // namespace fss
