// Internal: the per-path AES primitives behind fsskernels/aes.h.
#pragma once
#include <cstddef>
#include <cstdint>

#include "fsskernels/block.h"

namespace fss {
namespace detail {

// Expanded AES-128 encryption key: 11 round keys.
struct AesKey {
  alignas(16) uint8_t rk[11][16];
};

// The fixed public key K = 00 01 .. 0f, expanded once.
const AesKey& fixed_key();

// Table-free key expansion (constant time), shared by all paths.
void aes_expand_key(const uint8_t key[16], AesKey* out);

// out[i] = AES_k(in[i]) ^ in[i] (MMO). in and out may alias exactly.
using MmoFn = void (*)(const AesKey& k, const Block* in, Block* out, size_t n);
// out[i] = AES_k(in[i]).
using EncFn = void (*)(const AesKey& k, const Block* in, Block* out, size_t n);

void mmo_portable(const AesKey& k, const Block* in, Block* out, size_t n);
void enc_portable(const AesKey& k, const Block* in, Block* out, size_t n);
#if defined(FSS_X86)
void mmo_aesni(const AesKey& k, const Block* in, Block* out, size_t n);
void enc_aesni(const AesKey& k, const Block* in, Block* out, size_t n);
void mmo_vaes(const AesKey& k, const Block* in, Block* out, size_t n);
void mmo_tweak_vaes(const AesKey& k, const Block* in, Block* out, size_t n, uint64_t tweak);
void mmo_vaes256(const AesKey& k, const Block* in, Block* out, size_t n);
void enc_vaes256(const AesKey& k, const Block* in, Block* out, size_t n);
#endif

// The MMO function of the current path (what the FSS kernels call).
MmoFn current_mmo();
EncFn current_enc();

// Fixed-key MMO on the current path: out[i] = AES_K(in[i]) ^ in[i].
inline void mmo(const Block* in, Block* out, size_t n) { current_mmo()(fixed_key(), in, out, n); }

}  // namespace detail
}  // namespace fss
