// AVX2 / VAES steps of the fused lookup (lookup_expand_internal.h): the grouped DPF expansion with
// the fixed-key MMO fused into each level's node step and into the leaf values (two children of
// a node, or two leaves, per ymm register, eight registers in flight, so that each VAES
// instruction works on two blocks and its latency is hidden; each level is expanded in place, so
// a group's nodes and rows stay in one L1-sized array), and the table dot products in 32-bit
// halves (all tables against one row load). Compiled with function target attributes; used on
// the VAES paths only (chosen by CPUID, which implies AVX2). Constant time: the secret control
// bits select by vpsignd of 0/1 lanes (no branch, no table); the party, the key index of a
// node, the counts and the table windows are public.
#include "lookup_expand_internal.h"

#if defined(FSS_X86)
#include <immintrin.h>

namespace fss {
namespace detail {

#define FSS_AVX2 __attribute__((target("avx2")))
#define FSS_VAES_AVX2 __attribute__((target("aes,vaes,avx2")))

namespace {

constexpr int kChunk = 8;  // ymm registers (16 blocks) in flight per step

FSS_AVX2 inline __m256i load2(const Block* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
FSS_AVX2 inline void store2(Block* p, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
FSS_AVX2 inline __m256i bcast(const Block* p) {
  return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
FSS_VAES_AVX2 inline void round_keys(__m256i* rk) {
  const AesKey& k = fixed_key();
  for (int r = 0; r < 11; ++r)
    rk[r] = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(k.rk[r])));
}

// Nodes q0 .. q0 + K - 1 -> children 2 q0 .. 2 q0 + 2K - 1 (every load before any store, so the
// chunk may overwrite its own inputs; the caller goes from the top down). The children keep bit
// 1 of lo (not cleared as in the scalar step): every later step clears or ignores it.
template <int K>
FSS_VAES_AVX2 inline void level_chunk(const __m256i* rk, __m256i k0x, __m256i k10x, Block* nodes, uint64_t q0, int shift,
                                      const Block* cc) {
  const __m256i keep3 = _mm256_set_epi64x(-1, ~3ll, -1, ~3ll), one = _mm256_set_epi64x(0, 1, 0, 1);
  __m256i y[K], kl[K];
  for (int j = 0; j < K; ++j) {
    const __m256i s = bcast(nodes + q0 + j);
    y[j] = _mm256_xor_si256(_mm256_and_si256(s, keep3), k0x);  // (seed, seed ^ 1) xor rk0
    // C and t: the sign of 32-bit lanes that are 1 (t = 1) or 0 (t = 0) keeps or clears C.
    const __m256i c = _mm256_sign_epi32(load2(cc + 2 * ((q0 + static_cast<uint64_t>(j)) >> shift)),
                                        _mm256_shuffle_epi32(_mm256_and_si256(s, one), 0));
    kl[j] = _mm256_xor_si256(_mm256_xor_si256(y[j], c), k10x);  // last round key xor the MMO input xor C
  }
  for (int r = 1; r < 10; ++r)
    for (int j = 0; j < K; ++j) y[j] = _mm256_aesenc_epi128(y[j], rk[r]);
  for (int j = 0; j < K; ++j) store2(nodes + 2 * (q0 + j), _mm256_aesenclast_epi128(y[j], kl[j]));
}

// Leaves q0 .. q0 + 2K - 1 (pairs per ymm) -> rows[2 q0 .. 2 q0 + 4K - 1]. kPair: both leaves of
// a pair belong to one key (more than one leaf per key); kNeg: party 1; kMask: out_bits < 64.
template <int K, bool kPair, bool kNeg, bool kMask>
FSS_VAES_AVX2 inline void leaf_chunk(const __m256i* rk, __m256i k0x, __m256i k10x, const Block* nodes, uint64_t q0,
                                     int shift, const Block* fcw, __m256i mm, uint64_t* rows) {
  const __m256i keep3 = _mm256_set_epi64x(-1, ~3ll, -1, ~3ll), one = _mm256_set_epi64x(0, 1, 0, 1);
  __m256i y[K], kl[K], c[K];
  for (int j = 0; j < K; ++j) {
    const uint64_t q = q0 + 2 * static_cast<uint64_t>(j);
    const __m256i v = load2(nodes + q);
    y[j] = _mm256_xor_si256(_mm256_and_si256(v, keep3), k0x);  // leaf inputs (tweak 2) xor rk0
    kl[j] = _mm256_xor_si256(y[j], k10x);                      // last round key xor the MMO input
    const __m256i f =
        kPair ? bcast(fcw + (q >> shift))
              : _mm256_inserti128_si256(
                    _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(fcw + (q >> shift)))),
                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(fcw + ((q + 1) >> shift))), 1);
    c[j] = _mm256_sign_epi32(f, _mm256_shuffle_epi32(_mm256_and_si256(v, one), 0));  // fcw and t
  }
  for (int r = 1; r < 10; ++r)
    for (int j = 0; j < K; ++j) y[j] = _mm256_aesenc_epi128(y[j], rk[r]);
  for (int j = 0; j < K; ++j) {
    __m256i v = _mm256_add_epi64(_mm256_aesenclast_epi128(y[j], kl[j]), c[j]);
    if (kNeg) v = _mm256_sub_epi64(_mm256_setzero_si256(), v);
    if (kMask) v = _mm256_and_si256(v, mm);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(rows + 2 * (q0 + 2 * j)), v);
  }
}

