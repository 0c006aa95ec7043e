// Key-generation walks fused with VAES-256 + AVX2, for CPUs with VAES but no AVX-512 (AMD
// Zen 3, Intel client cores): both parties' seeds and control bits of a group of
// kGenWalkKeys keys stay in ymm registers (2 keys per register, one 128-bit lane each) for
// all levels, and the 4 (DPF) or 6 (DCF) AES blocks per key and level of the whole group are
// encrypted together (two halves in a software pipeline). The same algorithm as gen_vaes.cpp
// (VAES-512) and bit-identical to dpf_gen_tree / dcf_gen_bcg: the DPF tree of
// Boyle-Gilboa-Ishai (CCS 2016) and the DCF of Boyle-Chandran-Gilboa-Gupta-Ishai-Kumar-Rathee
// (EUROCRYPT 2021), docs/kernels.md sections 2-3.
// Preconditions (checked by the callers): kGenWalkKeys keys, 0 <= levels <= bits <= 64,
// beta already reduced mod 2^out_bits, vb in {1, 2, 4, 8}.
// Constant time in alpha, beta and the seeds: every secret-dependent choice is a VPBLENDVB
// select by a lane mask, and the multiplications by (-1)^t1 of the BCG value correction are
// conditional negations ((x ^ m) - m with m = 0 or all ones), so there is no secret-dependent
// branch, address or multiplication. Compiled with a function target attribute (no global
// ISA flags), chosen at run time through fused_walks() when the AES path is vaes256.
#include <immintrin.h>

#include "fsskernels/zeroize.h"
#include "walk_internal.h"

#if defined(FSS_X86)

#define FSS_VAES256 __attribute__((target("aes,vaes,avx2")))

