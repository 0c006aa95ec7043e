// Tree walks fused with VAES-512: seeds, control bits and sums of a group of keys stay in
// zmm registers (4 keys per register: one 128-bit lane each, value in the low qword) for
// all levels. Bit-identical to the generic walks of dpf.cpp / dcf.cpp (docs/kernels.md).
#include <immintrin.h>

#include "walk_internal.h"

namespace fss {
namespace detail {
namespace {

struct Consts {
  __m512i one_lo, two_lo, clear2, zero;
  Consts()
      : one_lo(_mm512_set_epi64(0, 1, 0, 1, 0, 1, 0, 1)),
        two_lo(_mm512_set_epi64(0, 2, 0, 2, 0, 2, 0, 2)),
        clear2(_mm512_set_epi64(-1, ~3ll, -1, ~3ll, -1, ~3ll, -1, ~3ll)),
        zero(_mm512_setzero_si512()) {}
};

struct RoundKeys {
  __m512i rk[11];
  explicit RoundKeys(const AesKey& k) {
    for (int r = 0; r < 11; ++r) rk[r] = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(k.rk[r])));
  }
};

// y[j] = AES(in[j]) ^ in[j] for NZ registers, rounds interleaved across registers.
template <int NZ>
inline void mmo_regs(const RoundKeys& K, const __m512i* in, __m512i* out) {
  __m512i y[NZ];
  for (int j = 0; j < NZ; ++j) y[j] = _mm512_xor_si512(in[j], K.rk[0]);
  for (int r = 1; r < 10; ++r)
    for (int j = 0; j < NZ; ++j) y[j] = _mm512_aesenc_epi128(y[j], K.rk[r]);
  for (int j = 0; j < NZ; ++j) out[j] = _mm512_xor_si512(_mm512_aesenclast_epi128(y[j], K.rk[10]), in[j]);
}

// Control bit (low qword, 0/1) to a full-lane mask.
inline __m512i lane_mask(const __m512i& tbit, const Consts& c) {
  const __m512i m = _mm512_sub_epi64(c.zero, tbit);
  return _mm512_unpacklo_epi64(m, m);
}

// The standard correction of a child block O by CW under mask T; returns the new bit (low qword).
inline __m512i correct(const __m512i& O, const __m512i& C, const __m512i& D, const __m512i& T, const Consts& c,
                       __m512i* s_new) {
  *s_new = _mm512_and_si512(_mm512_xor_si512(O, _mm512_and_si512(C, T)), c.clear2);
  return _mm512_and_si512(_mm512_xor_si512(O, _mm512_and_si512(_mm512_srlv_epi64(C, D), T)), c.one_lo);
}

inline __m512i load_values(const uint8_t* p, int vb) {  // 4 values of vb bytes into the low qwords
  __m256i v;
  switch (vb) {
    case 1: { int32_t w; __builtin_memcpy(&w, p, 4); v = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(w)); break; }
    case 2: v = _mm256_cvtepu16_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))); break;
    case 4: v = _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); break;
    default: v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); break;
  }
  return _mm512_maskz_expand_epi64(0x55, _mm512_castsi256_si512(v));
}

template <int NZ>
inline void load_start(const uint8_t* roots, const uint64_t* x, uint64_t party, const Consts& c, __m512i* S,
                       __m512i* X, __m512i* T) {
  const __m512i t0 = party ? _mm512_set1_epi64(-1) : c.zero;
  for (int j = 0; j < NZ; ++j) {
    S[j] = _mm512_loadu_si512(roots + 64 * j);
    X[j] = _mm512_maskz_expandloadu_epi64(0x55, x + 4 * j);
    T[j] = t0;
  }
}

template <int NZ>
inline void store_end(const __m512i* S, const __m512i* T, const Consts& c, Block* s_out, uint64_t* t_out) {
  for (int j = 0; j < NZ; ++j) {
    _mm512_storeu_si512(s_out + 4 * j, S[j]);
    _mm512_mask_compressstoreu_epi64(t_out + 4 * j, 0x55, _mm512_and_si512(T[j], c.one_lo));
  }
}

// Prefetch the correction words `kAhead` levels ahead: each level of a group is a separate
// short stretch of memory, which the hardware prefetchers do not follow.
constexpr int kAhead = 6;
inline void prefetch_level(const uint8_t* p, size_t bytes) {
  for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(reinterpret_cast<const char*>(p + off), _MM_HINT_T0);
}

}  // namespace

void vaes_dpf_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw, size_t cw_stride,
                   const uint64_t* x, uint64_t party, Block* s_out, uint64_t* t_out) {
  constexpr int NZ = kDpfWalkKeys / 4;
  const Consts c;
  const RoundKeys K(k);
  __m512i S[NZ], X[NZ], T[NZ], D[NZ], IN[NZ], O[NZ];
  load_start<NZ>(roots, x, party, c, S, X, T);
  for (int i = 0; i < levels; ++i) {
    const __m128i sh = _mm_cvtsi32_si128(bits - 1 - i);
    for (int j = 0; j < NZ; ++j) {
      D[j] = _mm512_and_si512(_mm512_srl_epi64(X[j], sh), c.one_lo);
      IN[j] = _mm512_xor_si512(S[j], D[j]);
    }
    if (i + kAhead < levels) prefetch_level(cw + cw_stride * static_cast<size_t>(i + kAhead), 64 * NZ);
    mmo_regs<NZ>(K, IN, O);
    const uint8_t* cwi = cw + cw_stride * static_cast<size_t>(i);
    for (int j = 0; j < NZ; ++j) {
      const __m512i C = _mm512_loadu_si512(cwi + 64 * j);
      const __m512i tn = correct(O[j], C, D[j], T[j], c, &S[j]);
      T[j] = lane_mask(tn, c);
    }
  }
  store_end<NZ>(S, T, c, s_out, t_out);
}

