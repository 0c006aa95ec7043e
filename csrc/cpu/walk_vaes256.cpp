// Tree walks of DPF / DCF evaluation fused with VAES-256 + AVX2, for CPUs with VAES but no
// AVX-512 (AMD Zen 3, Intel Alder Lake and later client cores): seeds, control bits and sums
// of a group of keys stay in ymm registers (2 keys per register: one 128-bit lane each, a
// value in the lane's low qword) for all levels, and each level's AES blocks of the whole
// group are encrypted together: two halves of 8 registers (16 blocks) in a software pipeline,
// one half's correction issued between the other half's AES rounds. The same algorithm as
// walk_vaes.cpp (the VAES-512 walks) and bit-identical to the generic walks of dpf.cpp /
// dcf.cpp: DPF of Boyle-Gilboa-Ishai (CCS 2016), DCF of Boyle-Chandran-Gilboa-Gupta-Ishai-
// Kumar-Rathee (EUROCRYPT 2021) and the one-bit DCF of docs/kernels.md sections 2-4.
// Preconditions (checked by the callers in dpf.cpp / dcf.cpp): a full group of kDpfWalkKeys
// (DPF) or kDcfWalkKeys (DCF) keys inside one key tile, 0 <= levels <= bits <= 64.
// Constant time in the key bodies (seeds, control bits, correction words, value CWs): they
// are only combined with bitwise operations, additions and VPBLENDVB selects; branches and
// addresses depend on the public x, bits, levels and value width only. Compiled with a
// function target attribute (no global ISA flags), chosen at run time through fused_walks()
// when the AES path is vaes256.
#include <immintrin.h>

#include "walk_internal.h"

#if defined(FSS_X86)

#define FSS_VAES256 __attribute__((target("aes,vaes,avx2")))

namespace fss {
namespace detail {
namespace {

struct Consts {
  __m256i one_lo, two_lo, clear2, zero;
  FSS_VAES256 Consts()
      : one_lo(_mm256_set_epi64x(0, 1, 0, 1)),
        two_lo(_mm256_set_epi64x(0, 2, 0, 2)),
        clear2(_mm256_set_epi64x(-1, ~3ll, -1, ~3ll)),
        zero(_mm256_setzero_si256()) {}
};

// The round keys broadcast to both lanes. A block starts as in ^ rk[0] and ends as
// aesenclast(y, rk[10] ^ in), which is AES(in) ^ in (the last round ends with the key XOR):
// the MMO feed-forward costs no extra instruction. first1/last1 and first2/last2 fold the
// tweaks 1 and 2 (low qword) into the first and last keys.
struct RoundKeys {
  __m256i rk[11], first1, last1, first2, last2;
  FSS_VAES256 RoundKeys(const AesKey& k, const Consts& c) {
    for (int r = 0; r < 11; ++r)
      rk[r] = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(k.rk[r])));
    first1 = _mm256_xor_si256(rk[0], c.one_lo);
    last1 = _mm256_xor_si256(rk[10], c.one_lo);
    first2 = _mm256_xor_si256(rk[0], c.two_lo);
    last2 = _mm256_xor_si256(rk[10], c.two_lo);
  }
};

// AES rounds 1..9 on NB registers in place, rounds interleaved across registers.
template <int NB>
FSS_VAES256 inline void aes_middle(const RoundKeys& K, __m256i* y) {
  for (int r = 1; r < 10; ++r)
    for (int j = 0; j < NB; ++j) y[j] = _mm256_aesenc_epi128(y[j], K.rk[r]);
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
    case 2: {
      uint32_t w;
      __builtin_memcpy(&w, p, 4);
      v = _mm_cvtepu16_epi64(_mm_cvtsi32_si128(static_cast<int>(w)));
      break;
    }
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

// Runs a walk W over `levels` levels as two halves in a software pipeline: W::expand(h, i)
// issues the AES of half h at level i, W::finish(h, i) applies level i's correction words to
// it. One half's correction is issued between the other half's AES rounds, so the vector ALUs
// work while the AES units are busy (each half alone is bound by the AES latency).
template <class W>
FSS_VAES256 inline void run_pipelined(W& w, int levels) {
  for (int i = 0; i < levels; ++i) {
    w.prefetch(i);
    w.expand(0, i);
    if (i > 0) w.finish(1, i - 1);
    w.expand(1, i);
    w.finish(0, i);
  }
  if (levels > 0) w.finish(1, levels - 1);
}

// DPF Eval: per key one child per level, on x's side.
struct DpfWalk {
  static constexpr int NY = kDpfWalkKeys / 2, H = NY / 2;  // two halves of H registers (16 keys each)
  const Consts& c;
  const RoundKeys& K;
  int bits;
  const uint8_t* cw;
  size_t cw_stride;
  int levels;
  __m256i S[NY], X[NY], T[NY], D[NY], O[NY];

  DpfWalk(const Consts& c_, const RoundKeys& K_, int bits_, const uint8_t* cw_, size_t cw_stride_, int levels_)
      : c(c_), K(K_), bits(bits_), cw(cw_), cw_stride(cw_stride_), levels(levels_) {}
  FSS_VAES256 void prefetch(int i) const {
    if (i + kAhead < levels) prefetch_level(cw + cw_stride * static_cast<size_t>(i + kAhead), 32 * NY);
  }
  // O = MMO of the half's children on x's side at level i (D: x's bit).
  FSS_VAES256 void expand(int h, int i) {
    const __m128i sh = _mm_cvtsi32_si128(bits - 1 - i);
    __m256i y[H], in[H];
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      D[q] = _mm256_and_si256(_mm256_srl_epi64(X[q], sh), c.one_lo);
      in[j] = _mm256_xor_si256(S[q], D[q]);
      y[j] = _mm256_xor_si256(in[j], K.rk[0]);
    }
    aes_middle<H>(K, y);
    for (int j = 0; j < H; ++j) O[h * H + j] = _mm256_aesenclast_epi128(y[j], _mm256_xor_si256(K.rk[10], in[j]));
  }
  // Level i's correction of the half's children: new seeds and control bits.
  FSS_VAES256 void finish(int h, int i) {
    const uint8_t* cwi = cw + cw_stride * static_cast<size_t>(i);
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      const __m256i C = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cwi + 32 * q));
      T[q] = lane_mask(correct(O[q], C, D[q], T[q], c, &S[q]), c);
    }
  }
};