namespace fss {
namespace detail {
namespace {

constexpr int NY = kGenWalkKeys / 2;  // ymm registers per group (2 keys each)

FSS_VAES256 inline __m256i sel(__m256i m, __m256i if_set, __m256i if_clear) {
  return _mm256_blendv_epi8(if_clear, if_set, m);  // m: whole-lane masks of ones or zeros
}
// Bit 0 of each lane -> whole 128-bit lane of ones/zeros (other bits ignored): the bit to
// the sign of dword 0, spread over the dword, then dword 0 copied over the lane.
FSS_VAES256 inline __m256i bit0_mask(__m256i v) {
  return _mm256_shuffle_epi32(_mm256_srai_epi32(_mm256_slli_epi32(v, 31), 31), 0);
}
// (-1)^t * x mod 2^64 per qword, with m = 0 (t = 0) or all ones (t = 1).
FSS_VAES256 inline __m256i cneg(__m256i x, __m256i m) { return _mm256_sub_epi64(_mm256_xor_si256(x, m), m); }

// Two 64-bit words (v0, v1) to the low qwords of the two lanes, and back.
FSS_VAES256 inline __m256i spread2(__m128i v) {
  return _mm256_permute4x64_epi64(_mm256_zextsi128_si256(v), _MM_SHUFFLE(3, 1, 2, 0));
}
FSS_VAES256 inline __m128i gather2(__m256i v) {
  return _mm256_castsi256_si128(_mm256_permute4x64_epi64(v, _MM_SHUFFLE(3, 1, 2, 0)));
}

// Round keys broadcast to both lanes, and constants. A block starts as in ^ rk[0] and ends as
// aesenclast(y, rk[10] ^ in), which is AES(in) ^ in (the last round ends with the key XOR),
// so the MMO feed-forward costs no extra instruction; first1/last1 and first2/last2 fold the
// tweaks 1 and 2 (low qword) into the first and last keys.
struct Ctx {
  __m256i rk[11], first1, last1, first2, last2;
  __m256i one_lo, clear2;
  FSS_VAES256 explicit Ctx(const AesKey& k)
      : one_lo(_mm256_set_epi64x(0, 1, 0, 1)), clear2(_mm256_set_epi64x(-1, ~3ll, -1, ~3ll)) {
    for (int r = 0; r < 11; ++r)
      rk[r] = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(k.rk[r])));
    const __m256i two_lo = _mm256_slli_epi64(one_lo, 1);
    first1 = _mm256_xor_si256(rk[0], one_lo);
    last1 = _mm256_xor_si256(rk[10], one_lo);
    first2 = _mm256_xor_si256(rk[0], two_lo);
    last2 = _mm256_xor_si256(rk[10], two_lo);
  }
  // AES rounds 1..9 on NB registers in place, rounds interleaved across registers.
  template <int NB>
  FSS_VAES256 void middle(__m256i* y) const {
    for (int r = 1; r < 10; ++r)
      for (int j = 0; j < NB; ++j) y[j] = _mm256_aesenc_epi128(y[j], rk[r]);
  }
};

// One level of the shared DPF/DCF tree step for one register of 2 keys (gen_tree_step of
// fss_common.h, lane-wise).
struct TreeStep {
  __m256i cw, t0, t1;  // CW blocks; new control-bit lane masks
};
FSS_VAES256 inline TreeStep tree_step(const Ctx& c, __m256i a, __m256i am, __m256i o00, __m256i o01, __m256i o10,
                                      __m256i o11, __m256i* s0, __m256i* s1, __m256i t0m, __m256i t1m) {
  // x_d = o0d ^ o1d: the parties' children XORed; sCW is the lose side's, tCW_d its low bit
  // (tCW_0 also ^ a ^ 1, tCW_1 ^ a).
  const __m256i x0 = _mm256_xor_si256(o00, o10), x1 = _mm256_xor_si256(o01, o11);
  const __m256i scw = _mm256_and_si256(sel(am, x0, x1), c.clear2);
  const __m256i tcw0 = _mm256_and_si256(_mm256_xor_si256(x0, _mm256_xor_si256(a, c.one_lo)), c.one_lo);
  const __m256i tcw1 = _mm256_and_si256(_mm256_xor_si256(x1, a), c.one_lo);
  TreeStep r;
  r.cw = _mm256_or_si256(scw, _mm256_or_si256(tcw0, _mm256_slli_epi64(tcw1, 1)));
  const __m256i tcw_keep = sel(am, tcw1, tcw0);
  const __m256i k0 = sel(am, o01, o00), k1 = sel(am, o11, o10);
  *s0 = _mm256_xor_si256(_mm256_and_si256(k0, c.clear2), _mm256_and_si256(scw, t0m));
  *s1 = _mm256_xor_si256(_mm256_and_si256(k1, c.clear2), _mm256_and_si256(scw, t1m));
  r.t0 = bit0_mask(_mm256_xor_si256(k0, _mm256_and_si256(t0m, tcw_keep)));
  r.t1 = bit0_mask(_mm256_xor_si256(k1, _mm256_and_si256(t1m, tcw_keep)));
  return r;
}

FSS_VAES256 inline void store_values(uint8_t* p, __m256i v, int vb) {  // low qwords of v as 2 values of vb bytes
  const __m128i q = gather2(v);
  switch (vb) {
    case 1: {  // bytes 0 and 8 of q
      const uint16_t w = static_cast<uint16_t>(_mm_cvtsi128_si32(_mm_shuffle_epi8(q, _mm_cvtsi32_si128(0x0800))));
      __builtin_memcpy(p, &w, 2);
      break;
    }
    case 2: {  // bytes 0-1 and 8-9 of q
      const uint32_t w = static_cast<uint32_t>(_mm_cvtsi128_si32(_mm_shuffle_epi8(q, _mm_cvtsi32_si128(0x09080100))));
      __builtin_memcpy(p, &w, 4);
      break;
    }
    case 4: _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_shuffle_epi32(q, _MM_SHUFFLE(3, 1, 2, 0))); break;
    default: _mm_storeu_si128(reinterpret_cast<__m128i*>(p), q); break;
  }
}

