// AVX-512 lane update of fsk_checksum: the 32 lanes are four zmm registers.
#include <immintrin.h>

#include "checksum_internal.h"

namespace fss {
namespace detail {

void checksum_lanes_avx512(uint64_t* h, const uint8_t* p, size_t blocks) {
  const __m512i mul = _mm512_set1_epi64(static_cast<long long>(0x9E3779B97F4A7C15ull));
  __m512i acc[4];
  for (int j = 0; j < 4; ++j) acc[j] = _mm512_loadu_si512(h + 8 * j);
  for (size_t b = 0; b < blocks; ++b) {
    const uint8_t* q = p + 256 * b;
    for (int j = 0; j < 4; ++j) {
      const __m512i w = _mm512_loadu_si512(q + 64 * j);
      acc[j] = _mm512_rol_epi64(_mm512_mullo_epi64(_mm512_xor_si512(acc[j], w), mul), 31);
    }
  }
  for (int j = 0; j < 4; ++j) _mm512_storeu_si512(h + 8 * j, acc[j]);
}

}  // namespace detail
}  // namespace fss
