// AES-NI path: 8 independent blocks in flight to fill the AES pipeline.
#include <immintrin.h>

#include "aes_internal.h"

namespace fss {
namespace detail {
namespace {

template <bool kMmo>
inline void run(const AesKey& k, const Block* in, Block* out, size_t n) {
  __m128i rk[11];
  for (int r = 0; r < 11; ++r) rk[r] = _mm_load_si128(reinterpret_cast<const __m128i*>(k.rk[r]));
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i x[8], y[8];
    for (int j = 0; j < 8; ++j) {
      x[j] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&in[i + j]));
      y[j] = _mm_xor_si128(x[j], rk[0]);
    }
    for (int r = 1; r < 10; ++r)
      for (int j = 0; j < 8; ++j) y[j] = _mm_aesenc_si128(y[j], rk[r]);
    for (int j = 0; j < 8; ++j) {
      y[j] = _mm_aesenclast_si128(y[j], rk[10]);
      if (kMmo) y[j] = _mm_xor_si128(y[j], x[j]);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(&out[i + j]), y[j]);
    }
  }
  for (; i < n; ++i) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&in[i]));
    __m128i y = _mm_xor_si128(x, rk[0]);
    for (int r = 1; r < 10; ++r) y = _mm_aesenc_si128(y, rk[r]);
    y = _mm_aesenclast_si128(y, rk[10]);
    if (kMmo) y = _mm_xor_si128(y, x);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&out[i]), y);
  }
}

}  // namespace

void mmo_aesni(const AesKey& k, const Block* in, Block* out, size_t n) { run<true>(k, in, out, n); }
void enc_aesni(const AesKey& k, const Block* in, Block* out, size_t n) { run<false>(k, in, out, n); }

}  // namespace detail
}  // namespace fss
