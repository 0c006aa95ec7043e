// Tree walks of DPF / DCF evaluation fused with VAES-256 + AVX2, for CPUs with VAES but no
// AVX-512 (AMD Zen 3, Intel Alder Lake and later client cores): seeds, control bits and sums
// of a group of keys stay in ymm registers (2 keys per register: one 128-bit lane each, a
// value in the lane's low qword) for all levels, and each level's AES blocks of the whole
// group are encrypted back to back (8 registers = 16 blocks in flight). The same algorithm as
// walk_vaes.cpp (the VAES-512 walks) and bit-identical to the generic walks of dpf.cpp /
// dcf.cpp: DPF of Boyle-Gilboa-Ishai (CCS 2016), DCF of Boyle-Chandran-Gilboa-Gupta-Ishai-
// Kumar-Rathee (EUROCRYPT 2021) and the one-bit DCF of docs/kernels.md sections 2-4.
// Preconditions (checked by the callers in dpf.cpp / dcf.cpp): a full group of kDpfWalkKeys
// (DPF) or kDcfWalkKeys (DCF) keys inside one key tile, 1 <= levels <= bits <= 64.
// Constant time in the key bodies (seeds, control bits, correction words): they are only
// combined with bitwise operations and VPBLENDVB selects; branches and addresses depend on
// the public x, bits and levels only. Compiled with a function target attribute (no global
// ISA flags), chosen at run time through fused_walks() when the AES path is vaes256.
#include <immintrin.h>

#include "walk_internal.h"

#if defined(FSS_X86)

#define FSS_VAES256 __attribute__((target("aes,vaes,avx2")))

namespace fss {
namespace detail {
namespace {

constexpr int kBatch = 8;  // ymm registers encrypted together (16 blocks in flight)

struct Consts {
  __m256i one_lo, two_lo, clear2, zero;
  FSS_VAES256 Consts()
      : one_lo(_mm256_set_epi64x(0, 1, 0, 1)),
        two_lo(_mm256_set_epi64x(0, 2, 0, 2)),
        clear2(_mm256_set_epi64x(-1, ~3ll, -1, ~3ll)),
        zero(_mm256_setzero_si256()) {}
};

struct RoundKeys {
  __m256i rk[11];
  FSS_VAES256 explicit RoundKeys(const AesKey& k) {
    for (int r = 0; r < 11; ++r)
      rk[r] = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(k.rk[r])));
  }
};

// out[j] = AES(in[j]) ^ in[j] for N registers (N a multiple of kBatch), kBatch at a time.
template <int N>
FSS_VAES256 inline void mmo_regs(const RoundKeys& K, const __m256i* in, __m256i* out) {
  static_assert(N % kBatch == 0, "whole batches");
  for (int b = 0; b < N; b += kBatch) {
    __m256i y[kBatch];
    for (int j = 0; j < kBatch; ++j) y[j] = _mm256_xor_si256(in[b + j], K.rk[0]);
    for (int r = 1; r < 10; ++r)
      for (int j = 0; j < kBatch; ++j) y[j] = _mm256_aesenc_epi128(y[j], K.rk[r]);
    for (int j = 0; j < kBatch; ++j) out[b + j] = _mm256_xor_si256(_mm256_aesenclast_epi128(y[j], K.rk[10]), in[b + j]);
  }
}

// Control bit (low qword, 0/1) to a full-lane mask.
FSS_VAES256 inline __m256i lane_mask(const __m256i& tbit, const Consts& c) {
  const __m256i m = _mm256_sub_epi64(c.zero, tbit);
  return _mm256_unpacklo_epi64(m, m);
}

// The standard correction of a child block O by CW under mask T; returns the new bit (low qword).
FSS_VAES256 inline __m256i correct(const __m256i& O, const __m256i& C, const __m256i& D, const __m256i& T,
                                   const Consts& c, __m256i* s_new) {
  *s_new = _mm256_and_si256(_mm256_xor_si256(O, _mm256_and_si256(C, T)), c.clear2);
  return _mm256_and_si256(_mm256_xor_si256(O, _mm256_and_si256(_mm256_srlv_epi64(C, D), T)), c.one_lo);
}

// Two 64-bit words (v0, v1) to the low qwords of the two lanes: (v0, 0, v1, 0).
FSS_VAES256 inline __m256i spread2(__m128i v) {
  return _mm256_permute4x64_epi64(_mm256_zextsi128_si256(v), _MM_SHUFFLE(3, 1, 2, 0));
}
// The low qwords of the two lanes as two 64-bit words.
FSS_VAES256 inline __m128i gather2(__m256i v) {
  return _mm256_castsi256_si128(_mm256_permute4x64_epi64(v, _MM_SHUFFLE(3, 1, 2, 0)));
}

FSS_VAES256 inline __m256i load_values(const uint8_t* p, int vb) {  // 2 values of vb bytes, zero-extended
  __m128i v;
  switch (vb) {
    case 1: { uint16_t w; __builtin_memcpy(&w, p, 2); v = _mm_cvtepu8_epi64(_mm_cvtsi32_si128(w)); break; }
    case 2: { uint32_t w; __builtin_memcpy(&w, p, 4); v = _mm_cvtepu16_epi64(_mm_cvtsi32_si128(static_cast<int>(w))); break; }
    case 4: v = _mm_cvtepu32_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))); break;
    default: v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); break;
  }
  return spread2(v);
}

