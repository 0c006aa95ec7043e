// Internal: the lane update of fsk_checksum (docs/kernels.md section 5), per ISA.
#pragma once
#include <cstddef>
#include <cstdint>

namespace fss {
namespace detail {

constexpr int kChecksumLanes = 32;

// For each of `blocks` blocks of 32 little-endian words: h[l] = rotl((h[l] ^ w_l) * P, 31).
void checksum_lanes_portable(uint64_t* h, const uint8_t* p, size_t blocks);
#if defined(FSS_X86)
void checksum_lanes_avx512(uint64_t* h, const uint8_t* p, size_t blocks);
void checksum_lanes_avx2(uint64_t* h, const uint8_t* p, size_t blocks);
#endif

}  // namespace detail
}  // namespace fss
