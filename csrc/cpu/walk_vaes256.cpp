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

// Control bit (low qword, 0/1) to a full-lane mask.
FSS_VAES256 inline __m256i lane_mask(const __m256i& tbit, const Consts& c) {
  const __m256i m = _mm256_sub_epi64(c.zero, tbit);
  return _mm256_unpacklo_epi64(m, m);
}

// Bit 0 of each lane -> whole 128-bit lane of ones/zeros (other bits ignored): the bit to
// the sign of dword 0, spread over the dword, then dword 0 copied over the lane.
FSS_VAES256 inline __m256i bit0_mask(__m256i v) {
  return _mm256_shuffle_epi32(_mm256_srai_epi32(_mm256_slli_epi32(v, 31), 31), 0);
}

// The standard correction of the child block O (direction D, 0/1 in the low qword) by the CW
// C under the control-bit lane mask T: sets the new seed, returns the new control-bit lane
// mask. C & T shifted right by D has t_CW_D in bit 0 (T keeps bit 0 set when shifted by 1).
FSS_VAES256 inline __m256i correct(const __m256i& O, const __m256i& C, const __m256i& D, const __m256i& T,
                                   const Consts& c, __m256i* s_new) {
  const __m256i CT = _mm256_and_si256(C, T);
  *s_new = _mm256_and_si256(_mm256_xor_si256(O, CT), c.clear2);
  return bit0_mask(_mm256_xor_si256(O, _mm256_srlv_epi64(CT, D)));
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

// Runs a walk W over `levels` levels as two halves in a software pipeline. Each half alone
// cannot keep the AES units busy across a level (its next AES depends on its correction), and
// the out-of-order window is too small to overlap whole phases, so the overlap is written out:
// while half h's AES rounds run, the correction of the other half (previous AES) is issued
// one register at a time between the rounds. W::begin(h, i, y) starts half h's blocks of
// level i (y = in ^ rk[0]), W::end(h, y) finishes them (last round with the MMO feed-forward),
// W::finish_one(h, i, j) applies level i's correction words to register j of half h.
template <class W>
FSS_VAES256 inline void aes_with_finish(W& w, int h, int i, int fh, int fi) {
  __m256i y[W::NB];
  w.begin(h, i, y);
#pragma GCC unroll 16
  for (int r = 1; r < 10; ++r) {
#pragma GCC unroll 16
    for (int j = 0; j < W::NB; ++j) y[j] = _mm256_aesenc_epi128(y[j], w.K.rk[r]);
    if (fi >= 0) {
#pragma GCC unroll 16
      for (int j = 0; j < W::H; ++j)
        if (1 + j * 8 / W::H == r) w.finish_one(fh, fi, j);  // spread over rounds 1..8
    }
  }
  w.end(h, y);
}

template <class W>
FSS_VAES256 inline void run_pipelined(W& w, int levels) {
  for (int i = 0; i < levels; ++i) {
    w.prefetch(i);
    aes_with_finish(w, 0, i, 1, i - 1);  // fi = -1 at the first level: nothing to finish
    aes_with_finish(w, 1, i, 0, i);
  }
  if (levels > 0)
    for (int j = 0; j < W::H; ++j) w.finish_one(1, levels - 1, j);
}

// DPF Eval: per key one child per level, on x's side.
struct DpfWalk {
  static constexpr int NY = kDpfWalkKeys / 2, H = NY / 2;  // two halves of H registers (16 keys each)
  static constexpr int NB = H;                              // AES registers per half
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
  // The half's children on x's side at level i (D: x's bit); O gets their MMO.
  FSS_VAES256 void begin(int h, int i, __m256i* y) {
    const __m128i sh = _mm_cvtsi32_si128(bits - 1 - i);
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      D[q] = _mm256_and_si256(_mm256_srl_epi64(X[q], sh), c.one_lo);
      y[j] = _mm256_xor_si256(_mm256_xor_si256(S[q], D[q]), K.rk[0]);
    }
  }
  FSS_VAES256 void end(int h, const __m256i* y) {
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      O[q] = _mm256_aesenclast_epi128(y[j], _mm256_xor_si256(K.rk[10], _mm256_xor_si256(S[q], D[q])));
    }
  }
  // Level i's correction of register j of the half: new seeds and control bits.
  FSS_VAES256 void finish_one(int h, int i, int j) {
    const int q = h * H + j;
    const uint8_t* cwi = cw + cw_stride * static_cast<size_t>(i);
    const __m256i C = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cwi + 32 * q));
    T[q] = correct(O[q], C, D[q], T[q], c, &S[q]);
  }
};

