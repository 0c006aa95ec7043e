// Fixed-key AES-128 for the GPU kernels: the round with one T-table (T1..T3 are byte
// rotations of T0) and the MMO hash H(x, j) = AES_K(x ^ j) ^ (x ^ j) of docs/kernels.md s. 1.
//
// Every function here is __host__ __device__: the kernels call them with a lookup functor
// reading a shared-memory table, and the host emulation (emulate.cu, used by the tests
// without a GPU) calls the very same code with a host table. Lookups:
//   SmemT0: 32 copies of T0 interleaved so that copy l lives in bank l (word i*32 + l);
//           lane l reads only its copy, so a warp's 32 lookups never conflict (32 KB of
//           dynamic shared memory per block at offset 0, filled once per block by
//           fill_smem_t0; kernels use grid-stride loops).
//   HostT0: the plain table (host emulation).
// A lookup is T.at(word, shift) = T0[(word >> shift) & 0xff].
// Table lookups index by data, so this AES is not constant-time against an attacker who can
// time shared-memory accesses on the same GPU (the standard GPU trade-off; see cuda.h).
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

#define FSS_HD __host__ __device__ __forceinline__

namespace fss {
namespace cuda {
namespace dev {

// T0[x] as a little-endian word: bytes (2s, s, s, 3s) for s = S(x), i.e. the MixColumns
// column of input row 0; T_r = rotl(T0, 8r) for rows r = 1..3; S(x) = byte 1 of T0[x].
#define FSS_AES_T0_VALUES \
  0xa56363c6u, 0x847c7cf8u, 0x997777eeu, 0x8d7b7bf6u, 0x0df2f2ffu, 0xbd6b6bd6u, 0xb16f6fdeu, 0x54c5c591u, \
  0x50303060u, 0x03010102u, 0xa96767ceu, 0x7d2b2b56u, 0x19fefee7u, 0x62d7d7b5u, 0xe6abab4du, 0x9a7676ecu, \
  0x45caca8fu, 0x9d82821fu, 0x40c9c989u, 0x877d7dfau, 0x15fafaefu, 0xeb5959b2u, 0xc947478eu, 0x0bf0f0fbu, \
  0xecadad41u, 0x67d4d4b3u, 0xfda2a25fu, 0xeaafaf45u, 0xbf9c9c23u, 0xf7a4a453u, 0x967272e4u, 0x5bc0c09bu, \
  0xc2b7b775u, 0x1cfdfde1u, 0xae93933du, 0x6a26264cu, 0x5a36366cu, 0x413f3f7eu, 0x02f7f7f5u, 0x4fcccc83u, \
  0x5c343468u, 0xf4a5a551u, 0x34e5e5d1u, 0x08f1f1f9u, 0x937171e2u, 0x73d8d8abu, 0x53313162u, 0x3f15152au, \
  0x0c040408u, 0x52c7c795u, 0x65232346u, 0x5ec3c39du, 0x28181830u, 0xa1969637u, 0x0f05050au, 0xb59a9a2fu, \
  0x0907070eu, 0x36121224u, 0x9b80801bu, 0x3de2e2dfu, 0x26ebebcdu, 0x6927274eu, 0xcdb2b27fu, 0x9f7575eau, \
  0x1b090912u, 0x9e83831du, 0x742c2c58u, 0x2e1a1a34u, 0x2d1b1b36u, 0xb26e6edcu, 0xee5a5ab4u, 0xfba0a05bu, \
  0xf65252a4u, 0x4d3b3b76u, 0x61d6d6b7u, 0xceb3b37du, 0x7b292952u, 0x3ee3e3ddu, 0x712f2f5eu, 0x97848413u, \
  0xf55353a6u, 0x68d1d1b9u, 0x00000000u, 0x2cededc1u, 0x60202040u, 0x1ffcfce3u, 0xc8b1b179u, 0xed5b5bb6u, \
  0xbe6a6ad4u, 0x46cbcb8du, 0xd9bebe67u, 0x4b393972u, 0xde4a4a94u, 0xd44c4c98u, 0xe85858b0u, 0x4acfcf85u, \
  0x6bd0d0bbu, 0x2aefefc5u, 0xe5aaaa4fu, 0x16fbfbedu, 0xc5434386u, 0xd74d4d9au, 0x55333366u, 0x94858511u, \
  0xcf45458au, 0x10f9f9e9u, 0x06020204u, 0x817f7ffeu, 0xf05050a0u, 0x443c3c78u, 0xba9f9f25u, 0xe3a8a84bu, \
  0xf35151a2u, 0xfea3a35du, 0xc0404080u, 0x8a8f8f05u, 0xad92923fu, 0xbc9d9d21u, 0x48383870u, 0x04f5f5f1u, \
  0xdfbcbc63u, 0xc1b6b677u, 0x75dadaafu, 0x63212142u, 0x30101020u, 0x1affffe5u, 0x0ef3f3fdu, 0x6dd2d2bfu, \
  0x4ccdcd81u, 0x140c0c18u, 0x35131326u, 0x2fececc3u, 0xe15f5fbeu, 0xa2979735u, 0xcc444488u, 0x3917172eu, \
  0x57c4c493u, 0xf2a7a755u, 0x827e7efcu, 0x473d3d7au, 0xac6464c8u, 0xe75d5dbau, 0x2b191932u, 0x957373e6u, \
  0xa06060c0u, 0x98818119u, 0xd14f4f9eu, 0x7fdcdca3u, 0x66222244u, 0x7e2a2a54u, 0xab90903bu, 0x8388880bu, \
  0xca46468cu, 0x29eeeec7u, 0xd3b8b86bu, 0x3c141428u, 0x79dedea7u, 0xe25e5ebcu, 0x1d0b0b16u, 0x76dbdbadu, \
  0x3be0e0dbu, 0x56323264u, 0x4e3a3a74u, 0x1e0a0a14u, 0xdb494992u, 0x0a06060cu, 0x6c242448u, 0xe45c5cb8u, \
  0x5dc2c29fu, 0x6ed3d3bdu, 0xefacac43u, 0xa66262c4u, 0xa8919139u, 0xa4959531u, 0x37e4e4d3u, 0x8b7979f2u, \
  0x32e7e7d5u, 0x43c8c88bu, 0x5937376eu, 0xb76d6ddau, 0x8c8d8d01u, 0x64d5d5b1u, 0xd24e4e9cu, 0xe0a9a949u, \
  0xb46c6cd8u, 0xfa5656acu, 0x07f4f4f3u, 0x25eaeacfu, 0xaf6565cau, 0x8e7a7af4u, 0xe9aeae47u, 0x18080810u, \
  0xd5baba6fu, 0x887878f0u, 0x6f25254au, 0x722e2e5cu, 0x241c1c38u, 0xf1a6a657u, 0xc7b4b473u, 0x51c6c697u, \
  0x23e8e8cbu, 0x7cdddda1u, 0x9c7474e8u, 0x211f1f3eu, 0xdd4b4b96u, 0xdcbdbd61u, 0x868b8b0du, 0x858a8a0fu, \
  0x907070e0u, 0x423e3e7cu, 0xc4b5b571u, 0xaa6666ccu, 0xd8484890u, 0x05030306u, 0x01f6f6f7u, 0x120e0e1cu, \
  0xa36161c2u, 0x5f35356au, 0xf95757aeu, 0xd0b9b969u, 0x91868617u, 0x58c1c199u, 0x271d1d3au, 0xb99e9e27u, \
  0x38e1e1d9u, 0x13f8f8ebu, 0xb398982bu, 0x33111122u, 0xbb6969d2u, 0x70d9d9a9u, 0x898e8e07u, 0xa7949433u, \
  0xb69b9b2du, 0x221e1e3cu, 0x92878715u, 0x20e9e9c9u, 0x49cece87u, 0xff5555aau, 0x78282850u, 0x7adfdfa5u, \
  0x8f8c8c03u, 0xf8a1a159u, 0x80898909u, 0x170d0d1au, 0xdabfbf65u, 0x31e6e6d7u, 0xc6424284u, 0xb86868d0u, \
  0xc3414182u, 0xb0999929u, 0x772d2d5au, 0x110f0f1eu, 0xcbb0b07bu, 0xfc5454a8u, 0xd6bbbb6du, 0x3a16162cu, \

#define FSS_AES_FIXED_RK_VALUES \
  0x03020100u, 0x07060504u, 0x0b0a0908u, 0x0f0e0d0cu, 0xfd74aad6u, 0xfa72afd2u, 0xf178a6dau, 0xfe76abd6u, \
  0x0bcf92b6u, 0xf1bd3d64u, 0x00c59bbeu, 0xfeb33068u, 0x4e74ffb6u, 0xbfc9c2d2u, 0xbf0c596cu, 0x41bf6904u, \
  0xbcf7f747u, 0x033e3595u, 0xbc326cf9u, 0xfd8d05fdu, 0xe8a3aa3cu, 0xeb9d9fa9u, 0x57aff350u, 0xaa22f6adu, \
  0x7d0f395eu, 0x9692a6f7u, 0xc13d55a7u, 0x6b1fa30au, 0x1a70f914u, 0x8ce25fe3u, 0x4ddf0a44u, 0x26c0a94eu, \
  0x35874347u, 0xb9651ca4u, 0xf4ba16e0u, 0xd27abfaeu, 0xd1329954u, 0x685785f0u, 0x9ced9310u, 0x4e972cbeu, \
  0x7f1d1113u, 0x174a94e3u, 0x8ba707f3u, 0xc5302b4du, \


constexpr uint32_t kT0Host[256] = {FSS_AES_T0_VALUES};
// Round keys of the fixed key K = 00 01 .. 0f (FIPS-197 appendix C.1), little-endian words.
constexpr uint32_t kFixedRkHost[44] = {FSS_AES_FIXED_RK_VALUES};

// Device copies. Internal linkage: the library is built without relocatable device code, so
// every translation unit that launches kernels carries its own copy (1.2 KB).
static __device__ const uint32_t g_t0[256] = {FSS_AES_T0_VALUES};
static __constant__ const uint32_t c_fixed_rk[44] = {FSS_AES_FIXED_RK_VALUES};

constexpr int kT0Copies = 32;
constexpr size_t kSmemT0Bytes = 256 * kT0Copies * sizeof(uint32_t);  // 32 KB

// ------------------------------------------------------------------ 128-bit blocks
// A block is a uint4: x, y, z, w = little-endian words 0..3 (bytes 0..15); lo64 = x | y << 32.
FSS_HD uint64_t lo64(const uint4& b) { return uint64_t(b.x) | (uint64_t(b.y) << 32); }
FSS_HD uint64_t hi64(const uint4& b) { return uint64_t(b.z) | (uint64_t(b.w) << 32); }
FSS_HD uint4 make_block(uint64_t lo, uint64_t hi) {
  return make_uint4(uint32_t(lo), uint32_t(lo >> 32), uint32_t(hi), uint32_t(hi >> 32));
}
FSS_HD uint4 xor4(const uint4& a, const uint4& b) { return make_uint4(a.x ^ b.x, a.y ^ b.y, a.z ^ b.z, a.w ^ b.w); }
FSS_HD uint4 and4(const uint4& a, uint32_t m) { return make_uint4(a.x & m, a.y & m, a.z & m, a.w & m); }
FSS_HD uint4 tweak(const uint4& a, uint32_t j) { return make_uint4(a.x ^ j, a.y, a.z, a.w); }
FSS_HD uint4 clear_low2(const uint4& a) { return make_uint4(a.x & ~3u, a.y, a.z, a.w); }

FSS_HD uint32_t rotl32(uint32_t v, int s) {
#ifdef __CUDA_ARCH__
  return __funnelshift_l(v, v, s);
#else
  return (v << s) | (v >> (32 - s));
#endif
}

// ------------------------------------------------------------------ lookups and keys
#ifdef __CUDACC__
// The dynamic shared memory of every FSS kernel: the T-table first (32 KB), then whatever
// the kernel stages after it.
extern __shared__ __align__(16) uint32_t fss_smem[];
#endif

struct SmemT0 {
  uint32_t lane4;  // 4 * lane: this lane's copy (bank) inside each 128-byte table row
  // T0[byte s/8 of x]: byte offset ((x >> s) & 0xff) * 128 + 4 * lane, built with one shift
  // and one AND-OR (s is a compile-time constant after unrolling).
  __device__ __forceinline__ uint32_t at(uint32_t x, int s) const {
#ifdef __CUDA_ARCH__
    const uint32_t off = ((s >= 7 ? (x >> (s - 7)) : (x << (7 - s))) & 0x7f80u) | lane4;
    return *reinterpret_cast<const uint32_t*>(reinterpret_cast<const char*>(fss_smem) + off);
#else
    (void)x; (void)s;
    return 0;
#endif
  }
};
struct HostT0 {
  FSS_HD uint32_t at(uint32_t x, int s) const {
#ifdef __CUDA_ARCH__
    return g_t0[(x >> s) & 0xff];
#else
    return kT0Host[(x >> s) & 0xff];
#endif
  }
};

// The fixed key: constant-bank operands on the device (indices are compile-time after unrolling).
struct FixedKey {
  FSS_HD uint32_t operator[](int i) const {
#ifdef __CUDA_ARCH__
    return c_fixed_rk[i];
#else
    return kFixedRkHost[i];
#endif
  }
};
// A per-call key (the key-generation master key R), passed by value in kernel parameters.
struct RoundKeys {
  uint32_t w[44];
  FSS_HD uint32_t operator[](int i) const { return w[i]; }
};

#ifdef __CUDACC__
// Fills the block's shared table (all threads; ends with __syncthreads) and returns this
// thread's lookup functor. Word i * 32 + l of the table is copy l of T0[i].
__device__ __forceinline__ SmemT0 fill_smem_t0() {
  for (uint32_t i = threadIdx.x; i < 256u * kT0Copies; i += blockDim.x) fss_smem[i] = g_t0[i / kT0Copies];
  __syncthreads();
  return SmemT0{(threadIdx.x & 31u) * 4u};
}
#endif

// ------------------------------------------------------------------ AES-128
// out = AES_rk(in). Column c of the state is word c (bytes 4c..4c+3, row r = byte r).
template <class Key, class Tab>
FSS_HD uint4 aes128(const uint4& in, const Key& rk, const Tab& T) {
  uint32_t s0 = in.x ^ rk[0], s1 = in.y ^ rk[1], s2 = in.z ^ rk[2], s3 = in.w ^ rk[3];
#pragma unroll
  for (int r = 1; r < 10; ++r) {
    // Output column c takes row r from input column c + r (ShiftRows), through T_r.
    const uint32_t t0 = T.at(s0, 0) ^ rotl32(T.at(s1, 8), 8) ^ rotl32(T.at(s2, 16), 16) ^ rotl32(T.at(s3, 24), 24) ^
                        rk[4 * r + 0];
    const uint32_t t1 = T.at(s1, 0) ^ rotl32(T.at(s2, 8), 8) ^ rotl32(T.at(s3, 16), 16) ^ rotl32(T.at(s0, 24), 24) ^
                        rk[4 * r + 1];
    const uint32_t t2 = T.at(s2, 0) ^ rotl32(T.at(s3, 8), 8) ^ rotl32(T.at(s0, 16), 16) ^ rotl32(T.at(s1, 24), 24) ^
                        rk[4 * r + 2];
    const uint32_t t3 = T.at(s3, 0) ^ rotl32(T.at(s0, 8), 8) ^ rotl32(T.at(s1, 16), 16) ^ rotl32(T.at(s2, 24), 24) ^
                        rk[4 * r + 3];
    s0 = t0; s1 = t1; s2 = t2; s3 = t3;
  }
  // Last round: SubBytes + ShiftRows, S(x) = byte 1 of T0[x].
  const uint32_t u0 = ((T.at(s0, 0) >> 8) & 0xffu) | (T.at(s1, 8) & 0xff00u) | ((T.at(s2, 16) << 8) & 0xff0000u) |
                      ((T.at(s3, 24) << 16) & 0xff000000u);
  const uint32_t u1 = ((T.at(s1, 0) >> 8) & 0xffu) | (T.at(s2, 8) & 0xff00u) | ((T.at(s3, 16) << 8) & 0xff0000u) |
                      ((T.at(s0, 24) << 16) & 0xff000000u);
  const uint32_t u2 = ((T.at(s2, 0) >> 8) & 0xffu) | (T.at(s3, 8) & 0xff00u) | ((T.at(s0, 16) << 8) & 0xff0000u) |
                      ((T.at(s1, 24) << 16) & 0xff000000u);
  const uint32_t u3 = ((T.at(s3, 0) >> 8) & 0xffu) | (T.at(s0, 8) & 0xff00u) | ((T.at(s1, 16) << 8) & 0xff0000u) |
                      ((T.at(s2, 24) << 16) & 0xff000000u);
  return make_uint4(u0 ^ rk[40], u1 ^ rk[41], u2 ^ rk[42], u3 ^ rk[43]);
}

// H(x, j) = AES_K(x ^ j) ^ (x ^ j) (fixed key K).
template <class Tab>
FSS_HD uint4 mmo(const uint4& x, uint32_t j, const Tab& T) {
  const uint4 in = tweak(x, j);
  return xor4(aes128(in, FixedKey{}, T), in);
}

}  // namespace dev
}  // namespace cuda
}  // namespace fss
