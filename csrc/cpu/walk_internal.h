// Internal: tree walks fused with VAES (all keys of a group kept in vector registers across
// levels). Two sets with the same signatures and bit-identical results: VAES-512 (zmm, 4 keys
// per register; walk_vaes.cpp, gen_vaes.cpp) and VAES-256 + AVX2 (ymm, 2 keys per register;
// walk_vaes256.cpp, gen_vaes256.cpp). Same results as the generic walks in dpf.cpp / dcf.cpp;
// fused_walks() picks the set of the current AES path (none for AES-NI / portable), and the
// kernels use it when a group is full. Each walk stops before the leaf conversion.
#pragma once
#include <cstddef>
#include <cstdint>

#include "aes_internal.h"

namespace fss {
namespace detail {

constexpr int kDpfWalkKeys = 32;  // keys per fused DPF walk
constexpr int kDcfWalkKeys = 16;  // keys per fused DCF walks (2 AES per level each)
constexpr int kGenWalkKeys = 8;   // keys per fused key-generation walk

// DPF Eval levels 1..L for kDpfWalkKeys keys: s_out/t_out get the leaf seed and bit.
using DpfWalkFn = void (*)(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                           size_t cw_stride, const uint64_t* x, uint64_t party, Block* s_out, uint64_t* t_out);
// DCF (BCG) Eval levels 1..n: also the running sum V (acc_out, before the final term).
using DcfWalkFn = void (*)(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                           size_t cw_stride, const uint8_t* vcw, size_t vcw_stride, int vb, const uint64_t* x,
                           uint64_t party, Block* s_out, uint64_t* t_out, uint64_t* acc_out);
// One-bit DCF Eval levels 1..L: acc_out gets the XOR of the right siblings' bits.
using Dcf1WalkFn = void (*)(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                            size_t cw_stride, const uint64_t* x, uint64_t party, Block* s_out, uint64_t* t_out,
                            uint64_t* acc_out);
// DPF Gen tree levels for kGenWalkKeys keys (alpha secret; constant time): writes the CWs
// of both parties' keys and leaves the leaf seeds / bits in s0, s1, t0, t1.
using DpfGenWalkFn = void (*)(const AesKey& k, int bits, int levels, const uint64_t* alpha, Block* s0, Block* s1,
                              uint64_t* t0, uint64_t* t1, uint8_t* cw0, uint8_t* cw1, size_t cw_stride);
// DCF (BCG) Gen levels 1..n for kGenWalkKeys keys; beta already reduced mod 2^m; also
// returns the running V_alpha in va.
using DcfGenWalkFn = void (*)(const AesKey& k, int bits, int levels, int out_bits, const uint64_t* alpha,
                              const uint64_t* beta, Block* s0, Block* s1, uint64_t* t0, uint64_t* t1, uint64_t* va,
                              uint8_t* cw0, uint8_t* cw1, size_t cw_stride, uint8_t* vcw0, uint8_t* vcw1,
                              size_t vcw_stride, int vb);

// The five fused walks of one AES path.
struct FusedWalks {
  DpfWalkFn dpf;
  DcfWalkFn dcf;
  Dcf1WalkFn dcf1;
  DpfGenWalkFn dpf_gen;
  DcfGenWalkFn dcf_gen;
};

#if defined(FSS_X86)
// VAES-512 (walk_vaes.cpp, gen_vaes.cpp).
void vaes_dpf_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                   size_t cw_stride, const uint64_t* x, uint64_t party, Block* s_out, uint64_t* t_out);
void vaes_dcf_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                   size_t cw_stride, const uint8_t* vcw, size_t vcw_stride, int vb, const uint64_t* x,
                   uint64_t party, Block* s_out, uint64_t* t_out, uint64_t* acc_out);
void vaes_dcf1_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                    size_t cw_stride, const uint64_t* x, uint64_t party, Block* s_out, uint64_t* t_out,
                    uint64_t* acc_out);
void vaes_dpf_gen_walk(const AesKey& k, int bits, int levels, const uint64_t* alpha, Block* s0, Block* s1,
                       uint64_t* t0, uint64_t* t1, uint8_t* cw0, uint8_t* cw1, size_t cw_stride);
void vaes_dcf_gen_walk(const AesKey& k, int bits, int levels, int out_bits, const uint64_t* alpha,
                       const uint64_t* beta, Block* s0, Block* s1, uint64_t* t0, uint64_t* t1, uint64_t* va,
                       uint8_t* cw0, uint8_t* cw1, size_t cw_stride, uint8_t* vcw0, uint8_t* vcw1,
                       size_t vcw_stride, int vb);
// VAES-256 + AVX2 (walk_vaes256.cpp, gen_vaes256.cpp).
void vaes256_dpf_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                      size_t cw_stride, const uint64_t* x, uint64_t party, Block* s_out, uint64_t* t_out);
void vaes256_dcf_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                      size_t cw_stride, const uint8_t* vcw, size_t vcw_stride, int vb, const uint64_t* x,
                      uint64_t party, Block* s_out, uint64_t* t_out, uint64_t* acc_out);
void vaes256_dcf1_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                       size_t cw_stride, const uint64_t* x, uint64_t party, Block* s_out, uint64_t* t_out,
                       uint64_t* acc_out);
void vaes256_dpf_gen_walk(const AesKey& k, int bits, int levels, const uint64_t* alpha, Block* s0, Block* s1,
                          uint64_t* t0, uint64_t* t1, uint8_t* cw0, uint8_t* cw1, size_t cw_stride);
void vaes256_dcf_gen_walk(const AesKey& k, int bits, int levels, int out_bits, const uint64_t* alpha,
                          const uint64_t* beta, Block* s0, Block* s1, uint64_t* t0, uint64_t* t1, uint64_t* va,
                          uint8_t* cw0, uint8_t* cw1, size_t cw_stride, uint8_t* vcw0, uint8_t* vcw1,
                          size_t vcw_stride, int vb);

inline constexpr FusedWalks kWalksVaes512{vaes_dpf_walk, vaes_dcf_walk, vaes_dcf1_walk, vaes_dpf_gen_walk,
                                          vaes_dcf_gen_walk};
inline constexpr FusedWalks kWalksVaes256{vaes256_dpf_walk, vaes256_dcf_walk, vaes256_dcf1_walk,
                                          vaes256_dpf_gen_walk, vaes256_dcf_gen_walk};
#endif

// The fused walks of the current AES path, or nullptr (AES-NI, portable: generic walks).
inline const FusedWalks* fused_walks() {
#if defined(FSS_X86)
  const MmoFn f = current_mmo();
  if (f == mmo_vaes) return &kWalksVaes512;
  if (f == mmo_vaes256) return &kWalksVaes256;
#endif
  return nullptr;
}

}  // namespace detail
}  // namespace fss
