"""The fused VAES-256 tree walks (csrc/cpu/walk_vaes256.cpp, gen_vaes256.cpp) against the
generic walks and the pure-Python reference (docs/kernels.md sections 2-4).

On the `vaes256` AES path, DPF/DCF key generation walks groups of 8 keys and evaluation groups
of 32 (DPF) / 16 (DCF) keys fused in ymm registers; on the `aes-ni` path every walk is the
generic per-key code of dpf.cpp / dcf.cpp. The same seeded key generation must give the same
key bytes on both paths, and evaluation the same outputs for both parties, at every input width
(1..64, including the early-termination widths), output width (1, 2..63, 64) and at key counts
with full and partial groups (the partial groups take the generic walks on both paths). Small
cases are also checked byte for byte against the pycryptodome reference. Skipped on CPUs
without VAES (there the path does not exist) or without AES-NI (nothing to compare with).
"""
from __future__ import annotations

import numpy as np
import pytest

import fsskernels as fk
from reference import keyformat_ref as K
from kernel_helpers import mask, near_points, rand_u64, reconstruct, special_alphas

PATHS = list(fk._C.available_aes_paths())
pytestmark = pytest.mark.skipif(
    "vaes256" not in PATHS or "aes-ni" not in PATHS,
    reason="the VAES-256 walks need a CPU with VAES + AVX2 (and AES-NI to compare with); "
    f"this CPU offers {PATHS}")

GEN = {"dpf": fk.dpf_gen, "dcf": fk.dcf_gen}
EVAL = {"dpf": fk.dpf_eval, "dcf": fk.dcf_eval}
# Input widths: 1..8 (a DPF with early termination has 0..1 tree levels there), the widths
# around 2^7 slots per leaf, and wide ones.
BITS = [1, 2, 3, 6, 7, 8, 9, 13, 16, 20, 31, 32, 33, 48, 63, 64]
OUT_BITS = [1, 2, 3, 7, 8, 9, 16, 17, 31, 32, 33, 40, 63, 64]


def run_path(path, scheme, alpha, beta, bits, out_bits, x, seed):
    """Key bytes of both parties and both parties' outputs on one AES path."""
    fk._C.set_aes_path(path)
    k0, k1 = GEN[scheme](alpha, beta, bits=bits, out_bits=out_bits, seed=seed)
    return (k0.to_bytes(), k1.to_bytes(), EVAL[scheme](0, k0, x).tolist(), EVAL[scheme](1, k1, x).tolist())


def expected(scheme, x, alpha, beta, out_bits):
    hit = x == alpha if scheme == "dpf" else x < alpha
    return np.where(hit, np.asarray(beta, dtype=np.uint64) & mask(out_bits), np.uint64(0))


def check_same(scheme, bits, out_bits, n, rng, seed):
    alpha = special_alphas(rng, n, bits)
    beta = rand_u64(rng, n, out_bits)
    x = near_points(rng, alpha, bits)
    fused = run_path("vaes256", scheme, alpha, beta, bits, out_bits, x, seed)
    generic = run_path("aes-ni", scheme, alpha, beta, bits, out_bits, x, seed)
    for what, a, b in zip(("key0 bytes", "key1 bytes", "party-0 eval", "party-1 eval"), fused, generic):
        assert a == b, (scheme, bits, out_bits, n, what)
    got = reconstruct(np.array(fused[2], dtype=np.uint64), np.array(fused[3], dtype=np.uint64), out_bits)
    assert np.array_equal(got, expected(scheme, x, alpha, beta, out_bits)), (scheme, bits, out_bits, n)


