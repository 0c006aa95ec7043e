"""DCF of the compiled package against the pure-Python reference (docs/kernels.md sections 3
and 4): key bytes byte for byte, evaluation, exhaustive reconstruction for small domains,
randomized reconstruction at 16/32/64 bits, the one-bit DCF, torch inputs, every AES path."""
from __future__ import annotations

import numpy as np
import pytest

import fsskernels as fk
from reference import keyformat_ref as K
from kernel_helpers import mask, near_points, rand_u64, reconstruct, special_alphas

AES_PATHS = list(fk._C.available_aes_paths())


def expected(x, alpha, beta, out_bits):
    return np.where(x < alpha, np.asarray(beta, dtype=np.uint64) & mask(out_bits), np.uint64(0))


# --------------------------------------------------------------------------- bytes vs reference
BYTE_CASES = [(1, 1), (1, 2), (2, 64), (3, 8), (5, 2), (7, 1), (8, 1), (8, 8), (8, 9), (9, 16), (10, 17),
              (12, 32), (16, 33), (24, 3), (32, 64), (32, 1), (40, 63), (64, 64), (64, 1), (64, 2), (64, 8)]


@pytest.mark.parametrize("bits,out_bits", BYTE_CASES)
def test_key_bytes_and_eval_match_reference(bits, out_bits):
    rng = np.random.default_rng(2000 * bits + out_bits)
    n = 9
    alpha = special_alphas(rng, n, bits)
    beta = rand_u64(rng, n, out_bits)
    beta[0] |= np.uint64(1)
    if out_bits == 1:
        beta[2] = 0  # one-bit DCF with beta = 0: the comparison with a' = 0
    seed = int(rng.integers(0, 2**62)) * 5 + (1 << 90)
    k0, k1 = fk.dcf_gen(alpha, beta, bits=bits, out_bits=out_bits, seed=seed)
    r0, r1 = K.gen_bytes("dcf", alpha, beta, bits, out_bits, seed)
    assert k0.to_bytes() == r0
    assert k1.to_bytes() == r1
    for party, kb in ((0, k0), (1, k1)):
        assert (kb.scheme, kb.party, kb.bits, kb.out_bits, len(kb)) == ("dcf", party, bits, out_bits, n)
    x = near_points(rng, alpha, bits)
    y0 = fk.dcf_eval(0, k0, x)
    y1 = fk.dcf_eval(1, k1, x)
    assert y0.dtype == np.uint64 and y0.shape == (n,)
    assert y0.tolist() == K.eval_bytes(0, r0, x)
    assert y1.tolist() == K.eval_bytes(1, r1, x)
    assert np.all(y0 <= mask(out_bits)) and np.all(y1 <= mask(out_bits))
    assert np.array_equal(reconstruct(y0, y1, out_bits), expected(x, alpha, beta, out_bits))


def test_scalar_beta_and_reduction():
    alpha = np.array([0, 5, 200, 255], dtype=np.uint64)
    a = fk.dcf_gen(alpha, 7, bits=8, out_bits=16, seed=12)
    b = fk.dcf_gen(alpha, np.full(4, 7, dtype=np.uint64), bits=8, out_bits=16, seed=12)
    c = fk.dcf_gen(alpha, (1 << 16) + 7, bits=8, out_bits=16, seed=12)
    assert a[0].to_bytes() == b[0].to_bytes() == c[0].to_bytes()
    assert a[1].to_bytes() == b[1].to_bytes() == c[1].to_bytes()
    assert a[1].to_bytes() == K.gen_bytes("dcf", alpha, 7, 8, 16, 12)[1]
    # one-bit: beta = 3 is beta = 1 mod 2
    d = fk.dcf_gen(alpha, 3, bits=8, out_bits=1, seed=12)
    assert d[0].to_bytes() == K.gen_bytes("dcf", alpha, 1, 8, 1, 12)[0]


# --------------------------------------------------------------------------- exhaustive, small domains
@pytest.mark.parametrize("out_bits", [1, 2, 8, 16, 33, 64])
def test_exhaustive_small_domains(out_bits):
    rng = np.random.default_rng(10 + out_bits)
    for bits in range(1, 9):
        size = 1 << bits
        alpha = np.repeat(np.arange(size, dtype=np.uint64), size)
        x = np.tile(np.arange(size, dtype=np.uint64), size)
        beta = rand_u64(rng, alpha.size, out_bits)
        beta[::3] = mask(out_bits)
        k0, k1 = fk.dcf_gen(alpha, beta, bits=bits, out_bits=out_bits, seed=bits)
        got = reconstruct(fk.dcf_eval(0, k0, x), fk.dcf_eval(1, k1, x), out_bits)
        assert np.array_equal(got, expected(x, alpha, beta, out_bits)), (bits, out_bits)
        # The same key at every x: slice single keys and evaluate them repeatedly.
        for a in {0, size - 1, int(rng.integers(0, size))}:
            j0, j1 = fk.dcf_gen(np.array([a], dtype=np.uint64), 1, bits=bits, out_bits=out_bits, seed=a)
            for xv in range(size):
                xs = np.array([xv], dtype=np.uint64)
                y = reconstruct(fk.dcf_eval(0, j0, xs), fk.dcf_eval(1, j1, xs), out_bits)
                assert y.tolist() == [1 if xv < a else 0], (bits, out_bits, a, xv)


