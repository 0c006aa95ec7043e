// Portable, table-free AES-128 (constant time: the S-box is computed as GF(2^8) inversion
// by exponentiation with branch-free multiplication, never looked up by a secret index).
// Slow (a fallback for CPUs without AES instructions); the AES-NI / VAES paths are the fast ones.
#include <cstring>

#include "aes_internal.h"

namespace fss {
namespace detail {
namespace {

// Empty asm: the optimizer cannot see that a mask is 0 or 0xff (no branch can replace it).
inline uint8_t barrier8(uint8_t x) {
#if defined(__GNUC__) || defined(__clang__)
  __asm__ volatile("" : "+r"(x));
#endif
  return x;
}

inline uint8_t gf_mul(uint8_t a, uint8_t b) {
  uint8_t r = 0;
  for (int i = 0; i < 8; ++i) {
    r ^= barrier8(static_cast<uint8_t>(-(b & 1))) & a;
    uint8_t hi = barrier8(static_cast<uint8_t>(-(a >> 7)));
    a = static_cast<uint8_t>((a << 1) ^ (hi & 0x1b));
    b >>= 1;
  }
  return r;
}

inline uint8_t gf_inv(uint8_t x) {  // x^254; maps 0 to 0
  uint8_t x2 = gf_mul(x, x), x3 = gf_mul(x2, x), x6 = gf_mul(x3, x3), x12 = gf_mul(x6, x6);
  uint8_t x15 = gf_mul(x12, x3), x30 = gf_mul(x15, x15), x60 = gf_mul(x30, x30);
  uint8_t x120 = gf_mul(x60, x60), x126 = gf_mul(x120, x6), x127 = gf_mul(x126, x);
  return gf_mul(x127, x127);  // x^254
}

inline uint8_t rotl8(uint8_t v, int s) { return static_cast<uint8_t>((v << s) | (v >> (8 - s))); }

inline uint8_t sbox(uint8_t x) {
  uint8_t b = gf_inv(x);
  return static_cast<uint8_t>(b ^ rotl8(b, 1) ^ rotl8(b, 2) ^ rotl8(b, 3) ^ rotl8(b, 4) ^ 0x63);
}

inline uint8_t xtime(uint8_t a) { return static_cast<uint8_t>((a << 1) ^ (static_cast<uint8_t>(-(a >> 7)) & 0x1b)); }

void encrypt_block(const AesKey& k, const uint8_t in[16], uint8_t out[16]) {
  uint8_t s[16];
  for (int i = 0; i < 16; ++i) s[i] = in[i] ^ k.rk[0][i];
  for (int round = 1; round <= 10; ++round) {
    uint8_t t[16];
    // SubBytes + ShiftRows (state is column-major: byte 4*c + r is row r, column c).
    for (int c = 0; c < 4; ++c)
      for (int r = 0; r < 4; ++r) t[4 * c + r] = sbox(s[4 * ((c + r) & 3) + r]);
    if (round != 10) {  // MixColumns
      for (int c = 0; c < 4; ++c) {
        uint8_t a0 = t[4 * c], a1 = t[4 * c + 1], a2 = t[4 * c + 2], a3 = t[4 * c + 3];
        uint8_t all = a0 ^ a1 ^ a2 ^ a3;
        t[4 * c + 0] = a0 ^ all ^ xtime(a0 ^ a1);
        t[4 * c + 1] = a1 ^ all ^ xtime(a1 ^ a2);
        t[4 * c + 2] = a2 ^ all ^ xtime(a2 ^ a3);
        t[4 * c + 3] = a3 ^ all ^ xtime(a3 ^ a0);
      }
    }
    for (int i = 0; i < 16; ++i) s[i] = t[i] ^ k.rk[round][i];
  }
  std::memcpy(out, s, 16);
}

}  // namespace

void aes_expand_key(const uint8_t key[16], AesKey* out) {
  static const uint8_t rcon[10] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36};
  std::memcpy(out->rk[0], key, 16);
  for (int i = 1; i <= 10; ++i) {
    const uint8_t* p = out->rk[i - 1];
    uint8_t* q = out->rk[i];
    uint8_t w[4] = {sbox(p[13]), sbox(p[14]), sbox(p[15]), sbox(p[12])};  // RotWord + SubWord
    w[0] ^= rcon[i - 1];
    for (int j = 0; j < 4; ++j) q[j] = p[j] ^ w[j];
    for (int j = 4; j < 16; ++j) q[j] = p[j] ^ q[j - 4];
  }
}

void enc_portable(const AesKey& k, const Block* in, Block* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint8_t buf[16];
    encrypt_block(k, reinterpret_cast<const uint8_t*>(&in[i]), buf);
    std::memcpy(&out[i], buf, 16);
  }
}

void mmo_portable(const AesKey& k, const Block* in, Block* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    Block x = in[i];
    uint8_t buf[16];
    encrypt_block(k, reinterpret_cast<const uint8_t*>(&x), buf);
    Block y;
    std::memcpy(&y, buf, 16);
    out[i] = xor_block(y, x);
  }
}

}  // namespace detail
}  // namespace fss
