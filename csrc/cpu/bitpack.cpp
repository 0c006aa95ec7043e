// Wire packing of ring elements (fsskernels/pack.h): byte planes, then a bit-string tail.
// One pass over the values for every plane and the tail (python/fsskernels/mpc/packing.py).
#include <cstring>
#include <stdexcept>
#include <string>

#include "fsskernels/pack.h"

namespace fss {

namespace {

int check_bits(int bits) {
  if (bits < 1 || bits > 64) throw std::invalid_argument("bits: must be in 1..64, got " + std::to_string(bits));
  return bits;
}

// The planes of q = 8 * (bits / 8) low bits are 4, 2 and 1 bytes wide (each present or not:
// q = 4 * H4 + 2 * H2 + H1), at byte offsets 0, 4 * H4 and 4 * H4 + 2 * H2 of every value.
// One pass over the values writes every plane and the rem-bit tail (8 values = rem bytes).
template <bool H4, bool H2, bool H1>
void pack_pass(const uint64_t* v, size_t n, int rem, uint8_t* out) {
  constexpr int o2 = 4 * H4, o1 = 4 * H4 + 2 * H2, q = 4 * H4 + 2 * H2 + H1;
  uint8_t* p4 = out;
  uint8_t* p2 = p4 + (H4 ? 4 * n : 0);
  uint8_t* p1 = p2 + (H2 ? 2 * n : 0);
  uint8_t* pt = p1 + (H1 ? n : 0);
  const uint64_t m = (uint64_t(1) << rem) - 1;
  auto planes = [&](size_t i) {
    const uint64_t x = v[i];
    if (H4) { const uint32_t w = static_cast<uint32_t>(x); std::memcpy(p4 + 4 * i, &w, 4); }
    if (H2) { const uint16_t w = static_cast<uint16_t>(x >> (8 * o2)); std::memcpy(p2 + 2 * i, &w, 2); }
    if (H1) p1[i] = static_cast<uint8_t>(x >> (8 * o1));
  };
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t acc = 0;
    for (int j = 0; j < 8; ++j) {
      planes(i + j);
      acc |= ((v[i + j] >> (8 * q)) & m) << (rem * j);
    }
    if (rem) std::memcpy(pt + (i / 8) * static_cast<size_t>(rem), &acc, static_cast<size_t>(rem));
  }
  if (i < n) {
    uint64_t acc = 0;
    for (int j = 0; i + static_cast<size_t>(j) < n; ++j) {
      planes(i + j);
      acc |= ((v[i + j] >> (8 * q)) & m) << (rem * j);
    }
    const size_t done = (i / 8) * static_cast<size_t>(rem), tail = (n * static_cast<size_t>(rem) + 7) / 8;
    if (rem) std::memcpy(pt + done, &acc, tail - done);
  }
}

template <bool H4, bool H2, bool H1>
void unpack_pass(const uint8_t* in, size_t n, int rem, uint64_t* v) {
  constexpr int o2 = 4 * H4, o1 = 4 * H4 + 2 * H2, q = 4 * H4 + 2 * H2 + H1;
  const uint8_t* p4 = in;
  const uint8_t* p2 = p4 + (H4 ? 4 * n : 0);
  const uint8_t* p1 = p2 + (H2 ? 2 * n : 0);
  const uint8_t* pt = p1 + (H1 ? n : 0);
  const uint64_t m = (uint64_t(1) << rem) - 1;
  auto planes = [&](size_t i) {
    uint64_t x = 0;
    if (H4) { uint32_t w; std::memcpy(&w, p4 + 4 * i, 4); x |= w; }
    if (H2) { uint16_t w; std::memcpy(&w, p2 + 2 * i, 2); x |= uint64_t(w) << (8 * o2); }
    if (H1) x |= uint64_t(p1[i]) << (8 * o1);
    return x;
  };
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t acc = 0;
    if (rem) std::memcpy(&acc, pt + (i / 8) * static_cast<size_t>(rem), static_cast<size_t>(rem));
    for (int j = 0; j < 8; ++j) v[i + j] = planes(i + j) | (((acc >> (rem * j)) & m) << (8 * q));
  }
  if (i < n) {
    uint64_t acc = 0;
    const size_t done = (i / 8) * static_cast<size_t>(rem), tail = (n * static_cast<size_t>(rem) + 7) / 8;
    if (rem) std::memcpy(&acc, pt + done, tail - done);
    for (int j = 0; i + static_cast<size_t>(j) < n; ++j)
      v[i + j] = planes(i + j) | (((acc >> (rem * j)) & m) << (8 * q));
  }
}

using PackFn = void (*)(const uint64_t*, size_t, int, uint8_t*);
using UnpackFn = void (*)(const uint8_t*, size_t, int, uint64_t*);
constexpr PackFn kPack[8] = {pack_pass<0, 0, 0>, pack_pass<0, 0, 1>, pack_pass<0, 1, 0>, pack_pass<0, 1, 1>,
                             pack_pass<1, 0, 0>, pack_pass<1, 0, 1>, pack_pass<1, 1, 0>, pack_pass<1, 1, 1>};
constexpr UnpackFn kUnpack[8] = {unpack_pass<0, 0, 0>, unpack_pass<0, 0, 1>, unpack_pass<0, 1, 0>,
                                 unpack_pass<0, 1, 1>, unpack_pass<1, 0, 0>, unpack_pass<1, 0, 1>,
                                 unpack_pass<1, 1, 0>, unpack_pass<1, 1, 1>};

}  // namespace

size_t packed_nbytes(size_t n, int bits) {
  check_bits(bits);
  return (n / 8) * static_cast<size_t>(bits) + ((n % 8) * static_cast<size_t>(bits) + 7) / 8;
}

void pack_bits(const uint64_t* v, size_t n, int bits, uint8_t* out) {
  check_bits(bits);
  if (bits == 64) {
    if (n) std::memcpy(out, v, 8 * n);
    return;
  }
  kPack[bits / 8](v, n, bits % 8, out);
}

void unpack_bits(const uint8_t* in, size_t n, int bits, uint64_t* v) {
  check_bits(bits);
  if (bits == 64) {
    if (n) std::memcpy(v, in, 8 * n);
    return;
  }
  kUnpack[bits / 8](in, n, bits % 8, v);
}

}  // namespace fss
