"""fsskernels.dpf_lookup (fused full-domain DPF evaluation + rotated table dot product) against
independent references: the plaintext table entry T[:, (x - alpha) mod 2^n] * beta after
reconstruction (exhaustive over every alpha and x on small domains), each party's output
against the pure-Python reference evaluator's full-domain shares dotted with the rotated
table in Python integers, one-time consumption and bad inputs."""
from __future__ import annotations

import numpy as np
import pytest

import fsskernels as fk
from reference import fss_ref as F
from reference import keyformat_ref as K
from kernel_helpers import rand_u64

M64 = (1 << 64) - 1


@pytest.mark.parametrize("bits", [1, 2, 3, 5])
def test_exhaustive_small_domains(bits):
    size = 1 << bits
    rng = np.random.default_rng(bits)
    alpha = np.repeat(np.arange(size, dtype=np.uint64), size)      # every (alpha, x) pair
    x = np.tile(np.arange(size, dtype=np.uint64), size)
    beta = rand_u64(rng, alpha.size, 64)
    tables = rand_u64(rng, 3 * size, 64).reshape(3, size)
    k0, k1 = fk.dpf_gen(alpha, beta, bits=bits, out_bits=64, seed=bits + 11)
    y0, y1 = fk.dpf_lookup(0, k0, x, tables), fk.dpf_lookup(1, k1, x, tables)
    assert y0.shape == (3, alpha.size) and y0.dtype == np.uint64
    idx = ((x - alpha) & np.uint64(size - 1)).astype(np.int64)
    want = tables[:, idx] * beta[None, :]                            # wraps mod 2^64
    assert np.array_equal(y0 + y1, want)


@pytest.mark.parametrize("bits,out_bits", [(4, 64), (7, 64), (6, 20)])
def test_each_party_matches_python_reference(bits, out_bits):
    size = 1 << bits
    rng = np.random.default_rng(100 + bits)
    n = 5
    alpha = rand_u64(rng, n, bits)
    beta = rand_u64(rng, n, out_bits)
    x = rand_u64(rng, n, bits)
    tables = rand_u64(rng, 2 * size, 64).reshape(2, size)
    k0, k1 = fk.dpf_gen(alpha, beta, bits=bits, out_bits=out_bits, seed=7 * bits)
    for party, kb in ((0, k0), (1, k1)):
        _, keys = K.parse(kb.to_bytes())
        got = fk.dpf_lookup(party, kb, x, tables)
        for k in range(n):
            shares = [F.dpf_eval(party, keys[k], j) for j in range(size)]
            for t in range(2):
                acc = sum(int(tables[t, (int(x[k]) - j) % size]) * shares[j] for j in range(size))
                assert int(got[t, k]) == acc & ((1 << out_bits) - 1)


@pytest.mark.parametrize("path", list(fk._C.available_aes_paths()))
def test_every_aes_path_gives_the_same_shares(path, restore_aes_path):
    """The VAES paths expand with vectorized node steps, the others with the scalar loops:
    same key bytes in, same shares out, on domains with 1..16 leaves per key and groups
    that are full and not (13 and 64 keys), for 64-bit and narrower outputs."""
    rng = np.random.default_rng(321)
    for bits, out_bits, n in [(1, 64, 13), (2, 64, 64), (7, 64, 64), (8, 64, 13), (5, 40, 13), (7, 17, 13)]:
        alpha, beta = rand_u64(rng, n, bits), rand_u64(rng, n, out_bits)
        x = rand_u64(rng, n, bits)
        tables = rand_u64(rng, 3 << bits, 64).reshape(3, 1 << bits)
        ys = {}
        for p in ("portable", path):
            fk._C.set_aes_path(p)
            k0, k1 = fk.dpf_gen(alpha, beta, bits=bits, out_bits=out_bits, seed=bits * out_bits)
            ys[p] = (fk.dpf_lookup(0, k0, x, tables), fk.dpf_lookup(1, k1, x, tables))
        assert all(np.array_equal(a, b) for a, b in zip(ys["portable"], ys[path])), (path, bits, out_bits)
        idx = ((x - alpha) & np.uint64((1 << bits) - 1)).astype(np.int64)
        mask = np.uint64((1 << out_bits) - 1)
        want = (tables[:, idx] * beta[None, :]) & mask                  # wraps mod 2^64
        assert np.array_equal((ys[path][0] + ys[path][1]) & mask, want)


