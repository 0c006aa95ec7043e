// Key generation walks fused with VAES-512 (both parties' seeds of a group of keys in zmm
// registers). Constant time in alpha and beta: every secret-dependent choice is a bitwise
// select. Bit-identical to dpf_gen_tree / dcf_gen_bcg (docs/kernels.md sections 2-3).
#include <immintrin.h>

#include "walk_internal.h"

namespace fss {
namespace detail {
namespace {

constexpr int NZ = kGenWalkKeys / 4;

inline __m512i sel(__m512i m, __m512i if_set, __m512i if_clear) {
  return _mm512_ternarylogic_epi64(m, if_set, if_clear, 0xCA);  // m ? if_set : if_clear, bitwise
}
inline __m512i lane_mask(__m512i bit) {  // low-qword 0/1 -> whole 128-bit lane of ones/zeros
  const __m512i m = _mm512_sub_epi64(_mm512_setzero_si512(), bit);
  return _mm512_unpacklo_epi64(m, m);
}

struct Ctx {
  __m512i rk[11];
  __m512i one_lo = _mm512_set_epi64(0, 1, 0, 1, 0, 1, 0, 1);
  __m512i clear2 = _mm512_set_epi64(-1, ~3ll, -1, ~3ll, -1, ~3ll, -1, ~3ll);
  explicit Ctx(const AesKey& k) {
    for (int r = 0; r < 11; ++r) rk[r] = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(k.rk[r])));
  }
  template <int M>
  void mmo(const __m512i* in, __m512i* out) const {
    __m512i y[M];
    for (int j = 0; j < M; ++j) y[j] = _mm512_xor_si512(in[j], rk[0]);
    for (int r = 1; r < 10; ++r)
      for (int j = 0; j < M; ++j) y[j] = _mm512_aesenc_epi128(y[j], rk[r]);
    for (int j = 0; j < M; ++j) out[j] = _mm512_xor_si512(_mm512_aesenclast_epi128(y[j], rk[10]), in[j]);
  }
};

// One level of the shared DPF/DCF tree step for one register of 4 keys.
struct TreeStep {
  __m512i cw, t0, t1;  // CW block; new control-bit lane masks
};
inline TreeStep tree_step(const Ctx& c, __m512i a, __m512i am, __m512i o00, __m512i o01, __m512i o10, __m512i o11,
                          __m512i* s0, __m512i* s1, __m512i t0m, __m512i t1m) {
  const __m512i scw = _mm512_and_si512(_mm512_xor_si512(sel(am, o00, o01), sel(am, o10, o11)), c.clear2);
  const __m512i tcw0 = _mm512_and_si512(_mm512_xor_si512(_mm512_xor_si512(o00, o10), _mm512_xor_si512(a, c.one_lo)), c.one_lo);
  const __m512i tcw1 = _mm512_and_si512(_mm512_xor_si512(_mm512_xor_si512(o01, o11), a), c.one_lo);
  TreeStep r;
  r.cw = _mm512_or_si512(scw, _mm512_or_si512(tcw0, _mm512_slli_epi64(tcw1, 1)));
  const __m512i tcw_keep = sel(am, tcw1, tcw0);
  const __m512i k0 = sel(am, o01, o00), k1 = sel(am, o11, o10);
  *s0 = _mm512_xor_si512(_mm512_and_si512(k0, c.clear2), _mm512_and_si512(scw, t0m));
  *s1 = _mm512_xor_si512(_mm512_and_si512(k1, c.clear2), _mm512_and_si512(scw, t1m));
  r.t0 = lane_mask(_mm512_and_si512(_mm512_xor_si512(k0, _mm512_and_si512(t0m, tcw_keep)), c.one_lo));
  r.t1 = lane_mask(_mm512_and_si512(_mm512_xor_si512(k1, _mm512_and_si512(t1m, tcw_keep)), c.one_lo));
  return r;
}

inline void store_values(uint8_t* p, __m512i v, int vb) {  // low qwords of v as 4 values of vb bytes
  const __m256i q = _mm512_castsi512_si256(_mm512_maskz_compress_epi64(0x55, v));
  switch (vb) {
    case 1: { const int32_t w = _mm_cvtsi128_si32(_mm256_cvtepi64_epi8(q)); __builtin_memcpy(p, &w, 4); break; }
    case 2: _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm256_cvtepi64_epi16(q)); break;
    case 4: _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtepi64_epi32(q)); break;
    default: _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), q); break;
  }
}