template <int NY>
FSS_VAES256 inline void load_start(const uint8_t* roots, const uint64_t* x, uint64_t party, const Consts& c,
                                   __m256i* S, __m256i* X, __m256i* T) {
  const __m256i t0 = party ? _mm256_set1_epi64x(-1) : c.zero;
  for (int j = 0; j < NY; ++j) {
    S[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(roots + 32 * j));
    X[j] = spread2(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 2 * j)));
    T[j] = t0;
  }
}

template <int NY>
FSS_VAES256 inline void store_end(const __m256i* S, const __m256i* T, const Consts& c, Block* s_out,
                                  uint64_t* t_out) {
  for (int j = 0; j < NY; ++j) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(s_out + 2 * j), S[j]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(t_out + 2 * j), gather2(_mm256_and_si256(T[j], c.one_lo)));
  }
}

template <int NY>
FSS_VAES256 inline void store_acc(const __m256i* A, uint64_t* acc_out) {
  for (int j = 0; j < NY; ++j) _mm_storeu_si128(reinterpret_cast<__m128i*>(acc_out + 2 * j), gather2(A[j]));
}

// Prefetch the correction words `kAhead` levels ahead (as in walk_vaes.cpp): each level of a
// group is a separate short stretch of memory, which the hardware prefetchers do not follow.
constexpr int kAhead = 6;
FSS_VAES256 inline void prefetch_level(const uint8_t* p, size_t bytes) {
  for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(reinterpret_cast<const char*>(p + off), _MM_HINT_T0);
}

}  // namespace

FSS_VAES256 void vaes256_dpf_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                                  size_t cw_stride, const uint64_t* x, uint64_t party, Block* s_out,
                                  uint64_t* t_out) {
  constexpr int NY = kDpfWalkKeys / 2;
  const Consts c;
  const RoundKeys K(k);
  __m256i S[NY], X[NY], T[NY], D[NY], IN[NY], O[NY];
  load_start<NY>(roots, x, party, c, S, X, T);
  for (int i = 0; i < levels; ++i) {
    const __m128i sh = _mm_cvtsi32_si128(bits - 1 - i);
    for (int j = 0; j < NY; ++j) {
      D[j] = _mm256_and_si256(_mm256_srl_epi64(X[j], sh), c.one_lo);
      IN[j] = _mm256_xor_si256(S[j], D[j]);
    }
    if (i + kAhead < levels) prefetch_level(cw + cw_stride * static_cast<size_t>(i + kAhead), 32 * NY);
    mmo_regs<NY>(K, IN, O);
    const uint8_t* cwi = cw + cw_stride * static_cast<size_t>(i);
    for (int j = 0; j < NY; ++j) {
      const __m256i C = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cwi + 32 * j));
      const __m256i tn = correct(O[j], C, D[j], T[j], c, &S[j]);
      T[j] = lane_mask(tn, c);
    }
  }
  store_end<NY>(S, T, c, s_out, t_out);
}

