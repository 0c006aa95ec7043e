// VAES with 256-bit registers (AVX2 + VAES, e.g. AMD Zen 3 and Intel CPUs without AVX-512):
// 2 blocks per instruction, 8 registers (16 blocks) in flight. Compiled with a function
// target attribute, so this file needs no special flags; chosen at run time by CPUID.
#include <immintrin.h>

#include "aes_internal.h"

namespace fss {
namespace detail {

#define FSS_VAES256 __attribute__((target("aes,vaes,avx2")))

namespace {

template <bool kMmo>
FSS_VAES256 inline void run256(const AesKey& k, const Block* in, Block* out, size_t n) {
  __m256i rk[11];
  for (int r = 0; r < 11; ++r)
    rk[r] = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(k.rk[r])));
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i x[8], y[8];
    for (int j = 0; j < 8; ++j) {
      x[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&in[i + 2 * j]));
      y[j] = _mm256_xor_si256(x[j], rk[0]);
    }
    for (int r = 1; r < 10; ++r)
      for (int j = 0; j < 8; ++j) y[j] = _mm256_aesenc_epi128(y[j], rk[r]);
    for (int j = 0; j < 8; ++j) {
      y[j] = _mm256_aesenclast_epi128(y[j], rk[10]);
      if (kMmo) y[j] = _mm256_xor_si256(y[j], x[j]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(&out[i + 2 * j]), y[j]);
    }
  }
  for (; i + 2 <= n; i += 2) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&in[i]));
    __m256i y = _mm256_xor_si256(x, rk[0]);
    for (int r = 1; r < 10; ++r) y = _mm256_aesenc_epi128(y, rk[r]);
    y = _mm256_aesenclast_epi128(y, rk[10]);
    if (kMmo) y = _mm256_xor_si256(y, x);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(&out[i]), y);
  }
  if (i < n) {  // last odd block with the 128-bit instructions
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&in[i]));
    __m128i y = _mm_xor_si128(x, _mm256_castsi256_si128(rk[0]));
    for (int r = 1; r < 10; ++r) y = _mm_aesenc_si128(y, _mm256_castsi256_si128(rk[r]));
    y = _mm_aesenclast_si128(y, _mm256_castsi256_si128(rk[10]));
    if (kMmo) y = _mm_xor_si128(y, x);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&out[i]), y);
  }
}

}  // namespace

FSS_VAES256 void mmo_vaes256(const AesKey& k, const Block* in, Block* out, size_t n) { run256<true>(k, in, out, n); }
FSS_VAES256 void enc_vaes256(const AesKey& k, const Block* in, Block* out, size_t n) { run256<false>(k, in, out, n); }

}  // namespace detail
}  // namespace fss
