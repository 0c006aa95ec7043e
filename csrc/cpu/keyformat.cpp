// The key-batch byte format: layout, header, checksum, validation (docs/kernels.md s. 5).
#include <algorithm>
#include <cstring>
#include <vector>
#include <string>

#include "fsskernels/errors.h"
#include "fsskernels/fss.h"
#include "fsskernels/keyformat.h"
#include "fsskernels/limits.h"
#include "aes_internal.h"
#include "checksum_internal.h"

namespace fss {
namespace detail {

void checksum_lanes_portable(uint64_t* h, const uint8_t* p, size_t blocks) {
  for (size_t b = 0; b < blocks; ++b)
    for (int l = 0; l < kChecksumLanes; ++l) {
      uint64_t w;
      std::memcpy(&w, p + 8 * (kChecksumLanes * b + l), 8);
      h[l] = ((h[l] ^ w) * 0x9E3779B97F4A7C15ull << 31) | ((h[l] ^ w) * 0x9E3779B97F4A7C15ull >> 33);
    }
}

}  // namespace detail

namespace {

using detail::kChecksumLanes;

// AVX-512 where the CPU has it; AVX2 otherwise unless the AES path was forced to portable
// (so the every-AES-path tests, which compare key bytes with the reference, also cover the
// portable lane update on AVX2 machines).
void checksum_lanes(uint64_t* h, const uint8_t* p, size_t blocks) {
#if defined(FSS_X86)
  static const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx512) return detail::checksum_lanes_avx512(h, p, blocks);
  if (avx2 && detail::current_mmo() != detail::mmo_portable) return detail::checksum_lanes_avx2(h, p, blocks);
#endif
  detail::checksum_lanes_portable(h, p, blocks);
}

inline uint64_t rotl64(uint64_t v, int s) { return (v << s) | (v >> (64 - s)); }
inline uint64_t load_u64(const uint8_t* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }
inline uint16_t load_u16(const uint8_t* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }
inline uint32_t load_u32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }

int value_bytes_for(int out_bits) { return out_bits <= 8 ? 1 : out_bits <= 16 ? 2 : out_bits <= 32 ? 4 : 8; }

int slot_width(int out_bits) {
  int w = 1;
  while (w < out_bits) w <<= 1;
  return w;
}

int log2_int(int v) {
  int r = 0;
  while ((1 << (r + 1)) <= v) ++r;
  return r;
}

[[noreturn]] void bad_key(const std::string& why) { throw std::invalid_argument("keys: " + why); }

// Streaming state of fsk_checksum: 32 lanes, word i into lane i mod 32.
struct Checksum {
  uint64_t h[kChecksumLanes];
  uint64_t words = 0;
  uint64_t length = 0;
  uint8_t pending[8] = {0};
  size_t npending = 0;

  Checksum() {
    for (int l = 0; l < kChecksumLanes; ++l) h[l] = 0x243F6A8885A308D3ull + static_cast<uint64_t>(l);
  }
  void word(uint64_t w) {
    uint64_t& x = h[words % kChecksumLanes];
    x = rotl64((x ^ w) * 0x9E3779B97F4A7C15ull, 31);
    ++words;
  }
  void update(const uint8_t* p, size_t n) {
    length += n;
    while (n && npending) {
      pending[npending++] = *p++;
      --n;
      if (npending == 8) { word(load_u64(pending)); npending = 0; }
    }
    while (n >= 8 && words % kChecksumLanes) { word(load_u64(p)); p += 8; n -= 8; }
    const size_t blocks = n / (8 * kChecksumLanes);
    if (blocks) {
      checksum_lanes(h, p, blocks);
      words += blocks * kChecksumLanes;
      p += blocks * 8 * kChecksumLanes;
      n -= blocks * 8 * kChecksumLanes;
    }
    while (n >= 8) { word(load_u64(p)); p += 8; n -= 8; }
    if (n) std::memcpy(pending, p, n);
    npending = n;
  }
  uint64_t finish() {
    if (npending) {
      std::memset(pending + npending, 0, 8 - npending);
      word(load_u64(pending));
      npending = 0;
    }
    uint64_t v = length;
    for (int l = 0; l < kChecksumLanes; ++l) v = rotl64((v ^ h[l]) * 0xBF58476D1CE4E5B9ull, 27);
    v = (v ^ (v >> 29)) * 0x94D049BB133111EBull;
    return v ^ (v >> 32);
  }
};

uint64_t key_checksum_from_digests(const uint8_t* header, const uint64_t* digests, uint64_t ntiles) {
  Checksum c;
  c.update(header, 24);
  c.update(reinterpret_cast<const uint8_t*>(digests), 8 * ntiles);  // little-endian hosts only
  return c.finish();
}