// DCF (BCG) Eval: the child on x's side and the value block (tweak 2) per level.
struct DcfWalk {
  static constexpr int NY = kDcfWalkKeys / 2, H = NY / 2;  // two halves of H registers (8 keys each)
  const Consts& c;
  const RoundKeys& K;
  int bits;
  const uint8_t* cw;
  size_t cw_stride;
  const uint8_t* vcw;
  size_t vcw_stride;
  int vb;
  int levels;
  __m256i S[NY], X[NY], T[NY], D[NY], A[NY], O[NY], V[NY];

  DcfWalk(const Consts& c_, const RoundKeys& K_, int bits_, const uint8_t* cw_, size_t cw_stride_,
          const uint8_t* vcw_, size_t vcw_stride_, int vb_, int levels_)
      : c(c_), K(K_), bits(bits_), cw(cw_), cw_stride(cw_stride_), vcw(vcw_), vcw_stride(vcw_stride_), vb(vb_),
        levels(levels_) {}

  FSS_VAES256 void prefetch(int i) const {
    if (i + kAhead < levels) {
      prefetch_level(cw + cw_stride * static_cast<size_t>(i + kAhead), 32 * NY);
      prefetch_level(vcw + vcw_stride * static_cast<size_t>(i + kAhead), static_cast<size_t>(2 * vb * NY));
    }
  }
  FSS_VAES256 void expand(int h, int i) {
    const __m128i sh = _mm_cvtsi32_si128(bits - 1 - i);
    __m256i y[2 * H], in[H];
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      D[q] = _mm256_and_si256(_mm256_srl_epi64(X[q], sh), c.one_lo);
      in[j] = _mm256_xor_si256(S[q], D[q]);
      y[2 * j] = _mm256_xor_si256(in[j], K.rk[0]);
      y[2 * j + 1] = _mm256_xor_si256(S[q], K.first2);
    }
    aes_middle<2 * H>(K, y);
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      O[q] = _mm256_aesenclast_epi128(y[2 * j], _mm256_xor_si256(K.rk[10], in[j]));
      V[q] = _mm256_aesenclast_epi128(y[2 * j + 1], _mm256_xor_si256(K.last2, S[q]));
    }
  }
  FSS_VAES256 void finish(int h, int i) {
    const uint8_t* cwi = cw + cw_stride * static_cast<size_t>(i);
    const uint8_t* vci = vcw + vcw_stride * static_cast<size_t>(i);
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      const __m256i C = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cwi + 32 * q));
      // x_i = 1: the high qword of the value block (moved down), else the low one.
      const __m256i pick = _mm256_blendv_epi8(V[q], _mm256_unpackhi_epi64(V[q], V[q]), lane_mask(D[q], c));
      const __m256i vc = load_values(vci + 2 * vb * q, vb);
      A[q] = _mm256_add_epi64(A[q], _mm256_add_epi64(pick, _mm256_and_si256(vc, T[q])));
      T[q] = lane_mask(correct(O[q], C, D[q], T[q], c, &S[q]), c);
    }
  }
};

