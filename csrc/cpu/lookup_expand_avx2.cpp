// AVX2 steps of the fused lookup (lookup_expand_internal.h): the grouped DPF expansion with two
// tree nodes' worth of blocks per ymm register, and the table dot products in 32-bit halves. Compiled
// with a function target attribute; used on the VAES paths (chosen by CPUID, which implies AVX2). Constant time: the secret
// control bits select by masks only; the party is public.
#include "lookup_expand_internal.h"

#if defined(FSS_X86)
#include <immintrin.h>

namespace fss {
namespace detail {

#define FSS_AVX2 __attribute__((target("avx2")))

namespace {

FSS_AVX2 inline __m256i load2(const Block* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
FSS_AVX2 inline void store2(Block* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
FSS_AVX2 inline __m256i lane_masks(uint64_t t_first, uint64_t t_second) {  // 0/1 bits -> 128-bit lane masks
  const long long a = -static_cast<long long>(t_first), b = -static_cast<long long>(t_second);
  return _mm256_set_epi64x(b, b, a, a);
}

}  // namespace

FSS_AVX2 void lookup_level_inputs_avx2(const Block* cur, uint64_t n, Block* in) {
  const __m256i keep = _mm256_set_epi64x(-1, ~3ll, -1, ~3ll), one_hi = _mm256_set_epi64x(0, 1, 0, 0);
  for (uint64_t j = 0; j < n; ++j) {
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(cur + j));
    store2(in + 2 * j, _mm256_xor_si256(_mm256_and_si256(_mm256_broadcastsi128_si256(c), keep), one_hi));
  }
}

FSS_AVX2 void lookup_level_children_avx2(const Block* cur, const Block* res, uint64_t n, Block cw, Block* nxt) {
  const long long clo = static_cast<long long>(cw.lo & ~uint64_t(1)), chi = static_cast<long long>(cw.hi);
  const __m256i cc = _mm256_set_epi64x(chi, clo | static_cast<long long>((cw.lo >> 1) & 1), chi,
                                       clo | static_cast<long long>(cw.lo & 1));
  const __m256i keep = _mm256_set_epi64x(-1, ~2ll, -1, ~2ll);
  for (uint64_t j = 0; j < n; ++j) {
    const uint64_t t = cur[j].lo & 1;
    const __m256i corr = _mm256_and_si256(cc, lane_masks(t, t));
    store2(nxt + 2 * j, _mm256_and_si256(_mm256_xor_si256(load2(res + 2 * j), corr), keep));
  }
}

FSS_AVX2 void lookup_leaf_inputs_avx2(const Block* cur, uint64_t n, Block* in) {
  const __m256i keep = _mm256_set_epi64x(-1, ~3ll, -1, ~3ll), two = _mm256_set_epi64x(0, 2, 0, 2);
  uint64_t j = 0;
  for (; j + 2 <= n; j += 2) store2(in + j, _mm256_xor_si256(_mm256_and_si256(load2(cur + j), keep), two));
  for (; j < n; ++j) in[j] = Block{(cur[j].lo & ~uint64_t(3)) ^ 2, cur[j].hi};
}

FSS_AVX2 void lookup_leaf_values64_avx2(const Block* cur, const Block* res, uint64_t n, Block fcw, int party,
                                        uint64_t mask, uint64_t* row) {
  const __m256i f = _mm256_set_epi64x(static_cast<long long>(fcw.hi), static_cast<long long>(fcw.lo),
                                      static_cast<long long>(fcw.hi), static_cast<long long>(fcw.lo));
  const __m256i mm = _mm256_set1_epi64x(static_cast<long long>(mask)), zero = _mm256_setzero_si256();
  uint64_t j = 0;
  for (; j + 2 <= n; j += 2) {
    __m256i y = _mm256_add_epi64(load2(res + j), _mm256_and_si256(f, lane_masks(cur[j].lo & 1, cur[j + 1].lo & 1)));
    if (party) y = _mm256_sub_epi64(zero, y);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(row + 2 * j), _mm256_and_si256(y, mm));
  }
  for (; j < n; ++j) {
    const uint64_t tm = uint64_t(0) - (cur[j].lo & 1);
    const uint64_t y0 = res[j].lo + (fcw.lo & tm), y1 = res[j].hi + (fcw.hi & tm);
    row[2 * j] = (party ? uint64_t(0) - y0 : y0) & mask;
    row[2 * j + 1] = (party ? uint64_t(0) - y1 : y1) & mask;
  }
}

FSS_AVX2 uint64_t lookup_dot_avx2(const uint64_t* r, const uint64_t* r_hi, const uint64_t* row, uint64_t dom) {
  const auto ld = [](const uint64_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); };
  __m256i lo0 = _mm256_setzero_si256(), lo1 = lo0, cr0 = lo0, cr1 = lo0;
  uint64_t j = 0;
  for (; j + 8 <= dom; j += 8) {
    const __m256i a0 = ld(r + j), a1 = ld(r + j + 4), h0 = ld(r_hi + j), h1 = ld(r_hi + j + 4);
    const __m256i b0 = ld(row + j), b1 = ld(row + j + 4);
    lo0 = _mm256_add_epi64(lo0, _mm256_mul_epu32(a0, b0));
    lo1 = _mm256_add_epi64(lo1, _mm256_mul_epu32(a1, b1));
    cr0 = _mm256_add_epi64(cr0, _mm256_add_epi64(_mm256_mul_epu32(h0, b0), _mm256_mul_epu32(a0, _mm256_srli_epi64(b0, 32))));
    cr1 = _mm256_add_epi64(cr1, _mm256_add_epi64(_mm256_mul_epu32(h1, b1), _mm256_mul_epu32(a1, _mm256_srli_epi64(b1, 32))));
  }
  alignas(32) uint64_t lo[4], cr[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lo), _mm256_add_epi64(lo0, lo1));
  _mm256_store_si256(reinterpret_cast<__m256i*>(cr), _mm256_add_epi64(cr0, cr1));
  uint64_t acc = lo[0] + lo[1] + lo[2] + lo[3] + ((cr[0] + cr[1] + cr[2] + cr[3]) << 32);
  for (; j < dom; ++j) acc += r[j] * row[j];
  return acc;
}

}  // namespace detail
}  // namespace fss
#endif