uint64_t header_and_body_checksum(const uint8_t* buf, size_t len, const KeyHeader& h, const uint64_t* digests) {
  const size_t bpk = key_layout(h.scheme, h.bits, h.out_bits).bytes_per_key;
  const uint64_t ntiles = (h.count + kKeyTile - 1) / kKeyTile;
  (void)len;
  if (digests) return key_checksum_from_digests(buf, digests, ntiles);
  std::vector<uint64_t> d(ntiles);
  const uint8_t* body = buf + kKeyHeaderSize;
#pragma omp parallel for schedule(static) num_threads(static_cast<int>(std::min<uint64_t>(num_threads(), std::max<uint64_t>(ntiles / 64, 1))))
  for (int64_t t = 0; t < static_cast<int64_t>(ntiles); ++t) d[t] = key_tile_digest(body, bpk, h.count, static_cast<uint64_t>(t));
  return key_checksum_from_digests(buf, d.data(), ntiles);
}

}  // namespace

uint64_t key_tile_digest(const uint8_t* body, size_t bytes_per_key, uint64_t count, uint64_t tile) {
  const uint64_t first = tile * kKeyTile;
  const uint64_t n = count - first < kKeyTile ? count - first : kKeyTile;
  return fsk_checksum(body + first * bytes_per_key, n * bytes_per_key);
}

uint64_t fsk_checksum(const uint8_t* data, size_t len) {
  Checksum c;
  c.update(data, len);
  return c.finish();
}

KeyLayout key_layout(Scheme scheme, int bits, int out_bits) {
  if (bits < 1 || bits > 64) bad_arg("bits", "must be in 1..64, got " + std::to_string(bits));
  if (out_bits < 1 || out_bits > 64) bad_arg("out_bits", "must be in 1..64, got " + std::to_string(out_bits));
  KeyLayout lay{};
  if (scheme == Scheme::DPF || (scheme == Scheme::DCF && out_bits == 1)) {
    const int w = slot_width(out_bits);
    const int nu_max = log2_int(128 / w);
    lay.early_bits = bits < nu_max ? bits : nu_max;
    lay.levels = bits - lay.early_bits;
    lay.value_bytes = 0;
    lay.bytes_per_key = 16u * static_cast<size_t>(lay.levels + 2);
  } else if (scheme == Scheme::DCF) {
    lay.early_bits = 0;
    lay.levels = bits;
    lay.value_bytes = value_bytes_for(out_bits);
    lay.bytes_per_key = static_cast<size_t>(16 + lay.value_bytes) * static_cast<size_t>(bits + 1);
  } else {
    bad_arg("scheme", "unknown scheme");
  }
  return lay;
}

size_t key_buffer_size(Scheme scheme, int bits, int out_bits, uint64_t count) {
  const KeyLayout lay = key_layout(scheme, bits, out_bits);
  if (count > (kMaxBufferBytes - kKeyHeaderSize) / lay.bytes_per_key)
    bad_arg("count", "too many keys: " + std::to_string(count) + " keys of " + std::to_string(lay.bytes_per_key) +
                         " bytes exceed the 2^40-byte buffer limit");
  return kKeyHeaderSize + lay.bytes_per_key * count;
}

void write_key_header(uint8_t* buf, size_t len, const KeyHeader& h, const uint64_t* tile_digests) {
  if (len != key_buffer_size(h.scheme, h.bits, h.out_bits, h.count)) bad_key("buffer length does not match the header");
  std::memset(buf, 0, kKeyHeaderSize);
  const uint32_t magic = kKeyMagic;
  const uint16_t version = kKeyVersion;
  std::memcpy(buf, &magic, 4);
  std::memcpy(buf + 4, &version, 2);
  buf[6] = static_cast<uint8_t>(h.scheme);
  buf[7] = h.party;
  buf[8] = h.bits;
  buf[9] = h.out_bits;
  std::memcpy(buf + 16, &h.count, 8);
  const uint64_t sum = header_and_body_checksum(buf, len, h, tile_digests);
  std::memcpy(buf + 24, &sum, 8);
}

