"""DPF of the compiled package against the pure-Python reference (docs/kernels.md section 2):
key bytes byte for byte, evaluation, exhaustive reconstruction for small domains, randomized
reconstruction at 16/32/64 bits, full-domain evaluation, torch inputs, every AES path."""
from __future__ import annotations


import numpy as np
import pytest

import fsskernels as fk
from reference import fss_ref as F
from reference import keyformat_ref as K
from kernel_helpers import mask, near_points, rand_u64, reconstruct, special_alphas

AES_PATHS = list(fk._C.available_aes_paths())


def u64(vals) -> np.ndarray:
    return np.array([int(v) % (1 << 64) for v in vals], dtype=np.uint64)


# --------------------------------------------------------------------------- bytes vs reference
BYTE_CASES = [(1, 1), (1, 64), (2, 2), (3, 8), (5, 2), (7, 1), (8, 1), (8, 64), (10, 33), (12, 7),
              (16, 16), (24, 3), (32, 64), (32, 1), (40, 17), (63, 63), (64, 64), (64, 1), (64, 2), (64, 33)]


@pytest.mark.parametrize("bits,out_bits", BYTE_CASES)
def test_key_bytes_and_eval_match_reference(bits, out_bits):
    rng = np.random.default_rng(1000 * bits + out_bits)
    n = 9
    alpha = special_alphas(rng, n, bits)
    beta = rand_u64(rng, n, out_bits)
    seed = int(rng.integers(0, 2**62)) * 3 + (1 << 100)
    k0, k1 = fk.dpf_gen(alpha, beta, bits=bits, out_bits=out_bits, seed=seed)
    r0, r1 = K.gen_bytes("dpf", alpha, beta, bits, out_bits, seed)
    assert k0.to_bytes() == r0
    assert k1.to_bytes() == r1
    for party, kb in ((0, k0), (1, k1)):
        assert (kb.scheme, kb.party, kb.bits, kb.out_bits, len(kb)) == ("dpf", party, bits, out_bits, n)
    x = near_points(rng, alpha, bits)
    y0 = fk.dpf_eval(0, k0, x)
    y1 = fk.dpf_eval(1, k1, x)
    assert y0.dtype == np.uint64 and y0.shape == (n,)
    assert y0.tolist() == K.eval_bytes(0, r0, x)
    assert y1.tolist() == K.eval_bytes(1, r1, x)
    assert np.all(y0 <= mask(out_bits)) and np.all(y1 <= mask(out_bits))
    assert np.array_equal(reconstruct(y0, y1, out_bits), np.where(x == alpha, beta, np.uint64(0)))


def test_scalar_beta_and_reduction():
    alpha = u64([0, 5, 200, 255])
    a = fk.dpf_gen(alpha, 7, bits=8, out_bits=16, seed=11)
    b = fk.dpf_gen(alpha, u64([7] * 4), bits=8, out_bits=16, seed=11)
    c = fk.dpf_gen(alpha, (1 << 16) + 7, bits=8, out_bits=16, seed=11)  # reduced mod 2^out_bits
    assert a[0].to_bytes() == b[0].to_bytes() == c[0].to_bytes()
    assert a[1].to_bytes() == b[1].to_bytes() == c[1].to_bytes()
    assert a[0].to_bytes() == K.gen_bytes("dpf", alpha, 7, 8, 16, 11)[0]
    d = fk.dpf_gen(alpha, -1, bits=8, out_bits=16, seed=11)
    assert d[0].to_bytes() == K.gen_bytes("dpf", alpha, (1 << 16) - 1, 8, 16, 11)[0]


def test_seed_mod_2_128_and_random_seed():
    alpha = u64([1, 2, 3])
    a = fk.dpf_gen(alpha, 1, bits=4, out_bits=8, seed=5)
    b = fk.dpf_gen(alpha, 1, bits=4, out_bits=8, seed=5 + (1 << 128))
    assert a[0].to_bytes() == b[0].to_bytes()
    big = (1 << 127) + 0x1234567890ABCDEF
    c = fk.dpf_gen(alpha, 1, bits=4, out_bits=8, seed=big)
    assert c[1].to_bytes() == K.gen_bytes("dpf", alpha, 1, 4, 8, big)[1]
    # seed=None: OS randomness; keys differ between calls but still reconstruct.
    r1 = fk.dpf_gen(alpha, 1, bits=4, out_bits=8)
    r2 = fk.dpf_gen(alpha, 1, bits=4, out_bits=8)
    assert r1[0].to_bytes() != r2[0].to_bytes()
    x = u64([1, 0, 3])
    assert reconstruct(fk.dpf_eval(0, r1[0], x), fk.dpf_eval(1, r1[1], x), 8).tolist() == [1, 0, 1]


