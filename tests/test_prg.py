"""prg_hash against the reference H(x, j) (docs/kernels.md section 1), and agreement of all
AES paths (portable / aes-ni / vaes256 / vaes) on the PRG and on DPF/DCF gen and eval."""
from __future__ import annotations

import os

import numpy as np
import pytest

import fsskernels as fk
from reference import aes_ref as A
from reference import keyformat_ref as K

AES_PATHS = list(fk._C.available_aes_paths())


def ref_hash(blocks: np.ndarray, tweak: int) -> np.ndarray:
    out = A.H_many(blocks.tobytes(), tweak)
    return np.frombuffer(out, dtype=np.uint8).reshape(-1, 16)


def sample_blocks(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    b = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    if n >= 4:
        b[0] = 0
        b[1] = 0xFF
        b[2] = np.arange(16, dtype=np.uint8)
        b[3, 0] = 3  # low bits set: x XOR j differs from x + j
    return b


def test_paths_listed():
    assert "portable" in AES_PATHS
    assert set(AES_PATHS) <= {"portable", "aes-ni", "vaes256", "vaes"}
    assert fk._C.aes_path() in AES_PATHS
    flags = set()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    if "aes" in flags:
        assert "aes-ni" in AES_PATHS
    if {"vaes", "avx512f", "avx512bw", "avx512vl"} <= flags:
        assert "vaes" in AES_PATHS
    if {"vaes", "avx2", "aes"} <= flags:
        assert "vaes256" in AES_PATHS


@pytest.mark.parametrize("tweak", [0, 1, 2, 3])
def test_prg_hash_matches_reference(tweak):
    blocks = sample_blocks(300, tweak)
    out = fk.prg_hash(blocks, tweak=tweak)
    assert out.dtype == np.uint8 and out.shape == (300, 16)
    assert np.array_equal(out, ref_hash(blocks, tweak))
    assert np.array_equal(blocks, sample_blocks(300, tweak))  # input untouched


def test_prg_hash_default_tweak_and_known_value():
    blocks = sample_blocks(5, 9)
    assert np.array_equal(fk.prg_hash(blocks), fk.prg_hash(blocks, tweak=0))
    # H(0, 0) = AES_K(0): FIPS-197-style known answer for K = 00..0f, plaintext 0.
    zero = np.zeros((1, 16), dtype=np.uint8)
    from Crypto.Cipher import AES

    want = AES.new(bytes(range(16)), AES.MODE_ECB).encrypt(bytes(16))
    assert fk.prg_hash(zero, tweak=0).tobytes() == want


@pytest.mark.parametrize("path", AES_PATHS)
def test_prg_hash_every_path(path, restore_aes_path):
    fk._C.set_aes_path(path)
    assert fk._C.aes_path() == path
    for n in (0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 127, 1000):
        blocks = sample_blocks(n, n)
        for tweak in (0, 1, 2, 3):
            out = fk.prg_hash(blocks, tweak=tweak)
            assert out.shape == (n, 16)
            if n:
                assert np.array_equal(out, ref_hash(blocks, tweak)), (path, n, tweak)


def test_set_unknown_path_raises(restore_aes_path):
    with pytest.raises(ValueError):
        fk._C.set_aes_path("no-such-path")


def test_paths_agree_on_gen_and_eval(restore_aes_path):
    """Gen bytes and eval results are identical under every AES path (and equal the reference
    on a prefix of each batch)."""
    results = {}
    for path in AES_PATHS:
        fk._C.set_aes_path(path)
        res = []
        for scheme, bits, out_bits in (("dpf", 64, 64), ("dpf", 16, 1), ("dpf", 12, 7),
                                       ("dcf", 64, 64), ("dcf", 64, 1), ("dcf", 24, 20)):
            r = np.random.default_rng(bits * 100 + out_bits)
            n = 40  # > 32: two key tiles (the portable AES path is slow)
            alpha = r.integers(0, 2**63, n, dtype=np.uint64) >> np.uint64(max(0, 63 - bits))
            alpha &= np.uint64((1 << bits) - 1)
            alpha[0], alpha[1] = 0, (1 << bits) - 1
            x = alpha ^ (r.integers(0, 2, n, dtype=np.uint64))
            gen = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
            ev = fk.dpf_eval if scheme == "dpf" else fk.dcf_eval
            k0, k1 = gen(alpha, 5, bits=bits, out_bits=out_bits, seed=99)
            res.append((k0.to_bytes(), k1.to_bytes(), ev(0, k0, x).tobytes(), ev(1, k1, x).tobytes()))
            if path == AES_PATHS[0]:
                r0, _ = K.gen_bytes(scheme, alpha[:4], 5, bits, out_bits, 99)
                assert k0[:4].to_bytes() == r0
        results[path] = res
    first = results[AES_PATHS[0]]
    for path, res in results.items():
        assert res == first, path
