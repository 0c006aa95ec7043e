"""Table lookup with DPF keys on the GPU (csrc/cuda/dpf_lookup.cu, fsskernels._cuda.lookup):
party shares of beta_i * T[:, (x_i - alpha_i) mod 2^bits], the LUT protocol of Pika / SIGMA.

Without a GPU: the kernel's host emulation (emulated full-domain expansion + the reduce
kernel's per-thread code) against the CPU dpf_lookup bit for bit and against the plain
definition (the two parties' outputs add up to the table entry); argument errors; the Python
glue on the stand-in CuPy of tests/test_cuda.py. With a GPU (skipped here): the CUDA lookup on
torch tensors against the CPU.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import fsskernels as fk

try:
    from fsskernels import _C_cuda as M
except ImportError:  # not built
    M = None

needs_module = pytest.mark.skipif(M is None, reason="CUDA module _C_cuda was not built")
from kernel_helpers import HAVE_GPU, TORCH  # noqa: E402
U64 = np.uint64


def rand_bits(rng, n: int, bits: int) -> np.ndarray:
    v = np.frombuffer(rng.bytes(8 * n), dtype=np.uint64).copy()
    return v >> U64(64 - bits) if bits < 64 else v


def case(bits: int, out_bits: int, n: int, ntab: int, seed: int):
    rng = np.random.default_rng(seed)
    alpha, beta = rand_bits(rng, n, bits), rand_bits(rng, n, out_bits)
    k0, k1 = fk.dpf_gen(alpha, beta, bits=bits, out_bits=out_bits, seed=seed + 1)
    x = rand_bits(rng, n, 64)  # opened indices; only x mod 2^bits matters
    tables = rand_bits(rng, ntab << bits, 64).reshape(ntab, 1 << bits)
    return alpha, beta, k0, k1, x, tables


def key_bytes(kb) -> np.ndarray:
    return np.frombuffer(kb.to_bytes(), dtype=np.uint8).copy()


CASES = [(1, 1, 5, 1), (2, 64, 33, 3), (5, 8, 40, 2), (8, 64, 37, 4), (8, 1, 10, 64), (10, 33, 9, 5), (16, 16, 3, 2)]


@needs_module
@pytest.mark.parametrize("bits,out_bits,n,ntab", CASES)
def test_emulated_lookup_matches_cpu_and_definition(bits, out_bits, n, ntab):
    alpha, beta, k0, k1, x, tables = case(bits, out_bits, n, ntab, bits * 7 + ntab)
    mask = U64((1 << out_bits) - 1) if out_bits < 64 else U64(2**64 - 1)
    outs = []
    for party, kb in ((0, k0), (1, k1)):
        emu = M._emulate_dpf_lookup(party, key_bytes(kb), x, tables)
        assert emu.shape == (ntab, n) and emu.dtype == np.uint64
        assert np.array_equal(emu, fk.dpf_lookup(party, kb, x, tables))
        outs.append(emu)
    dm = U64((1 << bits) - 1)
    idx = ((x - alpha) & dm).astype(np.int64)
    want = np.array([[(int(beta[i]) * int(tables[t, idx[i]])) & int(mask) for i in range(n)] for t in range(ntab)],
                    dtype=np.uint64)
    assert np.array_equal((outs[0] + outs[1]) & mask, want)


@needs_module
def test_emulated_lookup_errors():
    _, _, k0, _, x, tables = case(8, 8, 4, 2, 1)
    kb = key_bytes(k0)
    with pytest.raises(ValueError, match="^party: keys belong to party 0"):
        M._emulate_dpf_lookup(1, kb, x, tables)
    with pytest.raises(ValueError, match="^tables: expected 1..64 tables, got 65"):
        M._emulate_dpf_lookup(0, kb, x, np.zeros((65, 256), np.uint64))
    with pytest.raises(ValueError, match="^tables: expected 2\\^bits columns"):
        M._emulate_dpf_lookup(0, kb, x, np.zeros((2, 255), np.uint64))
    with pytest.raises(ValueError, match="^x: wrong number of values"):
        M._emulate_dpf_lookup(0, kb, x[:3], tables)
    big0, _ = fk.dpf_gen(np.arange(3, dtype=np.uint64), 1, bits=17, out_bits=8, seed=2)
    with pytest.raises(ValueError, match="^bits: table lookups need bits <= 16, got 17"):
        M._emulate_dpf_lookup(0, key_bytes(big0), np.zeros(3, np.uint64), np.zeros((1, 2), np.uint64))
    dcf0, _ = fk.dcf_gen(np.arange(3, dtype=np.uint64), 1, bits=8, out_bits=8, seed=2)
    with pytest.raises(ValueError, match="^keys: are DCF keys"):
        M._emulate_dpf_lookup(0, key_bytes(dcf0), np.zeros(3, np.uint64), tables)


def _test_cuda_module():
    spec = importlib.util.spec_from_file_location("_fsk_test_cuda_fakes_lookup",
                                                  Path(__file__).resolve().parents[1] / "test_cuda.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def fake_gpu(monkeypatch):
    import fsskernels._cuda as glue

    tc = _test_cuda_module()
    cp = tc._fake_cupy()
    monkeypatch.setitem(sys.modules, "cupy", cp)
    monkeypatch.setattr(glue, "_M", tc._FakeCudaModule)
    monkeypatch.setattr(glue, "_default_fw", lambda: "cupy")
    tc._FakeCudaModule.calls = []
    return cp, tc._FakeCudaModule


@needs_module
def test_glue_lookup(fake_gpu):
    import fsskernels._cuda as glue

    cp, fake = fake_gpu
    _, _, k0, k1, x, tables = case(9, 40, 21, 3, 5)
    for party, kb in ((0, k0), (1, k1)):
        got = glue.lookup(party, kb.to("cuda"), cp.asarray(x.reshape(3, 7)), cp.asarray(tables))
        assert isinstance(got, cp.ndarray) and got.shape == (3, 21) and got.dtype == np.uint64
        assert np.array_equal(cp.asnumpy(got), fk.dpf_lookup(party, kb, x, tables))
    assert "dpf_lookup" in fake.calls
    g0 = k0.to("cuda")
    xd, td = cp.asarray(x), cp.asarray(tables)
    with pytest.raises(ValueError, match="^tables: expected shape \\(1..64, 512\\)"):
        glue.lookup(0, g0, xd, cp.asarray(tables[:, :100]))
    with pytest.raises(ValueError, match="^tables: is on the CPU"):
        glue.lookup(0, g0, xd, tables)
    with pytest.raises(ValueError, match="^x: has 20 values but there are 21 keys"):
        glue.lookup(0, g0, cp.asarray(x[:20]), td)
    with pytest.raises(ValueError, match="^keys: are on the CPU"):
        glue.lookup(0, k0, xd, td)
    with pytest.raises(ValueError, match="^party: keys belong to party 0"):
        glue.lookup(1, g0, xd, td)
    d0, _ = fk.dcf_gen(np.arange(21, dtype=np.uint64), 1, bits=9, out_bits=8, seed=1)
    with pytest.raises(ValueError, match="^keys: are DCF keys, expected DPF keys"):
        glue.lookup(0, d0.to("cuda"), xd, td)


needs_gpu = pytest.mark.skipif(M is None or not HAVE_GPU or TORCH is None,
                               reason="no CUDA GPU (or torch without CUDA)")


@needs_gpu
@pytest.mark.parametrize("bits,out_bits,n,ntab", CASES + [(8, 64, 70000, 2), (16, 8, 600, 1)])
def test_gpu_lookup_matches_cpu(bits, out_bits, n, ntab):
    import fsskernels._cuda as glue

    alpha, beta, k0, k1, x, tables = case(bits, out_bits, n, ntab, 11)
    dev = lambda a: TORCH.from_numpy(np.ascontiguousarray(a).view(np.int64)).cuda()  # noqa: E731
    for party, kb in ((0, k0), (1, k1)):
        got = glue.lookup(party, kb.to("cuda"), dev(x), dev(tables))
        assert np.array_equal(got.cpu().numpy().view(np.uint64), fk.dpf_lookup(party, kb, x, tables))
