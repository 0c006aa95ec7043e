// Key-batch tile addressing for the GPU kernels (docs/kernels.md section 5), the device twin
// of fss::key_tile: tiles of 32 keys, each a level-major structure of arrays, so the 32
// threads of a warp (keys 32t .. 32t+31) read one level as one contiguous stretch.
#pragma once
#include <cstdint>
#include <cstring>

#include "aes_device.cuh"

namespace fss {
namespace cuda {
namespace dev {

// Shape of a batch body (from fss::key_layout and the header count).
struct KeyGeom {
  uint64_t count;          // N
  uint64_t bytes_per_key;  // S
  int levels;              // L: CWs per key
  int vb;                  // value bytes of DCF value CWs (0 for DPF / one-bit DCF)
};

// Where key k's data lives (cw, vcw: level 0; add level * stride).
struct KeyPtrs {
  uint8_t* roots;
  uint8_t* cw;
  uint8_t* vcw;
  uint8_t* fcw;
  uint64_t cw_stride;
  uint64_t vcw_stride;
};

FSS_HD KeyPtrs key_ptrs(const uint8_t* body_c, const KeyGeom& g, uint64_t k) {
  uint8_t* body = const_cast<uint8_t*>(body_c);
  const uint64_t t = k >> 5, j = k & 31;
  const uint64_t rest = g.count - (t << 5);
  const uint64_t nt = rest < 32 ? rest : 32;
  uint8_t* tile = body + t * 32 * g.bytes_per_key;
  const uint64_t L = static_cast<uint64_t>(g.levels), vb = static_cast<uint64_t>(g.vb);
  KeyPtrs p;
  p.roots = tile + 16 * j;
  p.cw = tile + nt * 16 + 16 * j;
  p.cw_stride = nt * 16;
  uint8_t* after_cw = tile + nt * 16 * (L + 1);
  if (vb) {
    p.vcw = after_cw + vb * j;
    p.vcw_stride = nt * vb;
    p.fcw = after_cw + nt * vb * L + vb * j;
  } else {
    p.vcw = nullptr;
    p.vcw_stride = 0;
    p.fcw = after_cw + 16 * j;
  }
  return p;
}

// ------------------------------------------------------------------ loads and stores
// 16-byte loads of read-only key data (LDG.128 through the non-coherent cache).
FSS_HD uint4 ld16(const uint8_t* p) {
#ifdef __CUDA_ARCH__
  return __ldg(reinterpret_cast<const uint4*>(p));
#else
  uint4 v;
  std::memcpy(&v, p, 16);
  return v;
#endif
}
FSS_HD void st16(uint8_t* p, const uint4& v) {
#ifdef __CUDA_ARCH__
  *reinterpret_cast<uint4*>(p) = v;
#else
  std::memcpy(p, &v, 16);
#endif
}
FSS_HD uint64_t ld_u64(const uint64_t* p) {
#ifdef __CUDA_ARCH__
  return __ldg(reinterpret_cast<const unsigned long long*>(p));
#else
  return *p;
#endif
}

// A value CW of vb = 1, 2, 4 or 8 bytes (little-endian; naturally aligned in the format).
FSS_HD uint64_t ld_value(const uint8_t* p, int vb) {
#ifdef __CUDA_ARCH__
  switch (vb) {
    case 1: return __ldg(p);
    case 2: return __ldg(reinterpret_cast<const unsigned short*>(p));
    case 4: return __ldg(reinterpret_cast<const unsigned int*>(p));
    default: return __ldg(reinterpret_cast<const unsigned long long*>(p));
  }
#else
  uint64_t v = 0;
  std::memcpy(&v, p, static_cast<size_t>(vb));
  return v;
#endif
}
FSS_HD void st_value(uint8_t* p, int vb, uint64_t v) {
#ifdef __CUDA_ARCH__
  switch (vb) {
    case 1: *p = static_cast<uint8_t>(v); break;
    case 2: *reinterpret_cast<uint16_t*>(p) = static_cast<uint16_t>(v); break;
    case 4: *reinterpret_cast<uint32_t*>(p) = static_cast<uint32_t>(v); break;
    default: *reinterpret_cast<uint64_t*>(p) = v; break;
  }
#else
  std::memcpy(p, &v, static_cast<size_t>(vb));
#endif
}

// ------------------------------------------------------------------ checksum (section 5)
// fsk_checksum: 32 lanes, word i (LE uint64, zero-padded) into lane i mod 32, then a fold of
// the lanes into the length and an avalanche. The header checksum is fsk_checksum of
// header[0:24] || the tile digests fsk_checksum(tile bytes). checksum.cu computes it with
// one warp per tile (lane l = checksum lane l) and the fold through warp shuffles.
constexpr int kChecksumLanes = 32;

FSS_HD uint64_t rotl64(uint64_t v, int s) { return (v << s) | (v >> (64 - s)); }
FSS_HD uint64_t cs_init(int lane) { return 0x243F6A8885A308D3ull + static_cast<uint64_t>(lane); }
FSS_HD uint64_t cs_word(uint64_t h, uint64_t w) { return rotl64((h ^ w) * 0x9E3779B97F4A7C15ull, 31); }
FSS_HD uint64_t cs_fold(uint64_t v, uint64_t lane_h) { return rotl64((v ^ lane_h) * 0xBF58476D1CE4E5B9ull, 27); }
FSS_HD uint64_t cs_final(uint64_t v) {
  v = (v ^ (v >> 29)) * 0x94D049BB133111EBull;
  return v ^ (v >> 32);
}

// Word i of the `len` bytes at p (8-byte aligned), zero-padded past the end.
struct ByteWords {
  const uint8_t* p;
  uint64_t len;
  FSS_HD uint64_t operator()(uint64_t i) const {
    if (8 * i + 8 <= len) {
#ifdef __CUDA_ARCH__
      return *reinterpret_cast<const uint64_t*>(p + 8 * i);
#else
      uint64_t w;
      std::memcpy(&w, p + 8 * i, 8);
      return w;
#endif
    }
    uint64_t w = 0;
    for (uint64_t b = 0; 8 * i + b < len; ++b) w |= static_cast<uint64_t>(p[8 * i + b]) << (8 * b);
    return w;
  }
};
FSS_HD uint64_t n_words(uint64_t len) { return (len + 7) / 8; }

// The words of header[0:24] || digests[0..ntiles) (the input of the header checksum).
struct HeaderWords {
  const uint8_t* header;
  const uint64_t* digests;
  FSS_HD uint64_t operator()(uint64_t i) const {
    return i < 3 ? ByteWords{header, 24}(i) : digests[i - 3];
  }
};

// Checksum lane `lane` after all its words.
template <class Words>
FSS_HD uint64_t cs_lane(const Words& words, uint64_t nwords, int lane) {
  uint64_t h = cs_init(lane);
  for (uint64_t i = static_cast<uint64_t>(lane); i < nwords; i += kChecksumLanes) h = cs_word(h, words(i));
  return h;
}

// Host (emulation) form: all 32 lanes one after another, then the fold.
template <class Words>
uint64_t cs_host(const Words& words, uint64_t len) {
  uint64_t v = len;
  for (int l = 0; l < kChecksumLanes; ++l) v = cs_fold(v, cs_lane(words, n_words(len), l));
  return cs_final(v);
}

// Tile t of a body: start and length in bytes.
FSS_HD const uint8_t* tile_start(const uint8_t* body, const KeyGeom& g, uint64_t t) {
  return body + t * 32 * g.bytes_per_key;
}
FSS_HD uint64_t tile_bytes(const KeyGeom& g, uint64_t t) {
  const uint64_t rest = g.count - 32 * t;
  return (rest < 32 ? rest : 32) * g.bytes_per_key;
}

// Records the smallest bad index (alpha / x out of range) in *err (initialized to ~0).
FSS_HD void report_bad_index(unsigned long long* err, uint64_t k) {
  if (!err) return;
#ifdef __CUDA_ARCH__
  atomicMin(err, static_cast<unsigned long long>(k));
#else
  if (k < *err) *err = k;
#endif
}

}  // namespace dev
}  // namespace cuda
}  // namespace fss