// DCF (BCG) Eval: the child on x's side and the value block (tweak 2) per level.
struct DcfWalk {
  static constexpr int NY = kDcfWalkKeys / 2, H = NY / 2;  // two halves of H registers (8 keys each)
  static constexpr int NB = 2 * H;                          // AES registers per half
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
  // y[2j]: the child on x's side (O), y[2j + 1]: the value block (V).
  FSS_VAES256 void begin(int h, int i, __m256i* y) {
    const __m128i sh = _mm_cvtsi32_si128(bits - 1 - i);
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      D[q] = _mm256_and_si256(_mm256_srl_epi64(X[q], sh), c.one_lo);
      y[2 * j] = _mm256_xor_si256(_mm256_xor_si256(S[q], D[q]), K.rk[0]);
      y[2 * j + 1] = _mm256_xor_si256(S[q], K.first2);
    }
  }
  FSS_VAES256 void end(int h, const __m256i* y) {
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      O[q] = _mm256_aesenclast_epi128(y[2 * j], _mm256_xor_si256(K.rk[10], _mm256_xor_si256(S[q], D[q])));
      V[q] = _mm256_aesenclast_epi128(y[2 * j + 1], _mm256_xor_si256(K.last2, S[q]));
    }
  }
  FSS_VAES256 void finish_one(int h, int i, int j) {
    const int q = h * H + j;
    const uint8_t* cwi = cw + cw_stride * static_cast<size_t>(i);
    const __m256i C = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cwi + 32 * q));
    // x_i = 1: the high qword of the value block (moved down), else the low one.
    const __m256i pick = _mm256_blendv_epi8(V[q], _mm256_unpackhi_epi64(V[q], V[q]), lane_mask(D[q], c));
    const __m256i vc = load_values(vcw + vcw_stride * static_cast<size_t>(i) + 2 * vb * q, vb);
    A[q] = _mm256_add_epi64(A[q], _mm256_add_epi64(pick, _mm256_and_si256(vc, T[q])));
    T[q] = correct(O[q], C, D[q], T[q], c, &S[q]);
  }
};

// One-bit DCF Eval: both children per level (tweaks 0 and 1); the right sibling's bit is
// counted where x_i = 0.
struct Dcf1Walk {
  static constexpr int NY = kDcfWalkKeys / 2, H = NY / 2;  // two halves of H registers (8 keys each)
  static constexpr int NB = 2 * H;                          // AES registers per half
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
  // y[2j]: the left child (OL), y[2j + 1]: the right child (OR).
  FSS_VAES256 void begin(int h, int, __m256i* y) {
    for (int j = 0; j < H; ++j) {
      y[2 * j] = _mm256_xor_si256(S[h * H + j], K.rk[0]);
      y[2 * j + 1] = _mm256_xor_si256(S[h * H + j], K.first1);
    }
  }
  FSS_VAES256 void end(int h, const __m256i* y) {
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      OL[q] = _mm256_aesenclast_epi128(y[2 * j], _mm256_xor_si256(K.rk[10], S[q]));
      OR[q] = _mm256_aesenclast_epi128(y[2 * j + 1], _mm256_xor_si256(K.last1, S[q]));
    }
  }
  FSS_VAES256 void finish_one(int h, int i, int j) {
    const int q = h * H + j;
    const __m256i d = _mm256_and_si256(_mm256_srl_epi64(X[q], _mm_cvtsi32_si128(bits - 1 - i)), c.one_lo);
    const __m256i dm = lane_mask(d, c);
    const uint8_t* cwi = cw + cw_stride * static_cast<size_t>(i);
    const __m256i C = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cwi + 32 * q));
    const __m256i CT = _mm256_and_si256(C, T[q]);
    // Bit 0: the right child's corrected control bit (t_CW_1 is bit 1 of C; T keeps bit 0
    // set when shifted by 1), counted where x_i = 0. A's other bits are dropped at the end.
    const __m256i right = _mm256_xor_si256(OR[q], _mm256_srli_epi64(CT, 1));
    A[q] = _mm256_xor_si256(A[q], _mm256_andnot_si256(d, right));
    // The child on x's side: bit 0 of P is the left child's new bit, of `right` the right's.
    const __m256i P = _mm256_xor_si256(_mm256_blendv_epi8(OL[q], OR[q], dm), CT);
    S[q] = _mm256_and_si256(P, c.clear2);
    T[q] = bit0_mask(_mm256_blendv_epi8(P, right, dm));
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
  for (int j = 0; j < Dcf1Walk::NY; ++j) w.A[j] = _mm256_and_si256(w.A[j], c.one_lo);
  store_acc<Dcf1Walk::NY>(w.A, acc_out);
}

}  // namespace detail
}  // namespace fss

#endif  // FSS_X86
