// fsskernels/pack.h: the wire packing of ring elements (python/fsskernels/mpc/packing.py).
//
// pack_bits stores n values of a `bits`-bit ring (1 <= bits <= 64; only the low `bits` bits of
// each value are kept) in exactly ceil(n * bits / 8) bytes; unpack_bits inverts it (values in
// [0, 2^bits)). Layout for bits = 8q + rem (0 <= rem < 8): bits = 64 is the plain little-endian
// array; otherwise the low q bytes of every value as byte planes of width 4, 2, 1 (greedy: q = 6
// is a plane of bytes 0..3 of every value, then a plane of bytes 4..5), each plane value-major
// and little-endian; then bits [8q, 8q + rem) of every value as one little-endian bit string
// (value i at bits [i * rem, (i + 1) * rem)). Little-endian hosts. Single-threaded.
#pragma once
#include <cstddef>
#include <cstdint>

namespace fss {

size_t packed_nbytes(size_t n, int bits);  // ceil(n * bits / 8); std::invalid_argument on bits
void pack_bits(const uint64_t* values, size_t n, int bits, uint8_t* out);
void unpack_bits(const uint8_t* in, size_t n, int bits, uint64_t* values);

}  // namespace fss