template <bool kPair, bool kNeg, bool kMask>
FSS_VAES_AVX2 void leaves64(const Block* nodes, uint64_t n, int shift, const Block* fcw, uint64_t mask, uint64_t* rows) {
  __m256i rk[11];
  round_keys(rk);
  const __m256i k0x = _mm256_xor_si256(rk[0], _mm256_set_epi64x(0, 2, 0, 2)), k10x = _mm256_xor_si256(rk[10], rk[0]);
  const __m256i mm = _mm256_set1_epi64x(static_cast<long long>(mask));
  uint64_t q = 0;
  for (; q + 2 * kChunk <= n; q += 2 * kChunk)
    leaf_chunk<kChunk, kPair, kNeg, kMask>(rk, k0x, k10x, nodes, q, shift, fcw, mm, rows);
  switch ((n - q) / 2) {
#define FSS_LEAF_CASE(k) \
    case k: leaf_chunk<k, kPair, kNeg, kMask>(rk, k0x, k10x, nodes, q, shift, fcw, mm, rows); break;
    FSS_LEAF_CASE(7) FSS_LEAF_CASE(6) FSS_LEAF_CASE(5) FSS_LEAF_CASE(4) FSS_LEAF_CASE(3) FSS_LEAF_CASE(2) FSS_LEAF_CASE(1)
#undef FSS_LEAF_CASE
    default: break;
  }
  q += (n - q) & ~uint64_t(1);
  if (q < n) {  // one leaf left (n odd: one-leaf keys), with the 128-bit instructions
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(nodes + q));
    const __m128i x = _mm_xor_si128(_mm_and_si128(v, _mm_set_epi64x(-1, ~3ll)), _mm_set_epi64x(0, 2));
    __m128i y = _mm_xor_si128(x, _mm256_castsi256_si128(rk[0]));
    for (int r = 1; r < 10; ++r) y = _mm_aesenc_si128(y, _mm256_castsi256_si128(rk[r]));
    y = _mm_xor_si128(_mm_aesenclast_si128(y, _mm256_castsi256_si128(rk[10])), x);
    const __m128i t = _mm_shuffle_epi32(_mm_and_si128(v, _mm_set_epi64x(0, 1)), 0);
    const __m128i f = _mm_loadu_si128(reinterpret_cast<const __m128i*>(fcw + (q >> shift)));
    __m128i s = _mm_add_epi64(y, _mm_sign_epi32(f, t));
    if (kNeg) s = _mm_sub_epi64(_mm_setzero_si128(), s);
    if (kMask) s = _mm_and_si128(s, _mm256_castsi256_si128(mm));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(rows + 2 * q), s);
  }
}

// sum_j R[t][j] * row[j] mod 2^64 for TB tables at once (one row load per 4-lane step): lo[t]
// sums the lo*lo products (64-bit lanes), cr[t] the cross products lo*hi and hi*lo mod 2^32
// (32-bit lanes, a 32-bit multiply by the row with its halves swapped). With kScalar one more
// table (the last) is done with scalar 64-bit multiplies in the same loop: they run beside the
// vector multiplies, which bound the loop (used for 5 tables: 4 vector + 1 scalar).
template <int TB, bool kScalar>
FSS_AVX2 inline void dots_block(const uint64_t* R, uint64_t r_stride, const uint64_t* row, uint64_t dom, uint64_t mask,
                                uint64_t* out, uint64_t out_stride) {
  __m256i lo[TB], cr[TB];
  for (int t = 0; t < TB; ++t) lo[t] = cr[t] = _mm256_setzero_si256();
  const uint64_t* rs = kScalar ? R + TB * r_stride : R;  // the scalar table
  uint64_t s0 = 0, s1 = 0, j = 0;
  for (; j + 4 <= dom; j += 4) {
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + j));
    const __m256i bs = _mm256_shuffle_epi32(b, 0xB1);
    for (int t = 0; t < TB; ++t) {
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(R + t * r_stride + j));
      lo[t] = _mm256_add_epi64(lo[t], _mm256_mul_epu32(a, b));
      cr[t] = _mm256_add_epi32(cr[t], _mm256_mullo_epi32(a, bs));
    }
    if (kScalar) {
      s0 += rs[j] * row[j] + rs[j + 2] * row[j + 2];
      s1 += rs[j + 1] * row[j + 1] + rs[j + 3] * row[j + 3];
    }
  }
  for (int t = 0; t < TB; ++t) {
    alignas(32) uint64_t l[4];
    alignas(32) uint32_t c[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(l), lo[t]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(c), cr[t]);
    const uint32_t cs = c[0] + c[1] + c[2] + c[3] + c[4] + c[5] + c[6] + c[7];
    uint64_t acc = l[0] + l[1] + l[2] + l[3] + (static_cast<uint64_t>(cs) << 32);
    for (uint64_t i = j; i < dom; ++i) acc += R[t * r_stride + i] * row[i];
    out[t * out_stride] = acc & mask;
  }
  if (kScalar) {
    uint64_t acc = s0 + s1;
    for (uint64_t i = j; i < dom; ++i) acc += rs[i] * row[i];
    out[TB * out_stride] = acc & mask;
  }
}

}  // namespace

