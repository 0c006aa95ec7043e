// VAES-512 path: 4 blocks per instruction, 4 registers (16 blocks) in flight.
#include <immintrin.h>

#include "aes_internal.h"

namespace fss {
namespace detail {

void mmo_vaes(const AesKey& k, const Block* in, Block* out, size_t n) {
  __m512i rk[11];
  for (int r = 0; r < 11; ++r)
    rk[r] = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(k.rk[r])));
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i x[4], y[4];
    for (int j = 0; j < 4; ++j) {
      x[j] = _mm512_loadu_si512(reinterpret_cast<const void*>(&in[i + 4 * j]));
      y[j] = _mm512_xor_si512(x[j], rk[0]);
    }
    for (int r = 1; r < 10; ++r)
      for (int j = 0; j < 4; ++j) y[j] = _mm512_aesenc_epi128(y[j], rk[r]);
    for (int j = 0; j < 4; ++j) {
      y[j] = _mm512_xor_si512(_mm512_aesenclast_epi128(y[j], rk[10]), x[j]);
      _mm512_storeu_si512(reinterpret_cast<void*>(&out[i + 4 * j]), y[j]);
    }
  }
  for (; i < n; i += 4) {  // tail: masked 4-block groups
    const size_t left = n - i < 4 ? n - i : 4;
    const __mmask8 m = static_cast<__mmask8>((1u << (2 * left)) - 1);
    __m512i x = _mm512_maskz_loadu_epi64(m, reinterpret_cast<const void*>(&in[i]));
    __m512i y = _mm512_xor_si512(x, rk[0]);
    for (int r = 1; r < 10; ++r) y = _mm512_aesenc_epi128(y, rk[r]);
    y = _mm512_xor_si512(_mm512_aesenclast_epi128(y, rk[10]), x);
    _mm512_mask_storeu_epi64(reinterpret_cast<void*>(&out[i]), m, y);
  }
}

// out[i] = AES_k(in[i] ^ T) ^ in[i] ^ T with T = tweak (low 64 bits): the tweak is folded
// into the first round key and the feed-forward, so no extra pass over the data. 32 blocks
// (8 registers) per iteration keep the AES units busy across the ~4-cycle latency.
void mmo_tweak_vaes(const AesKey& k, const Block* in, Block* out, size_t n, uint64_t tweak) {
  __m512i rk[11];
  for (int r = 0; r < 11; ++r)
    rk[r] = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(k.rk[r])));
  const __m512i t = _mm512_broadcast_i32x4(_mm_set_epi64x(0, static_cast<long long>(tweak)));
  const __m512i rk0 = _mm512_xor_si512(rk[0], t);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512i x[8], y[8];
    for (int j = 0; j < 8; ++j) {
      x[j] = _mm512_loadu_si512(reinterpret_cast<const void*>(&in[i + 4 * j]));
      y[j] = _mm512_xor_si512(x[j], rk0);
    }
    for (int r = 1; r < 10; ++r)
      for (int j = 0; j < 8; ++j) y[j] = _mm512_aesenc_epi128(y[j], rk[r]);
    for (int j = 0; j < 8; ++j) {
      y[j] = _mm512_ternarylogic_epi64(_mm512_aesenclast_epi128(y[j], rk[10]), x[j], t, 0x96);  // a ^ b ^ c
      _mm512_storeu_si512(reinterpret_cast<void*>(&out[i + 4 * j]), y[j]);
    }
  }
  for (; i < n; i += 4) {
    const size_t left = n - i < 4 ? n - i : 4;
    const __mmask8 m = static_cast<__mmask8>((1u << (2 * left)) - 1);
    __m512i x = _mm512_maskz_loadu_epi64(m, reinterpret_cast<const void*>(&in[i]));
    __m512i y = _mm512_xor_si512(x, rk0);
    for (int r = 1; r < 10; ++r) y = _mm512_aesenc_epi128(y, rk[r]);
    y = _mm512_ternarylogic_epi64(_mm512_aesenclast_epi128(y, rk[10]), x, t, 0x96);
    _mm512_mask_storeu_epi64(reinterpret_cast<void*>(&out[i]), m, y);
  }
}

}  // namespace detail
}  // namespace fss