FSS_VAES256 inline void store_cw(uint8_t* p, __m256i cw) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), cw); }

// Both parties' seeds and control-bit lane masks of a group, and alpha (low qwords).
struct GenState {
  __m256i S0[NY], S1[NY], T0[NY], T1[NY], AL[NY];
  FSS_VAES256 GenState(const Block* s0, const Block* s1, const uint64_t* alpha) {
    for (int j = 0; j < NY; ++j) {
      S0[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s0 + 2 * j));
      S1[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s1 + 2 * j));
      AL[j] = spread2(_mm_loadu_si128(reinterpret_cast<const __m128i*>(alpha + 2 * j)));
      T0[j] = _mm256_setzero_si256();  // t0 = 0, t1 = 1 at the root
      T1[j] = _mm256_set1_epi64x(-1);
    }
  }
  FSS_VAES256 void store(const Ctx& c, Block* s0, Block* s1, uint64_t* t0, uint64_t* t1) const {
    for (int j = 0; j < NY; ++j) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(s0 + 2 * j), S0[j]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(s1 + 2 * j), S1[j]);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(t0 + 2 * j), gather2(_mm256_and_si256(T0[j], c.one_lo)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(t1 + 2 * j), gather2(_mm256_and_si256(T1[j], c.one_lo)));
    }
  }
};

// Runs a walk W over `levels` levels as two halves (4 keys each) in a software pipeline:
// W::expand(h) issues the AES of half h, W::finish(h, i) its level-i tree step. One half's
// tree step is issued between the other half's AES rounds, so the vector ALUs work while the
// AES units are busy (each half alone is bound by the AES latency).
template <class W>
FSS_VAES256 inline void run_pipelined(W& w, int levels) {
  for (int i = 0; i < levels; ++i) {
    w.expand(0);
    if (i > 0) w.finish(1, i - 1);
    w.expand(1);
    w.finish(0, i);
  }
  if (levels > 0) w.finish(1, levels - 1);
}

constexpr int H = NY / 2;  // key registers per half

// DPF Gen (and the tree of the one-bit DCF): both children of both parties' seeds per level.
struct DpfGenWalk {
  const Ctx& c;
  GenState& g;
  int bits;
  uint8_t *cw0, *cw1;
  size_t cw_stride;
  __m256i O[4 * NY];  // per key register: both parties' children o00, o01, o10, o11

  FSS_VAES256 DpfGenWalk(const Ctx& c_, GenState& g_, int bits_, uint8_t* cw0_, uint8_t* cw1_, size_t cw_stride_)
      : c(c_), g(g_), bits(bits_), cw0(cw0_), cw1(cw1_), cw_stride(cw_stride_) {}
  FSS_VAES256 void expand(int h) {
    __m256i y[4 * H];
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      y[4 * j + 0] = _mm256_xor_si256(g.S0[q], c.rk[0]);
      y[4 * j + 1] = _mm256_xor_si256(g.S0[q], c.first1);
      y[4 * j + 2] = _mm256_xor_si256(g.S1[q], c.rk[0]);
      y[4 * j + 3] = _mm256_xor_si256(g.S1[q], c.first1);
    }
    c.middle<4 * H>(y);
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      O[4 * q + 0] = _mm256_aesenclast_epi128(y[4 * j + 0], _mm256_xor_si256(c.rk[10], g.S0[q]));
      O[4 * q + 1] = _mm256_aesenclast_epi128(y[4 * j + 1], _mm256_xor_si256(c.last1, g.S0[q]));
      O[4 * q + 2] = _mm256_aesenclast_epi128(y[4 * j + 2], _mm256_xor_si256(c.rk[10], g.S1[q]));
      O[4 * q + 3] = _mm256_aesenclast_epi128(y[4 * j + 3], _mm256_xor_si256(c.last1, g.S1[q]));
    }
  }
  FSS_VAES256 void finish(int h, int i) {
    const __m128i sh = _mm_cvtsi32_si128(bits - 1 - i);
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      const __m256i a = _mm256_and_si256(_mm256_srl_epi64(g.AL[q], sh), c.one_lo), am = bit0_mask(a);
      const TreeStep st = tree_step(c, a, am, O[4 * q], O[4 * q + 1], O[4 * q + 2], O[4 * q + 3], &g.S0[q], &g.S1[q],
                                    g.T0[q], g.T1[q]);
      store_cw(cw0 + cw_stride * i + 32 * q, st.cw);
      store_cw(cw1 + cw_stride * i + 32 * q, st.cw);
      g.T0[q] = st.t0;
      g.T1[q] = st.t1;
    }
  }
};