# --------------------------------------------------------------------------- exhaustive, small domains
@pytest.mark.parametrize("out_bits", [1, 2, 8, 16, 33, 64])
def test_exhaustive_small_domains(out_bits):
    rng = np.random.default_rng(out_bits)
    for bits in range(1, 9):
        size = 1 << bits
        # Every (alpha, x) pair, each with fresh keys: alpha repeated, x tiled.
        alpha = np.repeat(np.arange(size, dtype=np.uint64), size)
        x = np.tile(np.arange(size, dtype=np.uint64), size)
        beta = rand_u64(rng, alpha.size, out_bits)
        beta[:: 3] = mask(out_bits)
        k0, k1 = fk.dpf_gen(alpha, beta, bits=bits, out_bits=out_bits, seed=bits)
        got = reconstruct(fk.dpf_eval(0, k0, x), fk.dpf_eval(1, k1, x), out_bits)
        want = np.where(x == alpha, beta, np.uint64(0))
        assert np.array_equal(got, want), (bits, out_bits)
        # The same key at every x, through eval_all: keys for alpha = 0, 2^bits - 1 and random.
        alpha2 = special_alphas(rng, 5, bits)
        beta2 = rand_u64(rng, 5, out_bits) | np.uint64(1)
        j0, j1 = fk.dpf_gen(alpha2, beta2, bits=bits, out_bits=out_bits, seed=100 + bits)
        full = reconstruct(fk.dpf_eval_all(0, j0), fk.dpf_eval_all(1, j1), out_bits)
        want2 = np.where(np.arange(size, dtype=np.uint64)[None, :] == alpha2[:, None], beta2[:, None], np.uint64(0))
        assert np.array_equal(full, want2), (bits, out_bits)


# --------------------------------------------------------------------------- randomized, large domains
@pytest.mark.parametrize("bits", [16, 32, 64])
@pytest.mark.parametrize("out_bits", [1, 32, 64])
def test_randomized_large(bits, out_bits):
    rng = np.random.default_rng(7 * bits + out_bits)
    n = 4000
    alpha = special_alphas(rng, n, bits)
    beta = rand_u64(rng, n, out_bits)
    beta[:8] = mask(out_bits)
    seed = 0xD0F + bits * 1000 + out_bits
    k0, k1 = fk.dpf_gen(alpha, beta, bits=bits, out_bits=out_bits, seed=seed)
    x = near_points(rng, alpha, bits)
    y0, y1 = fk.dpf_eval(0, k0, x), fk.dpf_eval(1, k1, x)
    assert np.array_equal(reconstruct(y0, y1, out_bits), np.where(x == alpha, beta, np.uint64(0)))
    # A second evaluation point per key: always off alpha.
    x2 = np.where(x == alpha, alpha ^ np.uint64(1), x)
    z = reconstruct(fk.dpf_eval(0, k0, x2), fk.dpf_eval(1, k1, x2), out_bits)
    assert not z.any()
    # The first keys against the reference, byte for byte and value for value.
    # Keys at the start, across the tile/chunk boundary at 2048, and at the end, against the
    # reference byte for byte and value for value.
    for lo, hi in ((0, 16), (2040, 2056), (n - 8, n)):
        r0, r1 = K.gen_bytes("dpf", alpha[lo:hi], beta[lo:hi], bits, out_bits, seed, first=lo)
        assert k0[lo:hi].to_bytes() == r0 and k1[lo:hi].to_bytes() == r1, (lo, hi)
        assert y0[lo:hi].tolist() == K.eval_bytes(0, r0, x[lo:hi])
        assert y1[lo:hi].tolist() == K.eval_bytes(1, r1, x[lo:hi])


def test_output_has_x_shape():
    rng = np.random.default_rng(3)
    alpha = rand_u64(rng, 6, 20)
    k0, k1 = fk.dpf_gen(alpha, 9, bits=20, out_bits=12, seed=3)
    x = alpha.copy()
    x[1] ^= np.uint64(4)
    flat = fk.dpf_eval(0, k0, x)
    shaped = fk.dpf_eval(0, k0, x.reshape(2, 3))
    assert shaped.shape == (2, 3)
    assert np.array_equal(shaped.ravel(), flat)
    rec = reconstruct(shaped, fk.dpf_eval(1, k1, x.reshape(2, 3)), 12).ravel().tolist()
    assert rec == [9, 0, 9, 9, 9, 9]
    # int64 input gives the same as uint64.
    assert np.array_equal(fk.dpf_eval(0, k0, x.astype(np.int64)), flat)