# --------------------------------------------------------------------------- randomized, large domains
@pytest.mark.parametrize("bits", [16, 32, 64])
@pytest.mark.parametrize("out_bits", [1, 32, 64])
def test_randomized_large(bits, out_bits):
    rng = np.random.default_rng(11 * bits + out_bits)
    n = 4000
    alpha = special_alphas(rng, n, bits)
    beta = rand_u64(rng, n, out_bits)
    beta[:8] = mask(out_bits)
    seed = 0xDCF + bits * 1000 + out_bits
    k0, k1 = fk.dcf_gen(alpha, beta, bits=bits, out_bits=out_bits, seed=seed)
    x = near_points(rng, alpha, bits)
    y0, y1 = fk.dcf_eval(0, k0, x), fk.dcf_eval(1, k1, x)
    assert np.array_equal(reconstruct(y0, y1, out_bits), expected(x, alpha, beta, out_bits))
    x2 = rand_u64(rng, n, bits)
    z = reconstruct(fk.dcf_eval(0, k0, x2), fk.dcf_eval(1, k1, x2), out_bits)
    assert np.array_equal(z, expected(x2, alpha, beta, out_bits))
    # Keys at the start, across the tile/chunk boundary at 2048, and at the end, against the
    # reference byte for byte and value for value.
    for lo, hi in ((0, 16), (2040, 2056), (n - 8, n)):
        r0, r1 = K.gen_bytes("dcf", alpha[lo:hi], beta[lo:hi], bits, out_bits, seed, first=lo)
        assert k0[lo:hi].to_bytes() == r0 and k1[lo:hi].to_bytes() == r1, (lo, hi)
        assert y0[lo:hi].tolist() == K.eval_bytes(0, r0, x[lo:hi])
        assert y1[lo:hi].tolist() == K.eval_bytes(1, r1, x[lo:hi])


def test_output_has_x_shape():
    alpha = np.array([3, 9, 100, 7, 0, 1023], dtype=np.uint64)
    k0, k1 = fk.dcf_gen(alpha, 5, bits=10, out_bits=12, seed=3)
    x = np.array([2, 9, 50, 8, 0, 1022], dtype=np.uint64)
    flat = fk.dcf_eval(0, k0, x)
    shaped = fk.dcf_eval(0, k0, x.reshape(3, 2))
    assert shaped.shape == (3, 2)
    assert np.array_equal(shaped.ravel(), flat)
    rec = reconstruct(shaped, fk.dcf_eval(1, k1, x.reshape(3, 2)), 12).ravel().tolist()
    assert rec == [5, 0, 5, 0, 0, 5]


# --------------------------------------------------------------------------- torch
def test_torch_inputs():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(19)
    n = 64
    for out_bits in (64, 1):
        alpha = rand_u64(rng, n, 64)
        alpha[0] = np.uint64((1 << 64) - 1)
        beta = rand_u64(rng, n, out_bits)
        x = near_points(rng, alpha, 64)
        kn = fk.dcf_gen(alpha, beta, bits=64, out_bits=out_bits, seed=4)
        kt = fk.dcf_gen(torch.from_numpy(alpha.view(np.int64)), torch.from_numpy(beta.view(np.int64)),
                        bits=64, out_bits=out_bits, seed=4)
        assert kn[0].to_bytes() == kt[0].to_bytes() and kn[1].to_bytes() == kt[1].to_bytes()
        xt = torch.from_numpy(x.view(np.int64).copy())
        for party in (0, 1):
            yn = fk.dcf_eval(party, kn[party], x)
            yt = fk.dcf_eval(party, kn[party], xt)
            assert isinstance(yt, torch.Tensor) and yt.dtype == torch.int64 and tuple(yt.shape) == (n,)
            assert np.array_equal(yt.numpy().view(np.uint64), yn)


# --------------------------------------------------------------------------- every AES path
@pytest.mark.parametrize("path", AES_PATHS)
def test_every_aes_path(path, restore_aes_path):
    rng = np.random.default_rng(78)
    cases = [(64, 64, 40), (64, 1, 40), (20, 9, 40), (9, 33, 300)]
    fk._C.set_aes_path(path)
    assert fk._C.aes_path() == path
    for bits, out_bits, n in cases:
        alpha = special_alphas(rng, n, bits)
        beta = rand_u64(rng, n, out_bits)
        k0, k1 = fk.dcf_gen(alpha, beta, bits=bits, out_bits=out_bits, seed=bits + out_bits)
        r0, r1 = K.gen_bytes("dcf", alpha[:8], beta[:8], bits, out_bits, bits + out_bits)
        assert k0[:8].to_bytes() == r0 and k1[:8].to_bytes() == r1
        x = near_points(rng, alpha, bits)
        y0, y1 = fk.dcf_eval(0, k0, x), fk.dcf_eval(1, k1, x)
        assert y0[:8].tolist() == K.eval_bytes(0, r0, x[:8])
        assert y1[:8].tolist() == K.eval_bytes(1, r1, x[:8])
        assert np.array_equal(reconstruct(y0, y1, out_bits), expected(x, alpha, beta, out_bits))
