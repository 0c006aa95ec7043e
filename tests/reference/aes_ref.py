"""Fixed-key AES hash H(x, j) and AES-CTR master randomness (docs/kernels.md section 1).

Blocks are Python ints in [0, 2^128), little-endian as 16 bytes (byte 0 least significant).
"""
from __future__ import annotations

from Crypto.Cipher import AES

MASK64 = (1 << 64) - 1
MASK128 = (1 << 128) - 1

FIXED_KEY = bytes(range(16))  # 00 01 02 ... 0f
_FIXED = AES.new(FIXED_KEY, AES.MODE_ECB)


def to_bytes(x: int) -> bytes:
    return (x & MASK128).to_bytes(16, "little")


def from_bytes(b: bytes) -> int:
    assert len(b) == 16
    return int.from_bytes(b, "little")


def lo64(x: int) -> int:
    return x & MASK64


def hi64(x: int) -> int:
    return (x >> 64) & MASK64


def aes_fixed(x: int) -> int:
    """AES_K(x) under the fixed public key K = 00 01 .. 0f."""
    return from_bytes(_FIXED.encrypt(to_bytes(x)))


def H(x: int, j: int) -> int:
    """H(x, j) = AES_K(x XOR j) XOR (x XOR j), j a small integer as a 128-bit LE block."""
    y = (x ^ j) & MASK128
    return aes_fixed(y) ^ y


def H_bytes(block: bytes, j: int) -> bytes:
    return to_bytes(H(from_bytes(block), j))


def H_many(blocks: bytes, j: int) -> bytes:
    """H over a concatenation of 16-byte blocks (same result as H block by block)."""
    assert len(blocks) % 16 == 0
    out = bytearray()
    for i in range(0, len(blocks), 16):
        out += H_bytes(blocks[i:i + 16], j)
    return bytes(out)


def master_key(seed: int) -> bytes:
    """The 16-byte AES-CTR master key R for a caller's seed: seed mod 2^128, 16 LE bytes."""
    return (int(seed) % (1 << 128)).to_bytes(16, "little")


def ctr_block(R: bytes, i: int) -> int:
    """Random block number i = AES_R(i), counter i as a 128-bit LE block."""
    return from_bytes(AES.new(R, AES.MODE_ECB).encrypt(to_bytes(i)))


def ctr_blocks(R: bytes, start: int, n: int) -> list[int]:
    cipher = AES.new(R, AES.MODE_ECB)
    data = b"".join(to_bytes(start + i) for i in range(n))
    enc = cipher.encrypt(data)
    return [from_bytes(enc[16 * i:16 * i + 16]) for i in range(n)]


def root_seeds(R: bytes, k: int) -> tuple[int, int]:
    """Root seeds of key number k: blocks 2k (party 0) and 2k+1 (party 1), low 2 bits cleared."""
    b0, b1 = ctr_blocks(R, 2 * k, 2)
    return b0 & ~3 & MASK128, b1 & ~3 & MASK128