@pytest.mark.parametrize("path", list(fk._C.available_aes_paths()))
def test_every_aes_path_every_table_count(path, restore_aes_path):
    """The vectorized dot products take the tables in blocks (4 with a fifth in scalar code, 4,
    3, 2, 1): 1..9 tables on domains with fewer than 4, exactly 4 and 128 points, both parties,
    against the portable path and the reconstruction."""
    rng = np.random.default_rng(654)  # csprng-ok: public test inputs
    for bits, out_bits, n in [(1, 64, 9), (2, 64, 9), (7, 64, 11), (7, 40, 9)]:
        alpha, beta = rand_u64(rng, n, bits), rand_u64(rng, n, out_bits)
        x = rand_u64(rng, n, bits)
        mask = np.uint64((1 << out_bits) - 1)
        idx = ((x - alpha) & np.uint64((1 << bits) - 1)).astype(np.int64)
        for ntab in range(1, 10):
            tables = rand_u64(rng, ntab << bits, 64).reshape(ntab, 1 << bits)
            ys = {}
            for p in ("portable", path):
                fk._C.set_aes_path(p)
                k0, k1 = fk.dpf_gen(alpha, beta, bits=bits, out_bits=out_bits, seed=ntab + bits)
                ys[p] = (fk.dpf_lookup(0, k0, x, tables), fk.dpf_lookup(1, k1, x, tables))
            assert all(np.array_equal(a, b) for a, b in zip(ys["portable"], ys[path])), (path, bits, ntab)
            want = (tables[:, idx] * beta[None, :]) & mask                  # wraps mod 2^64
            assert np.array_equal((ys[path][0] + ys[path][1]) & mask, want), (path, bits, ntab)


def test_torch_in_torch_out_and_one_time():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    bits, n = 7, 300
    alpha = rand_u64(rng, n, bits)
    i = rand_u64(rng, n, bits)
    x = torch.from_numpy(((i + alpha) & np.uint64(127)).astype(np.int64))
    tables = torch.from_numpy(rand_u64(rng, 5 * 128, 63).astype(np.int64).reshape(5, 128))
    k0, k1 = fk.dpf_gen(alpha, 1, bits=bits, out_bits=64)
    k0.mark_one_time()
    y0 = fk.dpf_lookup(0, k0, x, tables)
    y1 = fk.dpf_lookup(1, k1, x, tables)
    assert isinstance(y0, torch.Tensor) and y0.dtype == torch.int64 and tuple(y0.shape) == (5, n)
    assert torch.equal(y0 + y1, tables[:, torch.from_numpy(i.astype(np.int64))])
    assert k0.consumed
    with pytest.raises(ValueError, match="keys"):
        fk.dpf_lookup(0, k0, x, tables)


def test_bad_inputs():
    rng = np.random.default_rng(4)
    k0, _ = fk.dpf_gen(rand_u64(rng, 4, 6), 1, bits=6, out_bits=64)
    x = np.zeros(4, dtype=np.uint64)
    t = np.zeros((2, 64), dtype=np.uint64)
    with pytest.raises(ValueError, match="party"):
        fk.dpf_lookup(1, k0, x, t)
    with pytest.raises(ValueError, match="party"):
        fk.dpf_lookup(2, k0, x, t)
    with pytest.raises(ValueError, match="x"):
        fk.dpf_lookup(0, k0, np.zeros(5, dtype=np.uint64), t)
    with pytest.raises(ValueError, match="tables"):
        fk.dpf_lookup(0, k0, x, np.zeros((2, 32), dtype=np.uint64))
    with pytest.raises(ValueError, match="tables"):
        fk.dpf_lookup(0, k0, x, np.zeros((65, 64), dtype=np.uint64))
    with pytest.raises(ValueError, match="tables"):
        fk.dpf_lookup(0, k0, x, np.zeros(64, dtype=np.uint64))
    with pytest.raises(ValueError, match="x"):
        fk.dpf_lookup(0, k0, np.zeros(4, dtype=np.float64), t)
    with pytest.raises(ValueError, match="keys"):
        fk.dpf_lookup(0, b"not keys", x, t)
    d0, _ = fk.dcf_gen(rand_u64(rng, 4, 6), 1, bits=6, out_bits=64)
    with pytest.raises(ValueError, match="keys"):
        fk.dpf_lookup(0, d0, x, t)
    big, _ = fk.dpf_gen(rand_u64(rng, 4, 17), 1, bits=17, out_bits=64)
    with pytest.raises(ValueError, match="bits"):
        fk.dpf_lookup(0, big, x, np.zeros((1, 1 << 17), dtype=np.uint64))