KeyHeader parse_key_header(const uint8_t* buf, size_t len, bool full) {
  if (!buf) bad_key("null buffer");
  if (len < kKeyHeaderSize) bad_key("truncated: " + std::to_string(len) + " bytes is shorter than the 32-byte header");
  if (load_u32(buf) != kKeyMagic) bad_key("bad magic (not an fsskernels key batch)");
  const uint16_t version = load_u16(buf + 4);
  if (version != kKeyVersion) bad_key("unsupported format version " + std::to_string(version));
  KeyHeader h;
  const uint8_t scheme = buf[6];
  if (scheme != static_cast<uint8_t>(Scheme::DPF) && scheme != static_cast<uint8_t>(Scheme::DCF))
    bad_key("unknown scheme byte " + std::to_string(scheme));
  h.scheme = static_cast<Scheme>(scheme);
  h.party = buf[7];
  if (h.party > 1) bad_key("party byte must be 0 or 1, got " + std::to_string(h.party));
  h.bits = buf[8];
  h.out_bits = buf[9];
  if (h.bits < 1 || h.bits > 64) bad_key("bits field out of range: " + std::to_string(h.bits));
  if (h.out_bits < 1 || h.out_bits > 64) bad_key("out_bits field out of range: " + std::to_string(h.out_bits));
  if (load_u16(buf + 10) != 0 || load_u32(buf + 12) != 0) bad_key("reserved header fields are not zero");
  h.count = load_u64(buf + 16);
  const KeyLayout lay = key_layout(h.scheme, h.bits, h.out_bits);
  if (h.count > (kMaxBufferBytes - kKeyHeaderSize) / lay.bytes_per_key) bad_key("count field too large");
  const size_t want = kKeyHeaderSize + lay.bytes_per_key * h.count;
  if (len != want)
    bad_key((len < want ? "truncated: " : "trailing bytes: ") + std::to_string(len) + " bytes, expected " +
            std::to_string(want));
  if (full) {
    if (header_and_body_checksum(buf, len, h, nullptr) != load_u64(buf + 24)) bad_key("checksum mismatch (corrupted key bytes)");
    // Bits that must be zero: root seeds' low 2 bits, value CWs and FCW slots above out_bits.
    uint8_t* body = const_cast<uint8_t*>(buf) + kKeyHeaderSize;
    const uint64_t high = h.out_bits < 64 ? ~((uint64_t(1) << h.out_bits) - 1) : 0;
    const int w = slot_width(h.out_bits);
    for (uint64_t k = 0; k < h.count; ++k) {
      const KeyTilePtrs p = key_tile(body, lay, h.count, k);
      if (p.roots[0] & 3) bad_key("root seed " + std::to_string(k) + " has nonzero control bits");
      if (!high) continue;
      if (lay.value_bytes) {
        for (int l = 0; l <= lay.levels; ++l) {
          const uint8_t* q = l < lay.levels ? p.vcw + p.vcw_stride * l : p.fcw;
          uint64_t val = 0;
          std::memcpy(&val, q, lay.value_bytes);
          if (val & high) bad_key("value correction word of key " + std::to_string(k) + " exceeds out_bits");
        }
      } else if (h.out_bits > 1) {
        for (int j = 0; j < 128 / w; ++j) {
          const uint64_t word = load_u64(p.fcw + 8 * ((j * w) / 64));
          const uint64_t slot = w == 64 ? word : (word >> ((j * w) % 64)) & ((uint64_t(1) << w) - 1);
          if (slot & high) bad_key("final correction word of key " + std::to_string(k) + " exceeds out_bits");
        }
      }
    }
  }
  return h;
}

KeyTilePtrs key_tile(uint8_t* body, const KeyLayout& lay, uint64_t count, uint64_t base) {
  const uint64_t t = base / kKeyTile, j = base % kKeyTile;
  const uint64_t nt = count - t * kKeyTile < kKeyTile ? count - t * kKeyTile : kKeyTile;
  uint8_t* tile = body + t * kKeyTile * lay.bytes_per_key;
  const uint64_t L = static_cast<uint64_t>(lay.levels), vb = static_cast<uint64_t>(lay.value_bytes);
  KeyTilePtrs p{};
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

KeyView key_view(const uint8_t* buf, size_t len) {
  KeyView v{};
  v.h = parse_key_header(buf, len, false);
  v.lay = key_layout(v.h.scheme, v.h.bits, v.h.out_bits);
  v.body = buf + kKeyHeaderSize;
  return v;
}

void slice_keys(const uint8_t* buf, size_t len, uint64_t start, uint64_t n, uint8_t* out, size_t out_len) {
  const KeyView v = key_view(buf, len);
  if (start > v.h.count || n > v.h.count - start) bad_arg("index", "slice out of range");
  KeyHeader h = v.h;
  h.count = n;
  if (out_len != key_buffer_size(h.scheme, h.bits, h.out_bits, n)) bad_arg("out", "wrong output length");
  uint8_t* body = out + kKeyHeaderSize;
  const int vb = v.lay.value_bytes;
  for (uint64_t k = 0; k < n; ++k) {  // key by key: tiles of the slice differ from the source's
    const KeyTilePtrs s = v.tile(start + k);
    const KeyTilePtrs d = key_tile(body, v.lay, n, k);
    std::memcpy(d.roots, s.roots, 16);
    for (int l = 0; l < v.lay.levels; ++l) std::memcpy(d.cw + d.cw_stride * l, s.cw + s.cw_stride * l, 16);
    if (vb) {
      for (int l = 0; l < v.lay.levels; ++l) std::memcpy(d.vcw + d.vcw_stride * l, s.vcw + s.vcw_stride * l, vb);
      std::memcpy(d.fcw, s.fcw, vb);
    } else {
      std::memcpy(d.fcw, s.fcw, 16);
    }
  }
  write_key_header(out, out_len, h);
}

}  // namespace fss