inline void store_bits(uint64_t* out, __m512i lane_masks, const Ctx& c) {
  _mm512_mask_compressstoreu_epi64(out, 0x55, _mm512_and_si512(lane_masks, c.one_lo));
}

// Both parties' seeds and control-bit lane masks of a group, and alpha (low qwords).
struct GenState {
  __m512i S0[NZ], S1[NZ], T0[NZ], T1[NZ], AL[NZ];
  GenState(const Block* s0, const Block* s1, const uint64_t* alpha) {
    for (int j = 0; j < NZ; ++j) {
      S0[j] = _mm512_loadu_si512(s0 + 4 * j);
      S1[j] = _mm512_loadu_si512(s1 + 4 * j);
      AL[j] = _mm512_maskz_expandloadu_epi64(0x55, alpha + 4 * j);
      T0[j] = _mm512_setzero_si512();  // t0 = 0, t1 = 1 at the root
      T1[j] = _mm512_set1_epi64(-1);
    }
  }
  void store(const Ctx& c, Block* s0, Block* s1, uint64_t* t0, uint64_t* t1) const {
    for (int j = 0; j < NZ; ++j) {
      _mm512_storeu_si512(s0 + 4 * j, S0[j]);
      _mm512_storeu_si512(s1 + 4 * j, S1[j]);
      store_bits(t0 + 4 * j, T0[j], c);
      store_bits(t1 + 4 * j, T1[j], c);
    }
  }
};

}  // namespace

void vaes_dpf_gen_walk(const AesKey& k, int bits, int levels, const uint64_t* alpha, Block* s0, Block* s1,
                       uint64_t* t0, uint64_t* t1, uint8_t* cw0, uint8_t* cw1, size_t cw_stride) {
  const Ctx c(k);
  GenState g(s0, s1, alpha);
  __m512i (&S0)[NZ] = g.S0, (&S1)[NZ] = g.S1, (&T0)[NZ] = g.T0, (&T1)[NZ] = g.T1, (&AL)[NZ] = g.AL;
  __m512i IN[4 * NZ], O[4 * NZ];
  for (int i = 0; i < levels; ++i) {
    const __m128i sh = _mm_cvtsi32_si128(bits - 1 - i);
    for (int j = 0; j < NZ; ++j) {
      IN[4 * j + 0] = S0[j];
      IN[4 * j + 1] = _mm512_xor_si512(S0[j], c.one_lo);
      IN[4 * j + 2] = S1[j];
      IN[4 * j + 3] = _mm512_xor_si512(S1[j], c.one_lo);
    }
    c.mmo<4 * NZ>(IN, O);
    for (int j = 0; j < NZ; ++j) {
      const __m512i a = _mm512_and_si512(_mm512_srl_epi64(AL[j], sh), c.one_lo), am = lane_mask(a);
      const TreeStep st = tree_step(c, a, am, O[4 * j], O[4 * j + 1], O[4 * j + 2], O[4 * j + 3], &S0[j], &S1[j], T0[j], T1[j]);
      _mm512_storeu_si512(cw0 + cw_stride * i + 64 * j, st.cw);
      _mm512_storeu_si512(cw1 + cw_stride * i + 64 * j, st.cw);
      T0[j] = st.t0;
      T1[j] = st.t1;
    }
  }
  g.store(c, s0, s1, t0, t1);
}