void vaes_dcf_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw, size_t cw_stride,
                   const uint8_t* vcw, size_t vcw_stride, int vb, const uint64_t* x, uint64_t party, Block* s_out,
                   uint64_t* t_out, uint64_t* acc_out) {
  constexpr int NZ = kDcfWalkKeys / 4;
  const Consts c;
  const RoundKeys K(k);
  __m512i S[NZ], X[NZ], T[NZ], D[NZ], A[NZ], IN[2 * NZ], O[2 * NZ];
  load_start<NZ>(roots, x, party, c, S, X, T);
  for (int j = 0; j < NZ; ++j) A[j] = c.zero;
  for (int i = 0; i < levels; ++i) {
    const __m128i sh = _mm_cvtsi32_si128(bits - 1 - i);
    for (int j = 0; j < NZ; ++j) {
      D[j] = _mm512_and_si512(_mm512_srl_epi64(X[j], sh), c.one_lo);
      IN[j] = _mm512_xor_si512(S[j], D[j]);
      IN[NZ + j] = _mm512_xor_si512(S[j], c.two_lo);
    }
    if (i + kAhead < levels) {
      prefetch_level(cw + cw_stride * static_cast<size_t>(i + kAhead), 64 * NZ);
      prefetch_level(vcw + vcw_stride * static_cast<size_t>(i + kAhead), static_cast<size_t>(4 * vb * NZ));
    }
    mmo_regs<2 * NZ>(K, IN, O);
    const uint8_t* cwi = cw + cw_stride * static_cast<size_t>(i);
    const uint8_t* vci = vcw + vcw_stride * static_cast<size_t>(i);
    for (int j = 0; j < NZ; ++j) {
      const __m512i C = _mm512_loadu_si512(cwi + 64 * j);
      const __m512i V = O[NZ + j];
      const __mmask8 dm = _mm512_test_epi64_mask(D[j], D[j]);
      const __m512i pick = _mm512_mask_blend_epi64(dm, V, _mm512_unpackhi_epi64(V, V));
      const __m512i vc = load_values(vci + 4 * vb * j, vb);
      A[j] = _mm512_add_epi64(A[j], _mm512_add_epi64(pick, _mm512_and_si512(vc, T[j])));
      const __m512i tn = correct(O[j], C, D[j], T[j], c, &S[j]);
      T[j] = lane_mask(tn, c);
    }
  }
  store_end<NZ>(S, T, c, s_out, t_out);
  for (int j = 0; j < NZ; ++j) _mm512_mask_compressstoreu_epi64(acc_out + 4 * j, 0x55, A[j]);
}

void vaes_dcf1_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw, size_t cw_stride,
                    const uint64_t* x, uint64_t party, Block* s_out, uint64_t* t_out, uint64_t* acc_out) {
  constexpr int NZ = kDcfWalkKeys / 4;
  const Consts c;
  const RoundKeys K(k);
  __m512i S[NZ], X[NZ], T[NZ], D[NZ], A[NZ], IN[2 * NZ], O[2 * NZ];
  load_start<NZ>(roots, x, party, c, S, X, T);
  for (int j = 0; j < NZ; ++j) A[j] = c.zero;
  for (int i = 0; i < levels; ++i) {
    const __m128i sh = _mm_cvtsi32_si128(bits - 1 - i);
    for (int j = 0; j < NZ; ++j) {
      D[j] = _mm512_and_si512(_mm512_srl_epi64(X[j], sh), c.one_lo);
      IN[j] = S[j];
      IN[NZ + j] = _mm512_xor_si512(S[j], c.one_lo);
    }
    if (i + kAhead < levels) prefetch_level(cw + cw_stride * static_cast<size_t>(i + kAhead), 64 * NZ);
    mmo_regs<2 * NZ>(K, IN, O);
    const uint8_t* cwi = cw + cw_stride * static_cast<size_t>(i);
    for (int j = 0; j < NZ; ++j) {
      const __m512i C = _mm512_loadu_si512(cwi + 64 * j);
      // Right sibling's control bit, counted where x_i = 0.
      const __m512i t_right = _mm512_and_si512(
          _mm512_xor_si512(O[NZ + j], _mm512_and_si512(_mm512_srli_epi64(C, 1), T[j])), c.one_lo);
      A[j] = _mm512_xor_si512(A[j], _mm512_andnot_si512(D[j], t_right));
      const __mmask8 dm = _mm512_test_epi64_mask(D[j], D[j]);
      const __m512i Od = _mm512_mask_blend_epi64(static_cast<__mmask8>(dm | (dm << 1)), O[j], O[NZ + j]);
      const __m512i tn = correct(Od, C, D[j], T[j], c, &S[j]);
      T[j] = lane_mask(tn, c);
    }
  }
  store_end<NZ>(S, T, c, s_out, t_out);
  for (int j = 0; j < NZ; ++j) _mm512_mask_compressstoreu_epi64(acc_out + 4 * j, 0x55, A[j]);
}

}  // namespace detail
}  // namespace fss
