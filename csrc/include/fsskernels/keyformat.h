// fsskernels/keyformat.h: the versioned key-batch byte format (docs/kernels.md section 5).
//
// A batch of N keys of one party is one buffer: a 32-byte header then a structure-of-arrays
// body (level-major correction words). The same bytes are produced and accepted by the C++,
// C and Python APIs.
#pragma once
#include <cstddef>
#include <cstdint>

namespace fss {

enum class Scheme : uint8_t { DPF = 1, DCF = 2 };

constexpr uint32_t kKeyMagic = 0x4B535346u;  // "FSSK" little-endian
constexpr uint16_t kKeyVersion = 1;
constexpr size_t kKeyHeaderSize = 32;

struct KeyHeader {
  Scheme scheme;
  uint8_t party;
  uint8_t bits;
  uint8_t out_bits;
  uint64_t count;
};

// Shape of one key's body, derived from (scheme, bits, out_bits).
struct KeyLayout {
  int levels;          // tree levels L stored as correction words
  int early_bits;      // nu: input bits resolved by the leaf block (DPF, 1-bit DCF), else 0
  int value_bytes;     // vb for DCF with out_bits >= 2 (value CWs), else 0
  size_t bytes_per_key;
};

// Throws std::invalid_argument naming "bits" / "out_bits" if out of 1..64.
KeyLayout key_layout(Scheme scheme, int bits, int out_bits);

// Size of the whole buffer (header + body) for `count` keys.
size_t key_buffer_size(Scheme scheme, int bits, int out_bits, uint64_t count);

// Writes the header (including the checksum over header and body) into buf[0:32].
// The body must already be in place. `len` is the full buffer length. `tile_digests`, if
// given, holds key_tile_digest() of every tile (computed while the tiles were hot in cache).
void write_key_header(uint8_t* buf, size_t len, const KeyHeader& h, const uint64_t* tile_digests = nullptr);

// fsk_checksum of the bytes of tile `tile` of a body of `count` keys.
uint64_t key_tile_digest(const uint8_t* body, size_t bytes_per_key, uint64_t count, uint64_t tile);

// Parses the header and checks every field and the exact length. With `full` also
// verifies the checksum and the must-be-zero bits of the body (as on load from bytes).
// Throws std::invalid_argument("keys: ...") on anything malformed.
KeyHeader parse_key_header(const uint8_t* buf, size_t len, bool full);

// The hash fsk_checksum of docs/kernels.md section 5 (integrity against accidents, not a MAC).
// The header's checksum field is fsk_checksum(header[0:24] || tile digests as LE u64).
uint64_t fsk_checksum(const uint8_t* data, size_t len);

// Keys are stored in tiles of kKeyTile keys, each tile a level-major structure of arrays.
constexpr uint64_t kKeyTile = 32;

// Where the data of keys [base, base + n) lives, for keys inside one tile: element g of
// level i (0-based) is at cw + i * cw_stride + 16 * g, and likewise for the other arrays.
struct KeyTilePtrs {
  uint8_t* roots;      // 16 B per key
  uint8_t* cw;         // level 0; 16 B per key
  uint8_t* vcw;        // level 0; vb B per key (DCF, out_bits >= 2), else nullptr
  uint8_t* fcw;        // 16 B (DPF, one-bit DCF) or vb B (DCF) per key
  size_t cw_stride;    // bytes between levels
  size_t vcw_stride;
};
// `base` must not cross a tile boundary with the keys the caller reads.
KeyTilePtrs key_tile(uint8_t* body, const KeyLayout& lay, uint64_t count, uint64_t base);

struct KeyView {
  KeyHeader h;
  KeyLayout lay;
  const uint8_t* body;
  KeyTilePtrs tile(uint64_t base) const { return key_tile(const_cast<uint8_t*>(body), lay, h.count, base); }
};
KeyView key_view(const uint8_t* buf, size_t len);  // parse_key_header(full=false) + body

// Copies keys [start, start + n) of a batch into a new buffer `out` of size
// key_buffer_size(..., n) (header rewritten, checksum recomputed).
void slice_keys(const uint8_t* buf, size_t len, uint64_t start, uint64_t n, uint8_t* out, size_t out_len);

}  // namespace fss