# --------------------------------------------------------------------------- eval_all
@pytest.mark.parametrize("bits", list(range(1, 11)) + [16])
def test_eval_all(bits):
    rng = np.random.default_rng(50 + bits)
    out_bits = [64, 1, 8, 33, 2][bits % 5]
    n = 4
    size = 1 << bits
    alpha = special_alphas(rng, n, bits)
    beta = rand_u64(rng, n, out_bits) | np.uint64(1)
    k0, k1 = fk.dpf_gen(alpha, beta, bits=bits, out_bits=out_bits, seed=bits)
    e0, e1 = fk.dpf_eval_all(0, k0), fk.dpf_eval_all(1, k1)
    assert e0.shape == (n, size) and e0.dtype == np.uint64
    want = np.where(np.arange(size, dtype=np.uint64)[None, :] == alpha[:, None], beta[:, None], np.uint64(0))
    assert np.array_equal(reconstruct(e0, e1, out_bits), want)
    cols = range(size) if bits <= 10 else sorted({0, size - 1, *rng.integers(0, size, 40).tolist(), *alpha.tolist()})
    for xv in cols:
        xs = np.full(n, xv, dtype=np.uint64)
        assert np.array_equal(fk.dpf_eval(0, k0, xs), e0[:, xv])
        assert np.array_equal(fk.dpf_eval(1, k1, xs), e1[:, xv])
    # Reference: key 1 (alpha = 2^bits - 1) at every point for small domains, a few otherwise.
    _, keys = K.parse(k1.to_bytes())
    ref_cols = range(size) if bits <= 8 else sorted({0, size - 1, 12345 % size, int(alpha[1])})
    assert [F.dpf_eval(1, keys[1], c) for c in ref_cols] == [int(e1[1, c]) for c in ref_cols]


# --------------------------------------------------------------------------- torch
def test_torch_inputs():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    n = 64
    alpha = rand_u64(rng, n, 64)
    alpha[0] = np.uint64((1 << 64) - 1)
    beta = rand_u64(rng, n, 64)
    x = near_points(rng, alpha, 64)
    kn = fk.dpf_gen(alpha, beta, bits=64, out_bits=64, seed=4)
    kt = fk.dpf_gen(torch.from_numpy(alpha.view(np.int64)), torch.from_numpy(beta.view(np.int64)),
                    bits=64, out_bits=64, seed=4)
    assert kn[0].to_bytes() == kt[0].to_bytes() and kn[1].to_bytes() == kt[1].to_bytes()
    xt = torch.from_numpy(x.view(np.int64).copy())
    for party in (0, 1):
        yn = fk.dpf_eval(party, kn[party], x)
        yt = fk.dpf_eval(party, kn[party], xt)
        assert isinstance(yt, torch.Tensor) and yt.dtype == torch.int64 and tuple(yt.shape) == (n,)
        assert np.array_equal(yt.numpy().view(np.uint64), yn)


# --------------------------------------------------------------------------- every AES path
@pytest.mark.parametrize("path", AES_PATHS)
def test_every_aes_path(path, restore_aes_path):
    rng = np.random.default_rng(77)
    cases = [(64, 64, 40), (20, 1, 40), (9, 33, 40)]
    fk._C.set_aes_path(path)
    assert fk._C.aes_path() == path
    for bits, out_bits, n in cases:
        alpha = special_alphas(rng, n, bits)
        beta = rand_u64(rng, n, out_bits)
        k0, k1 = fk.dpf_gen(alpha, beta, bits=bits, out_bits=out_bits, seed=bits + out_bits)
        r0, r1 = K.gen_bytes("dpf", alpha[:12], beta[:12], bits, out_bits, bits + out_bits)
        assert k0[:12].to_bytes() == r0 and k1[:12].to_bytes() == r1
        x = near_points(rng, alpha, bits)
        y0, y1 = fk.dpf_eval(0, k0, x), fk.dpf_eval(1, k1, x)
        assert y0[:12].tolist() == K.eval_bytes(0, r0, x[:12])
        assert np.array_equal(reconstruct(y0, y1, out_bits), np.where(x == alpha, beta, np.uint64(0)))
        if bits <= 10:
            e0 = fk.dpf_eval_all(0, k0)
            assert np.array_equal(e0[np.arange(n), x.astype(np.int64)], y0)
