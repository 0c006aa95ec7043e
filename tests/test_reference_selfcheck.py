"""The pure-Python reference (tests/reference) alone: AES, the PRG, DPF/DCF semantics of
docs/kernels.md and the key format. Does not need the compiled package."""
from __future__ import annotations

import random
import struct

import pytest

from reference import aes_ref as A
from reference import fss_ref as F
from reference import keyformat_ref as K

OUT_BITS = [1, 2, 7, 8, 33, 64]


def test_aes_fips197_vector():
    # FIPS-197 appendix C.1: key 00..0f, plaintext 00112233..ff.
    pt = int.from_bytes(bytes.fromhex("00112233445566778899aabbccddeeff"), "little")
    ct = A.to_bytes(A.aes_fixed(pt))
    assert ct.hex() == "69c4e0d86a7b0430d8cdb78070b4c55a"


def test_hash_definition():
    rng = random.Random(5)
    from Crypto.Cipher import AES

    c = AES.new(bytes(range(16)), AES.MODE_ECB)
    for j in range(4):
        for _ in range(5):
            x = rng.getrandbits(128)
            xb = bytearray(x.to_bytes(16, "little"))
            xb[0] ^= j
            want = bytes(p ^ q for p, q in zip(c.encrypt(bytes(xb)), xb))
            assert A.H_bytes(x.to_bytes(16, "little"), j) == want
            assert A.H(x, j) == int.from_bytes(want, "little")


def test_ctr_and_root_seeds():
    R = A.master_key(12345 + (1 << 130))  # seed mod 2^128
    assert R == (12345).to_bytes(16, "little")
    from Crypto.Cipher import AES

    c = AES.new(R, AES.MODE_ECB)
    for k in range(3):
        b0 = c.encrypt((2 * k).to_bytes(16, "little"))
        b1 = c.encrypt((2 * k + 1).to_bytes(16, "little"))
        s0, s1 = A.root_seeds(R, k)
        assert s0 == int.from_bytes(b0, "little") & ~3
        assert s1 == int.from_bytes(b1, "little") & ~3
        assert s0 & 3 == 0 and s1 & 3 == 0
    assert A.master_key(-1) == b"\xff" * 16


def test_shapes_and_sizes():
    assert F.dpf_shape(64, 64) == (64, 1, 63)
    assert F.dpf_shape(32, 64) == (64, 1, 31)
    assert F.dpf_shape(64, 1) == (1, 7, 57)
    assert F.dpf_shape(64, 33) == (64, 1, 63)
    assert F.dpf_shape(64, 2) == (2, 6, 58)
    assert F.dpf_shape(3, 8) == (8, 3, 0)
    assert K.key_size("dcf", 64, 64) == 1560
    assert K.key_size("dcf", 64, 1) == 944
    assert K.key_size("dpf", 32, 64) == 528
    assert K.key_size("dcf", 8, 8) == 16 * 9 + 9
    assert K.key_size("dcf", 16, 16) == 16 * 17 + 2 * 17
    assert K.key_size("dcf", 32, 17) == 16 * 33 + 4 * 33


def _roots(seed, k=0):
    return A.root_seeds(A.master_key(seed), k)


def _alphas(n, rng):
    return sorted({0, (1 << n) - 1, rng.randrange(1 << n)})


@pytest.mark.parametrize("m", OUT_BITS)
def test_dpf_exhaustive_small(m):
    rng = random.Random(100 + m)
    for n in range(1, 9):
        for alpha in _alphas(n, rng):
            beta = rng.randrange(1 << m) | 1
            k0, k1 = F.dpf_gen(alpha, beta, n, m, *_roots(rng.getrandbits(128)))
            assert k0.fcw == k1.fcw and k0.cw == k1.cw and len(k0.cw) == F.dpf_shape(n, m)[2]
            for x in range(1 << n):
                y0, y1 = F.dpf_eval(0, k0, x), F.dpf_eval(1, k1, x)
                assert 0 <= y0 < (1 << m) and 0 <= y1 < (1 << m)
                assert (y0 + y1) % (1 << m) == (beta if x == alpha else 0), (n, m, alpha, x)
            assert F.dpf_eval_all(0, k0) == [F.dpf_eval(0, k0, x) for x in range(1 << n)]


@pytest.mark.parametrize("m", OUT_BITS)
def test_dcf_exhaustive_small(m):
    rng = random.Random(200 + m)
    for n in range(1, 9):
        for alpha in _alphas(n, rng):
            for beta in (rng.randrange(1 << m) | 1, rng.randrange(1 << m) & ~1):
                k0, k1 = F.dcf_gen(alpha, beta, n, m, *_roots(rng.getrandbits(128)))
                for x in range(1 << n):
                    y0, y1 = F.dcf_eval(0, k0, x), F.dcf_eval(1, k1, x)
                    assert 0 <= y0 < (1 << m) and 0 <= y1 < (1 << m)
                    assert (y0 + y1) % (1 << m) == (beta if x < alpha else 0), (n, m, alpha, beta, x)