FSS_VAES_AVX2 void lookup_level_vaes256(Block* nodes, uint64_t n, int shift, const Block* cc) {
  __m256i rk[11];
  round_keys(rk);
  // rk0 xor (0, 1): the two children's MMO inputs; rk10 xor rk0 undoes the rk0 in y.
  const __m256i k0x = _mm256_xor_si256(rk[0], _mm256_set_epi64x(0, 1, 0, 0)), k10x = _mm256_xor_si256(rk[10], rk[0]);
  uint64_t q = n;
  for (; q >= kChunk; q -= kChunk) level_chunk<kChunk>(rk, k0x, k10x, nodes, q - kChunk, shift, cc);
  switch (q) {  // the bottom n mod 8 nodes (public count)
#define FSS_LEVEL_CASE(k) \
    case k: level_chunk<k>(rk, k0x, k10x, nodes, 0, shift, cc); break;
    FSS_LEVEL_CASE(7) FSS_LEVEL_CASE(6) FSS_LEVEL_CASE(5) FSS_LEVEL_CASE(4) FSS_LEVEL_CASE(3) FSS_LEVEL_CASE(2)
    FSS_LEVEL_CASE(1)
#undef FSS_LEVEL_CASE
    default: break;
  }
}

FSS_VAES_AVX2 void lookup_leaves64_vaes256(const Block* nodes, uint64_t n, int shift, const Block* fcw, int party,
                                           uint64_t mask, uint64_t* rows) {
  // Public shape and party: pick the instance (no secret enters the choice).
  const bool pair = shift > 0, masked = mask != ~uint64_t(0);
  using Fn = void (*)(const Block*, uint64_t, int, const Block*, uint64_t, uint64_t*);
  static constexpr Fn fns[8] = {leaves64<false, false, false>, leaves64<false, false, true>,
                                leaves64<false, true, false>,  leaves64<false, true, true>,
                                leaves64<true, false, false>,  leaves64<true, false, true>,
                                leaves64<true, true, false>,   leaves64<true, true, true>};
  fns[(pair ? 4 : 0) | (party ? 2 : 0) | (masked ? 1 : 0)](nodes, n, shift, fcw, mask, rows);
}

FSS_AVX2 void lookup_leaf_inputs_avx2(const Block* cur, uint64_t n, Block* in) {
  const __m256i keep = _mm256_set_epi64x(-1, ~3ll, -1, ~3ll), two = _mm256_set_epi64x(0, 2, 0, 2);
  uint64_t j = 0;
  for (; j + 2 <= n; j += 2) store2(in + j, _mm256_xor_si256(_mm256_and_si256(load2(cur + j), keep), two));
  for (; j < n; ++j) in[j] = Block{(cur[j].lo & ~uint64_t(3)) ^ 2, cur[j].hi};
}

FSS_AVX2 void lookup_dots_avx2(const uint64_t* R, uint64_t r_stride, uint64_t ntab, const uint64_t* row, uint64_t dom,
                               uint64_t mask, uint64_t* out, uint64_t out_stride) {
  uint64_t t = 0;
  for (; ntab - t >= 5; t += 5) {
    if (ntab - t == 8) break;  // 8 left: 4 + 4 rather than 5 + 3
    dots_block<4, true>(R + t * r_stride, r_stride, row, dom, mask, out + t * out_stride, out_stride);
  }
  for (; ntab - t >= 4; t += 4)
    dots_block<4, false>(R + t * r_stride, r_stride, row, dom, mask, out + t * out_stride, out_stride);
  switch (ntab - t) {
    case 3: dots_block<3, false>(R + t * r_stride, r_stride, row, dom, mask, out + t * out_stride, out_stride); break;
    case 2: dots_block<2, false>(R + t * r_stride, r_stride, row, dom, mask, out + t * out_stride, out_stride); break;
    case 1: dots_block<1, false>(R + t * r_stride, r_stride, row, dom, mask, out + t * out_stride, out_stride); break;
    default: break;
  }
}

}  // namespace detail
}  // namespace fss
#endif