// DCF (BCG) Gen: both children and the value block (tweak 2) of both parties' seeds per level.
struct DcfGenWalk {
  const Ctx& c;
  GenState& g;
  int bits;
  uint8_t *cw0, *cw1;
  size_t cw_stride;
  uint8_t *vcw0, *vcw1;
  size_t vcw_stride;
  int vb;
  __m256i mm;                      // 2^out_bits - 1 per qword
  __m256i BE[NY], VA[NY];          // beta and the running V_alpha (low qwords)
  __m256i O[6 * NY];               // per key register: o00, o01, v0 (party 0), o10, o11, v1 (party 1)

  FSS_VAES256 DcfGenWalk(const Ctx& c_, GenState& g_, int bits_, int out_bits, const uint64_t* beta, uint8_t* cw0_,
                         uint8_t* cw1_, size_t cw_stride_, uint8_t* vcw0_, uint8_t* vcw1_, size_t vcw_stride_,
                         int vb_)
      : c(c_), g(g_), bits(bits_), cw0(cw0_), cw1(cw1_), cw_stride(cw_stride_), vcw0(vcw0_), vcw1(vcw1_),
        vcw_stride(vcw_stride_), vb(vb_),
        mm(_mm256_set1_epi64x(out_bits >= 64 ? -1ll : static_cast<long long>((uint64_t(1) << out_bits) - 1))) {
    for (int j = 0; j < NY; ++j) {
      BE[j] = spread2(_mm_loadu_si128(reinterpret_cast<const __m128i*>(beta + 2 * j)));
      VA[j] = _mm256_setzero_si256();
    }
  }
  FSS_VAES256 void expand(int h) {
    __m256i y[6 * H];
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      y[6 * j + 0] = _mm256_xor_si256(g.S0[q], c.rk[0]);
      y[6 * j + 1] = _mm256_xor_si256(g.S0[q], c.first1);
      y[6 * j + 2] = _mm256_xor_si256(g.S0[q], c.first2);
      y[6 * j + 3] = _mm256_xor_si256(g.S1[q], c.rk[0]);
      y[6 * j + 4] = _mm256_xor_si256(g.S1[q], c.first1);
      y[6 * j + 5] = _mm256_xor_si256(g.S1[q], c.first2);
    }
    c.middle<6 * H>(y);
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      O[6 * q + 0] = _mm256_aesenclast_epi128(y[6 * j + 0], _mm256_xor_si256(c.rk[10], g.S0[q]));
      O[6 * q + 1] = _mm256_aesenclast_epi128(y[6 * j + 1], _mm256_xor_si256(c.last1, g.S0[q]));
      O[6 * q + 2] = _mm256_aesenclast_epi128(y[6 * j + 2], _mm256_xor_si256(c.last2, g.S0[q]));
      O[6 * q + 3] = _mm256_aesenclast_epi128(y[6 * j + 3], _mm256_xor_si256(c.rk[10], g.S1[q]));
      O[6 * q + 4] = _mm256_aesenclast_epi128(y[6 * j + 4], _mm256_xor_si256(c.last1, g.S1[q]));
      O[6 * q + 5] = _mm256_aesenclast_epi128(y[6 * j + 5], _mm256_xor_si256(c.last2, g.S1[q]));
    }
  }
  FSS_VAES256 void finish(int h, int i) {
    const __m128i sh = _mm_cvtsi32_si128(bits - 1 - i);
    for (int j = 0; j < H; ++j) {
      const int q = h * H + j;
      const __m256i a = _mm256_and_si256(_mm256_srl_epi64(g.AL[q], sh), c.one_lo), am = bit0_mask(a);
      // Values: lo qword = v_L, hi qword (moved down) = v_R; lose = a ? L : R.
      const __m256i v0 = O[6 * q + 2], v1 = O[6 * q + 5];
      const __m256i v0h = _mm256_unpackhi_epi64(v0, v0), v1h = _mm256_unpackhi_epi64(v1, v1);
      const __m256i v0_lose = sel(am, v0, v0h), v1_lose = sel(am, v1, v1h);
      const __m256i v0_keep = sel(am, v0h, v0), v1_keep = sel(am, v1h, v1);
      // sg = (-1)^t1: T1 is the lane mask of t1, so sg * x is cneg(x, T1).
      const __m256i T1 = g.T1[q];
      __m256i vcw = cneg(_mm256_sub_epi64(_mm256_sub_epi64(v1_lose, v0_lose), VA[q]), T1);
      vcw = _mm256_add_epi64(vcw, _mm256_and_si256(cneg(BE[q], T1), am));
      vcw = _mm256_and_si256(vcw, mm);
      VA[q] = _mm256_add_epi64(_mm256_sub_epi64(VA[q], v1_keep), _mm256_add_epi64(v0_keep, cneg(vcw, T1)));
      const TreeStep st = tree_step(c, a, am, O[6 * q], O[6 * q + 1], O[6 * q + 3], O[6 * q + 4], &g.S0[q], &g.S1[q],
                                    g.T0[q], T1);
      store_cw(cw0 + cw_stride * i + 32 * q, st.cw);
      store_cw(cw1 + cw_stride * i + 32 * q, st.cw);
      store_values(vcw0 + vcw_stride * i + 2 * vb * q, vcw, vb);
      store_values(vcw1 + vcw_stride * i + 2 * vb * q, vcw, vb);
      g.T0[q] = st.t0;
      g.T1[q] = st.t1;
    }
  }
};

}  // namespace

