// fsskernels/block.h: the 128-bit block shared by the AES PRG and the FSS trees.
#pragma once
#include <cstdint>
#include <cstring>

namespace fss {

// A 16-byte block, little-endian: lo holds bytes 0..7, hi bytes 8..15.
struct alignas(16) Block {
  uint64_t lo;
  uint64_t hi;
};
static_assert(sizeof(Block) == 16, "Block must be 16 bytes");

inline Block xor_block(Block a, Block b) { return Block{a.lo ^ b.lo, a.hi ^ b.hi}; }
inline Block load_block(const uint8_t* p) { Block b; std::memcpy(&b, p, 16); return b; }
inline void store_block(uint8_t* p, Block b) { std::memcpy(p, &b, 16); }

}  // namespace fss