void vaes_dcf_gen_walk(const AesKey& k, int bits, int levels, int out_bits, const uint64_t* alpha,
                       const uint64_t* beta, Block* s0, Block* s1, uint64_t* t0, uint64_t* t1, uint64_t* va,
                       uint8_t* cw0, uint8_t* cw1, size_t cw_stride, uint8_t* vcw0, uint8_t* vcw1,
                       size_t vcw_stride, int vb) {
  const Ctx c(k);
  const __m512i mm = _mm512_set1_epi64(out_bits >= 64 ? -1ll : static_cast<long long>((uint64_t(1) << out_bits) - 1));
  const __m512i two = _mm512_set1_epi64(2);
  GenState g(s0, s1, alpha);
  __m512i (&S0)[NZ] = g.S0, (&S1)[NZ] = g.S1, (&T0)[NZ] = g.T0, (&T1)[NZ] = g.T1, (&AL)[NZ] = g.AL;
  __m512i BE[NZ], VA[NZ], IN[6 * NZ], O[6 * NZ];
  for (int j = 0; j < NZ; ++j) {
    BE[j] = _mm512_maskz_expandloadu_epi64(0x55, beta + 4 * j);
    VA[j] = _mm512_setzero_si512();
  }
  const __m512i two_lo = _mm512_slli_epi64(c.one_lo, 1);
  for (int i = 0; i < levels; ++i) {
    const __m128i sh = _mm_cvtsi32_si128(bits - 1 - i);
    for (int j = 0; j < NZ; ++j) {
      IN[6 * j + 0] = S0[j];
      IN[6 * j + 1] = _mm512_xor_si512(S0[j], c.one_lo);
      IN[6 * j + 2] = _mm512_xor_si512(S0[j], two_lo);
      IN[6 * j + 3] = S1[j];
      IN[6 * j + 4] = _mm512_xor_si512(S1[j], c.one_lo);
      IN[6 * j + 5] = _mm512_xor_si512(S1[j], two_lo);
    }
    c.mmo<6 * NZ>(IN, O);
    for (int j = 0; j < NZ; ++j) {
      const __m512i a = _mm512_and_si512(_mm512_srl_epi64(AL[j], sh), c.one_lo), am = lane_mask(a);
      // Values: lo qword = v_L, hi qword (moved down) = v_R; lose = a ? L : R.
      const __m512i v0 = O[6 * j + 2], v1 = O[6 * j + 5];
      const __m512i v0h = _mm512_unpackhi_epi64(v0, v0), v1h = _mm512_unpackhi_epi64(v1, v1);
      const __m512i v0_lose = sel(am, v0, v0h), v1_lose = sel(am, v1, v1h);
      const __m512i v0_keep = sel(am, v0h, v0), v1_keep = sel(am, v1h, v1);
      const __m512i sg = _mm512_sub_epi64(c.one_lo, _mm512_mullo_epi64(two, _mm512_and_si512(T1[j], c.one_lo)));
      __m512i vcw = _mm512_mullo_epi64(sg, _mm512_sub_epi64(_mm512_sub_epi64(v1_lose, v0_lose), VA[j]));
      vcw = _mm512_add_epi64(vcw, _mm512_and_si512(_mm512_mullo_epi64(sg, BE[j]), am));
      vcw = _mm512_and_si512(vcw, mm);
      VA[j] = _mm512_add_epi64(_mm512_sub_epi64(VA[j], v1_keep), _mm512_add_epi64(v0_keep, _mm512_mullo_epi64(sg, vcw)));
      const TreeStep st = tree_step(c, a, am, O[6 * j], O[6 * j + 1], O[6 * j + 3], O[6 * j + 4], &S0[j], &S1[j], T0[j], T1[j]);
      _mm512_storeu_si512(cw0 + cw_stride * i + 64 * j, st.cw);
      _mm512_storeu_si512(cw1 + cw_stride * i + 64 * j, st.cw);
      store_values(vcw0 + vcw_stride * i + 4 * vb * j, vcw, vb);
      store_values(vcw1 + vcw_stride * i + 4 * vb * j, vcw, vb);
      T0[j] = st.t0;
      T1[j] = st.t1;
    }
  }
  g.store(c, s0, s1, t0, t1);
  for (int j = 0; j < NZ; ++j) _mm512_mask_compressstoreu_epi64(va + 4 * j, 0x55, VA[j]);
}

}  // namespace detail
}  // namespace fss
