// AVX2 lane update of fsk_checksum (CPUs without AVX-512): the 32 lanes are eight ymm
// registers. AVX2 has no 64-bit multiply, so (h ^ w) * P mod 2^64 is built from 32-bit
// halves: lo*lo (full 64-bit product) + ((hi*lo + lo*hi) mod 2^32) << 32. Public data only
// (key bytes the dealer has written), so nothing here is secret-dependent timing-wise.
#include "checksum_internal.h"

#if defined(FSS_X86)
#include <immintrin.h>

namespace fss {
namespace detail {

#define FSS_AVX2 __attribute__((target("avx2")))

namespace {

FSS_AVX2 inline __m256i mul64(__m256i x, __m256i p_lo, __m256i p_hi) {
  const __m256i lo = _mm256_mul_epu32(x, p_lo);
  const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(x, 32), p_lo), _mm256_mul_epu32(x, p_hi));
  return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

}  // namespace

FSS_AVX2 void checksum_lanes_avx2(uint64_t* h, const uint8_t* p, size_t blocks) {
  constexpr uint64_t kP = 0x9E3779B97F4A7C15ull;
  const __m256i p_lo = _mm256_set1_epi64x(static_cast<long long>(kP & 0xFFFFFFFFull));
  const __m256i p_hi = _mm256_set1_epi64x(static_cast<long long>(kP >> 32));
  __m256i acc[8];
  for (int j = 0; j < 8; ++j) acc[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + 4 * j));
  for (size_t b = 0; b < blocks; ++b) {
    const uint8_t* q = p + 256 * b;
    for (int j = 0; j < 8; ++j) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + 32 * j));
      const __m256i m = mul64(_mm256_xor_si256(acc[j], w), p_lo, p_hi);
      acc[j] = _mm256_or_si256(_mm256_slli_epi64(m, 31), _mm256_srli_epi64(m, 33));
    }
  }
  for (int j = 0; j < 8; ++j) _mm256_storeu_si256(reinterpret_cast<__m256i*>(h + 4 * j), acc[j]);
}

}  // namespace detail
}  // namespace fss
#endif