@pytest.mark.parametrize("n", [16, 32, 64])
def test_random_large(n):
    rng = random.Random(300 + n)
    for m in (1, 2, 32, 33, 64):
        for alpha in (0, (1 << n) - 1, rng.randrange(1 << n), rng.randrange(1 << n)):
            beta = rng.randrange(1 << m) | 1
            roots = _roots(rng.getrandbits(128), 7)
            p0, p1 = F.dpf_gen(alpha, beta, n, m, *roots)
            c0, c1 = F.dcf_gen(alpha, beta, n, m, *roots)
            xs = {0, (1 << n) - 1, alpha, alpha - 1, alpha + 1, alpha ^ 1, rng.randrange(1 << n)}
            for x in (x for x in xs if 0 <= x < (1 << n)):
                assert (F.dpf_eval(0, p0, x) + F.dpf_eval(1, p1, x)) % (1 << m) == (beta if x == alpha else 0)
                assert (F.dcf_eval(0, c0, x) + F.dcf_eval(1, c1, x)) % (1 << m) == (beta if x < alpha else 0)


def test_onebit_dcf_beta_zero_is_zero():
    for n in (3, 8, 12):
        k0, k1 = F.dcf_gen((1 << n) - 1, 0, n, 1, *_roots(9))
        for x in range(0, 1 << n, max(1, (1 << n) // 64)):
            assert F.dcf_eval(0, k0, x) ^ F.dcf_eval(1, k1, x) == 0


def test_gen_is_deterministic_and_seed_dependent():
    a, b = F.gen_batch("dpf", [5, 6], 3, 8, 8, seed=42), F.gen_batch("dpf", [5, 6], 3, 8, 8, seed=42)
    assert K.build(a[0]) == K.build(b[0]) and K.build(a[1]) == K.build(b[1])
    c = F.gen_batch("dpf", [5, 6], 3, 8, 8, seed=43)
    assert K.build(a[0]) != K.build(c[0])


def test_checksum_properties():
    data = bytes(range(37))
    h = K.fsk_checksum(data)
    assert 0 <= h < 1 << 64
    assert K.fsk_checksum(data) == h
    assert K.fsk_checksum(data + b"\0") != h  # the length is mixed in (padding is not enough)
    for i in range(len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 0x10
        assert K.fsk_checksum(bytes(flipped)) != h
    assert K.fsk_checksum(b"") != K.fsk_checksum(b"\0")


def test_checksum_by_hand():
    # An independent straight-line evaluation for a 9-byte input (two words, lanes 0 and 1 of 32).
    M = (1 << 64) - 1

    def rotl(x, r):
        return ((x << r) | (x >> (64 - r))) & M

    data = bytes([1, 2, 3, 4, 5, 6, 7, 8, 9])
    w0 = 0x0807060504030201
    w1 = 0x09
    h0 = rotl(((0x243F6A8885A308D3 ^ w0) * 0x9E3779B97F4A7C15) & M, 31)
    h1 = rotl(((0x243F6A8885A308D4 ^ w1) * 0x9E3779B97F4A7C15) & M, 31)
    lanes = [h0, h1] + [0x243F6A8885A308D3 + l for l in range(2, 32)]
    h = 9
    for lane in lanes:
        h = rotl(((h ^ lane) * 0xBF58476D1CE4E5B9) & M, 27)
    h = ((h ^ (h >> 29)) * 0x94D049BB133111EB) & M
    h ^= h >> 32
    assert K.fsk_checksum(data) == h


@pytest.mark.parametrize("scheme,n,m", [("dpf", 10, 64), ("dpf", 7, 1), ("dcf", 9, 1), ("dcf", 9, 5),
                                         ("dcf", 6, 16), ("dcf", 5, 33), ("dpf", 4, 3)])
def test_keyformat_roundtrip(scheme, n, m):
    rng = random.Random(n * 100 + m)
    alphas = [rng.randrange(1 << n) for _ in range(3)]
    k0s, k1s = F.gen_batch(scheme, alphas, rng.randrange(1 << m), n, m, seed=77)
    for party, ks in ((0, k0s), (1, k1s)):
        buf = K.build(ks)
        assert len(buf) == 32 + 3 * K.key_size(scheme, n, m)
        assert buf[:4] == b"FSSK" and struct.unpack_from("<H", buf, 4)[0] == 1
        assert buf[6] == (1 if scheme == "dpf" else 2) and buf[7] == party and buf[8] == n and buf[9] == m
        assert struct.unpack_from("<Q", buf, 16)[0] == 3
        assert struct.unpack_from("<Q", buf, 24)[0] == K.key_checksum(buf[:24], buf[32:])
        hdr, back = K.parse(buf)
        assert back == ks and hdr["party"] == party and hdr["scheme"] == scheme
        # SoA: key 1's root is the second 16-byte block of the body.
        assert int.from_bytes(buf[48:64], "little") == ks[1].root
        # Any flipped byte is rejected.
        for pos in range(0, len(buf), 7):
            bad = bytearray(buf)
            bad[pos] ^= 0x40
            with pytest.raises(ValueError, match="keys"):
                K.parse(bytes(bad))
        with pytest.raises(ValueError, match="keys"):
            K.parse(buf[:-1])
    # Empty batch.
    hdr, back = K.parse(K.build([], scheme, 0, n, m))
    assert back == [] and hdr["count"] == 0


def test_keyformat_rejects_nonzero_bits():
    k0s, _ = F.gen_batch("dcf", [3], 1, 4, 5, seed=1)
    buf = bytearray(K.build(k0s))
    buf[32] |= 1  # root low bit
    with pytest.raises(ValueError, match="keys"):
        K.parse(K.rechecksum(bytes(buf)))
    buf = bytearray(K.build(k0s))
    buf[-1] |= 0x80  # FCW (1 value byte) above 5 bits
    with pytest.raises(ValueError, match="keys"):
        K.parse(K.rechecksum(bytes(buf)))
    p0s, _ = F.gen_batch("dpf", [3], 1, 4, 33, seed=1)
    buf = bytearray(K.build(p0s))
    buf[-1] |= 0x80  # top of the upper 64-bit slot, above 33 bits
    with pytest.raises(ValueError, match="keys"):
        K.parse(K.rechecksum(bytes(buf)))


def test_keyformat_tiles():
    """Bodies are tiles of 32 keys; key k of tile t sits at index k within each array of t."""
    n, bits, out_bits = 70, 5, 12
    alphas = [k % 32 for k in range(n)]
    k0s, _ = F.gen_batch("dcf", alphas, 3, bits, out_bits, seed=3)
    buf = K.build(k0s)
    S = K.key_size("dcf", bits, out_bits)
    assert S == 16 * 6 + 2 * 6
    body = buf[32:]
    assert len(body) == n * S
    # Key 33 = tile 1, index 1: root at tile start + 16, CW_2 at + 32*16*2 + 16,
    # VCW_1 at + 32*16*6 + 2, FCW at + 32*16*6 + 32*2*5 + 2.
    t1 = 32 * S
    assert int.from_bytes(body[t1 + 16:t1 + 32], "little") == k0s[33].root
    assert int.from_bytes(body[t1 + 32 * 16 * 2 + 16:t1 + 32 * 16 * 2 + 32], "little") == k0s[33].cw[1]
    assert int.from_bytes(body[t1 + 32 * 16 * 6 + 2:t1 + 32 * 16 * 6 + 4], "little") == k0s[33].vcw[0]
    assert int.from_bytes(body[t1 + 32 * 16 * 6 + 32 * 2 * 5 + 2:t1 + 32 * 16 * 6 + 32 * 2 * 5 + 4], "little") == k0s[33].fcw
    # Last (partial) tile: 6 keys; key 65 = index 1.
    t2 = 64 * S
    assert int.from_bytes(body[t2 + 16:t2 + 32], "little") == k0s[65].root
    assert int.from_bytes(body[t2 + 6 * 16 + 16:t2 + 6 * 16 + 32], "little") == k0s[65].cw[0]
    assert int.from_bytes(body[t2 + 6 * 16 * 6 + 6 * 2 * 5 + 2:t2 + 6 * 16 * 6 + 6 * 2 * 5 + 4], "little") == k0s[65].fcw
    _, back = K.parse(buf)
    assert back == k0s
    f = K.fields_np(buf)
    assert f["roots"].shape == (n, 16) and f["cw"].shape == (n, 5, 16) and f["vcw"].shape == (n, 5, 2)
    for k in (0, 31, 32, 33, 64, 69):
        assert int.from_bytes(f["roots"][k].tobytes(), "little") == k0s[k].root
        assert [int.from_bytes(c.tobytes(), "little") for c in f["cw"][k]] == k0s[k].cw
        assert [int.from_bytes(c.tobytes(), "little") for c in f["vcw"][k]] == k0s[k].vcw
        assert int.from_bytes(f["fcw"][k].tobytes(), "little") == k0s[k].fcw
    # DPF tiles.
    p0s, _ = F.gen_batch("dpf", alphas, 3, bits, 64, seed=3)
    pbuf = K.build(p0s)
    S = K.key_size("dpf", bits, 64)
    L = F.dpf_shape(bits, 64)[2]
    t1 = 32 + 32 * S
    assert int.from_bytes(pbuf[t1 + 16 * 33 - 16 * 32:t1 + 16 * 2], "little") == p0s[33].root
    assert int.from_bytes(pbuf[t1 + 32 * 16 * (L + 1) + 16:t1 + 32 * 16 * (L + 1) + 32], "little") == p0s[33].fcw
    assert K.parse(pbuf)[1] == p0s
    fp = K.fields_np(pbuf)
    assert int.from_bytes(fp["fcw"][69].tobytes(), "little") == p0s[69].fcw