// One-bit DCF Eval: both children per level (tweaks 0 and 1); the right sibling's bit is
// counted where x_i = 0.
struct Dcf1Walk {
  static constexpr int NY = kDcfWalkKeys / 2, H = NY / 2;  // two halves of H registers (8 keys each)
  const Consts& c;
  const RoundKeys& K;
  int bits;
  const uint8_t* cw;
  size_t cw_stride;
  int levels;
  __m256i S[NY], X[NY], T[NY], A[NY], OL[NY], OR[NY];

  Dcf1Walk(const Consts& c_, const RoundKeys& K_, int bits_, const uint8_t* cw_, size_t cw_stride_, int levels_)
      : c(c_), K(K_), bits(bits_), cw(cw_), cw_stride(cw_stride_), levels(levels_) {}

  FSS_VAES256 void prefetch(int i) const {
    if (i + kAhead < levels) prefetch_level(cw + cw_stride * static_cast<size_t>(i + kAhead), 32 * NY);
  }
  FSS_VAES256 void expand(int h, int) {
    __m256i y[2 * H];
    for (int j = 0; j < H; ++j) {
      y[2 * j] = _mm256_xor_si256(S[h * H + j], K.rk[0]);
      y[2 * j + 1] = _mm256_xor_si256(S[h * H + j], K.first1);
    }
    aes_middle<2 * H>(K, y);
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      OL[q] = _mm256_aesenclast_epi128(y[2 * j], _mm256_xor_si256(K.rk[10], S[q]));
      OR[q] = _mm256_aesenclast_epi128(y[2 * j + 1], _mm256_xor_si256(K.last1, S[q]));
    }
  }
  FSS_VAES256 void finish(int h, int i) {
    const __m128i sh = _mm_cvtsi32_si128(bits - 1 - i);
    const uint8_t* cwi = cw + cw_stride * static_cast<size_t>(i);
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      const __m256i d = _mm256_and_si256(_mm256_srl_epi64(X[q], sh), c.one_lo);
      const __m256i C = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cwi + 32 * q));
      const __m256i t_right =
          _mm256_and_si256(_mm256_xor_si256(OR[q], _mm256_and_si256(_mm256_srli_epi64(C, 1), T[q])), c.one_lo);
      A[q] = _mm256_xor_si256(A[q], _mm256_andnot_si256(d, t_right));
      const __m256i Od = _mm256_blendv_epi8(OL[q], OR[q], lane_mask(d, c));
      T[q] = lane_mask(correct(Od, C, d, T[q], c, &S[q]), c);
    }
  }
};

}  // namespace

FSS_VAES256 void vaes256_dpf_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                                  size_t cw_stride, const uint64_t* x, uint64_t party, Block* s_out,
                                  uint64_t* t_out) {
  const Consts c;
  const RoundKeys K(k, c);
  DpfWalk w(c, K, bits, cw, cw_stride, levels);
  load_start<DpfWalk::NY>(roots, x, party, c, w.S, w.X, w.T);
  run_pipelined(w, levels);
  store_end<DpfWalk::NY>(w.S, w.T, c, s_out, t_out);
}

FSS_VAES256 void vaes256_dcf_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                                  size_t cw_stride, const uint8_t* vcw, size_t vcw_stride, int vb,
                                  const uint64_t* x, uint64_t party, Block* s_out, uint64_t* t_out,
                                  uint64_t* acc_out) {
  const Consts c;
  const RoundKeys K(k, c);
  DcfWalk w(c, K, bits, cw, cw_stride, vcw, vcw_stride, vb, levels);
  load_start<DcfWalk::NY>(roots, x, party, c, w.S, w.X, w.T);
  for (int j = 0; j < DcfWalk::NY; ++j) w.A[j] = c.zero;
  run_pipelined(w, levels);
  store_end<DcfWalk::NY>(w.S, w.T, c, s_out, t_out);
  store_acc<DcfWalk::NY>(w.A, acc_out);
}

FSS_VAES256 void vaes256_dcf1_walk(const AesKey& k, int bits, int levels, const uint8_t* roots, const uint8_t* cw,
                                   size_t cw_stride, const uint64_t* x, uint64_t party, Block* s_out,
                                   uint64_t* t_out, uint64_t* acc_out) {
  const Consts c;
  const RoundKeys K(k, c);
  Dcf1Walk w(c, K, bits, cw, cw_stride, levels);
  load_start<Dcf1Walk::NY>(roots, x, party, c, w.S, w.X, w.T);
  for (int j = 0; j < Dcf1Walk::NY; ++j) w.A[j] = c.zero;
  run_pipelined(w, levels);
  store_end<Dcf1Walk::NY>(w.S, w.T, c, s_out, t_out);
  store_acc<Dcf1Walk::NY>(w.A, acc_out);
}

}  // namespace detail
}  // namespace fss

#endif  // FSS_X86