FSS_VAES256 void vaes256_dcf_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                                  size_t cw_stride, const uint8_t* vcw, size_t vcw_stride, int vb,
                                  const uint64_t* x, uint64_t party, Block* s_out, uint64_t* t_out,
                                  uint64_t* acc_out) {
  constexpr int NY = kDcfWalkKeys / 2;
  const Consts c;
  const RoundKeys K(k);
  __m256i S[NY], X[NY], T[NY], D[NY], A[NY], IN[2 * NY], O[2 * NY];
  load_start<NY>(roots, x, party, c, S, X, T);
  for (int j = 0; j < NY; ++j) A[j] = c.zero;
  for (int i = 0; i < levels; ++i) {
    const __m128i sh = _mm_cvtsi32_si128(bits - 1 - i);
    for (int j = 0; j < NY; ++j) {
      D[j] = _mm256_and_si256(_mm256_srl_epi64(X[j], sh), c.one_lo);
      IN[j] = _mm256_xor_si256(S[j], D[j]);
      IN[NY + j] = _mm256_xor_si256(S[j], c.two_lo);
    }
    if (i + kAhead < levels) {
      prefetch_level(cw + cw_stride * static_cast<size_t>(i + kAhead), 32 * NY);
      prefetch_level(vcw + vcw_stride * static_cast<size_t>(i + kAhead), static_cast<size_t>(2 * vb * NY));
    }
    mmo_regs<2 * NY>(K, IN, O);
    const uint8_t* cwi = cw + cw_stride * static_cast<size_t>(i);
    const uint8_t* vci = vcw + vcw_stride * static_cast<size_t>(i);
    for (int j = 0; j < NY; ++j) {
      const __m256i C = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cwi + 32 * j));
      const __m256i V = O[NY + j];
      // x_i = 1: the high qword of the value block (moved down), else the low one.
      const __m256i pick = _mm256_blendv_epi8(V, _mm256_unpackhi_epi64(V, V), lane_mask(D[j], c));
      const __m256i vc = load_values(vci + 2 * vb * j, vb);
      A[j] = _mm256_add_epi64(A[j], _mm256_add_epi64(pick, _mm256_and_si256(vc, T[j])));
      const __m256i tn = correct(O[j], C, D[j], T[j], c, &S[j]);
      T[j] = lane_mask(tn, c);
    }
  }
  store_end<NY>(S, T, c, s_out, t_out);
  store_acc<NY>(A, acc_out);
}

FSS_VAES256 void vaes256_dcf1_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                                   size_t cw_stride, const uint64_t* x, uint64_t party, Block* s_out,
                                   uint64_t* t_out, uint64_t* acc_out) {
  constexpr int NY = kDcfWalkKeys / 2;
  const Consts c;
  const RoundKeys K(k);
  __m256i S[NY], X[NY], T[NY], D[NY], A[NY], IN[2 * NY], O[2 * NY];
  load_start<NY>(roots, x, party, c, S, X, T);
  for (int j = 0; j < NY; ++j) A[j] = c.zero;
  for (int i = 0; i < levels; ++i) {
    const __m128i sh = _mm_cvtsi32_si128(bits - 1 - i);
    for (int j = 0; j < NY; ++j) {
      D[j] = _mm256_and_si256(_mm256_srl_epi64(X[j], sh), c.one_lo);
      IN[j] = S[j];
      IN[NY + j] = _mm256_xor_si256(S[j], c.one_lo);
    }
    if (i + kAhead < levels) prefetch_level(cw + cw_stride * static_cast<size_t>(i + kAhead), 32 * NY);
    mmo_regs<2 * NY>(K, IN, O);
    const uint8_t* cwi = cw + cw_stride * static_cast<size_t>(i);
    for (int j = 0; j < NY; ++j) {
      const __m256i C = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cwi + 32 * j));
      // Right sibling's control bit, counted where x_i = 0.
      const __m256i t_right = _mm256_and_si256(
          _mm256_xor_si256(O[NY + j], _mm256_and_si256(_mm256_srli_epi64(C, 1), T[j])), c.one_lo);
      A[j] = _mm256_xor_si256(A[j], _mm256_andnot_si256(D[j], t_right));
      const __m256i Od = _mm256_blendv_epi8(O[j], O[NY + j], lane_mask(D[j], c));
      const __m256i tn = correct(Od, C, D[j], T[j], c, &S[j]);
      T[j] = lane_mask(tn, c);
    }
  }
  store_end<NY>(S, T, c, s_out, t_out);
  store_acc<NY>(A, acc_out);
}

}  // namespace detail
}  // namespace fss

#endif  // FSS_X86