@pytest.mark.parametrize("scheme", ["dpf", "dcf"])
@pytest.mark.parametrize("bits", BITS)
def test_same_keys_and_outputs_as_generic_walks(scheme, bits, restore_aes_path):
    # 72 keys: gen groups 16, 16, 16, 16, 8 (all fused); DPF eval 2 fused walks of 32 and 8
    # generic keys; DCF eval 4 fused walks of 16 and 8 generic keys. 77: a ragged last group.
    rng = np.random.default_rng(1000 + bits + (0 if scheme == "dpf" else 500))
    for i, out_bits in enumerate(OUT_BITS):
        check_same(scheme, bits, out_bits, 72 if i % 2 == 0 else 77, rng, seed=bits * 100 + out_bits)


@pytest.mark.parametrize("scheme,bits,out_bits", [("dpf", 12, 8), ("dcf", 20, 1), ("dcf", 33, 17), ("dcf", 64, 64)])
def test_key_counts(scheme, bits, out_bits, restore_aes_path):
    # Counts below, at and above the group sizes 8 / 16 / 32, the 32-key tile and the
    # 2048-key thread chunk.
    rng = np.random.default_rng(7 + bits + out_bits)
    for n in (1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 48, 63, 64, 65, 96, 2048 + 48, 2 * 2048 + 37):
        check_same(scheme, bits, out_bits, n, rng, seed=n)


REF_CASES = [("dpf", 1, 64), ("dpf", 8, 1), ("dpf", 9, 16), ("dpf", 20, 2), ("dpf", 64, 63),
             ("dcf", 1, 1), ("dcf", 7, 2), ("dcf", 16, 1), ("dcf", 24, 33), ("dcf", 40, 8), ("dcf", 64, 64),
             ("dcf", 64, 1)]


@pytest.mark.parametrize("scheme,bits,out_bits", REF_CASES)
def test_vaes256_matches_reference(scheme, bits, out_bits, restore_aes_path):
    # 40 keys: fused key generation for all of them, one fused DPF walk (32 keys) and two fused
    # DCF walks (16 keys each) in evaluation.
    rng = np.random.default_rng(31 * bits + out_bits)
    n = 40
    alpha = special_alphas(rng, n, bits)
    beta = rand_u64(rng, n, out_bits)
    if out_bits == 1:
        beta[3] = 0  # one-bit DCF with beta = 0: the comparison with 0
    x = near_points(rng, alpha, bits)
    seed = (1 << 100) + 17 * bits + out_bits
    b0, b1, y0, y1 = run_path("vaes256", scheme, alpha, beta, bits, out_bits, x, seed)
    r0, r1 = K.gen_bytes(scheme, alpha, beta, bits, out_bits, seed)
    assert b0 == r0 and b1 == r1
    assert y0 == K.eval_bytes(0, r0, x) and y1 == K.eval_bytes(1, r1, x)


def test_scalar_beta_and_all_inputs_of_a_small_domain(restore_aes_path):
    # Every x of an 8-bit domain against 64 keys (scalar beta), both schemes, three widths.
    rng = np.random.default_rng(5)
    alpha = special_alphas(rng, 64, 8)
    for scheme in ("dpf", "dcf"):
        for out_bits in (1, 5, 64):
            outs = {}
            for path in ("vaes256", "aes-ni"):
                fk._C.set_aes_path(path)
                k0, k1 = GEN[scheme](alpha, 3, bits=8, out_bits=out_bits, seed=out_bits)
                ys = []
                for xv in range(256):
                    x = np.full(64, xv, dtype=np.uint64)
                    ys.append(reconstruct(EVAL[scheme](0, k0, x), EVAL[scheme](1, k1, x), out_bits))
                outs[path] = (k0.to_bytes(), k1.to_bytes(), np.stack(ys))
            assert outs["vaes256"][0] == outs["aes-ni"][0] and outs["vaes256"][1] == outs["aes-ni"][1]
            assert np.array_equal(outs["vaes256"][2], outs["aes-ni"][2])
            xs = np.arange(256, dtype=np.uint64)[:, None]
            want = expected(scheme, xs, alpha[None, :], np.uint64(3), out_bits)
            assert np.array_equal(outs["vaes256"][2], want), (scheme, out_bits)