FSS_VAES256 void vaes256_dpf_gen_walk(const AesKey& k, int bits, int levels, const uint64_t* alpha, Block* s0,
                                      Block* s1, uint64_t* t0, uint64_t* t1, uint8_t* cw0, uint8_t* cw1,
                                      size_t cw_stride) {
  const Ctx c(k);
  GenState g(s0, s1, alpha);
  DpfGenWalk w(c, g, bits, cw0, cw1, cw_stride);
  run_pipelined(w, levels);
  g.store(c, s0, s1, t0, t1);
  wipe(g, w);  // both parties' seeds, control bits, alpha and the children (register spills are not covered)
}

FSS_VAES256 void vaes256_dcf_gen_walk(const AesKey& k, int bits, int levels, int out_bits, const uint64_t* alpha,
                                      const uint64_t* beta, Block* s0, Block* s1, uint64_t* t0, uint64_t* t1,
                                      uint64_t* va, uint8_t* cw0, uint8_t* cw1, size_t cw_stride, uint8_t* vcw0,
                                      uint8_t* vcw1, size_t vcw_stride, int vb) {
  const Ctx c(k);
  GenState g(s0, s1, alpha);
  DcfGenWalk w(c, g, bits, out_bits, beta, cw0, cw1, cw_stride, vcw0, vcw1, vcw_stride, vb);
  run_pipelined(w, levels);
  g.store(c, s0, s1, t0, t1);
  for (int j = 0; j < NY; ++j) _mm_storeu_si128(reinterpret_cast<__m128i*>(va + 2 * j), gather2(w.VA[j]));
  wipe(g, w);  // seeds, control bits, alpha, beta, V_alpha and the children (register spills are not covered)
}

}  // namespace detail
}  // namespace fss

#endif  // FSS_X86
