"""The keys of one party alone do not depend on alpha.

For each scheme/party we generate 4000 keys with alpha = 0 and 4000 with alpha = 2^32 - 1
(fixed, different seeds) and compare, bit position by bit position of one key's body, the
frequency of ones in the two samples:

* per-position test: Hoeffding's inequality gives P(|p_A - p_B| >= t) <= 2 exp(-n t^2) for two
  independent samples of n keys with equal means, whatever the mean; with t chosen so that the
  Bonferroni sum over all P positions is 1e-7, a false alarm has probability < 1e-6 (rigorous).
* aggregate test: sum over positions of the squared two-proportion z statistics, against the
  chi-square(P) quantile at 1e-7 (Wilson-Hilferty), which catches a small bias spread over many
  positions.

Bits that must be zero (root low 2 bits, value bits above out_bits) are skipped; the CW
control bits (low 2 bits of each CW block) are tested on their own. Sanity checks show both
tests do flag a deliberately biased sample.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import fsskernels as fk
from reference import keyformat_ref as K

N = 4000
BITS = 32
ALPHA_FA = 1e-7  # per test; the Hoeffding/Bonferroni bound keeps the real rate below this
Z_AGG = 5.199    # one-sided standard normal quantile at 1e-7


def body_fields(kb) -> dict:
    """Per-key uint8 arrays of each field of a batch's body (tiles of 32 keys undone)."""
    return K.fields_np(kb.to_bytes())


def bits_of(a: np.ndarray) -> np.ndarray:
    """(N, ...bytes) uint8 -> (N, nbits) 0/1, bit j of byte k at column 8k + j (LE)."""
    return np.unpackbits(a.reshape(a.shape[0], -1), axis=1, bitorder="little")


def features(kb) -> tuple[np.ndarray, np.ndarray]:
    """(data bits, CW control bits) of every key, must-be-zero bits removed."""
    f = body_fields(kb)
    m = kb.out_bits
    parts = []
    parts.append(bits_of(f["roots"])[:, 2:])                       # root low 2 bits are zero
    cwb = np.unpackbits(f["cw"], axis=2, bitorder="little")         # (N, L, 128)
    parts.append(cwb[:, :, 2:].reshape(len(kb), -1))                # seed part of each CW
    tbits = cwb[:, :, :2].reshape(len(kb), -1)                      # tCW0, tCW1 per level
    if "vcw" in f:
        vb = np.unpackbits(f["vcw"], axis=2, bitorder="little")[:, :, :m]
        parts.append(vb.reshape(len(kb), -1))
        parts.append(bits_of(f["fcw"])[:, :m])
    else:
        w = 1
        while w < m:
            w *= 2
        fb = bits_of(f["fcw"]).reshape(len(kb), 128 // w, w)[:, :, :m]
        parts.append(fb.reshape(len(kb), -1))
    return np.concatenate(parts, axis=1), tbits


def two_sample(a: np.ndarray, b: np.ndarray) -> dict:
    """Per-position (Hoeffding + Bonferroni) and aggregate (chi-square) two-sample tests on 0/1
    columns. Returns the statistics and whether each test flags a difference."""
    assert a.shape[1] == b.shape[1]
    n = min(a.shape[0], b.shape[0])
    a, b = a[:n], b[:n]
    P = a.shape[1]
    pa = a.mean(axis=0, dtype=np.float64)
    pb = b.mean(axis=0, dtype=np.float64)
    diff = np.abs(pa - pb)
    t = math.sqrt(math.log(2 * P / ALPHA_FA) / n)
    pbar = (pa + pb) / 2
    var = np.maximum(pbar * (1 - pbar) * 2 / n, 1e-12)
    chi = float(np.sum((pa - pb) ** 2 / var))
    c = 2 / (9 * P)
    chi_thr = P * (1 - c + Z_AGG * math.sqrt(c)) ** 3
    return dict(P=P, max_diff=float(diff.max()), t=t, worst=int(diff.argmax()), chi=chi, chi_thr=chi_thr,
                position_flag=bool(diff.max() >= t), aggregate_flag=bool(chi >= chi_thr))


CONFIGS = [("dpf", 64), ("dpf", 1), ("dcf", 64), ("dcf", 1), ("dcf", 20)]


def gen_sample(scheme, out_bits, alpha_value, seed):
    gen = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
    rng = np.random.default_rng(seed)
    beta = (rng.integers(0, 2**63, N, dtype=np.uint64) | np.uint64(1)) & np.uint64((1 << out_bits) - 1)
    alpha = np.full(N, alpha_value, dtype=np.uint64)
    return gen(alpha, beta, bits=BITS, out_bits=out_bits, seed=seed)


@pytest.fixture(scope="module")
def samples():
    cache = {}

    def get(scheme, out_bits):
        key = (scheme, out_bits)
        if key not in cache:
            lo = gen_sample(scheme, out_bits, 0, seed=1000 + out_bits)
            hi = gen_sample(scheme, out_bits, (1 << BITS) - 1, seed=2000 + out_bits)
            cache[key] = (lo, hi)
        return cache[key]

    return get


@pytest.mark.parametrize("scheme,out_bits", CONFIGS)
@pytest.mark.parametrize("party", [0, 1])
def test_keys_do_not_depend_on_alpha(samples, scheme, out_bits, party):
    lo, hi = samples(scheme, out_bits)
    da, ta = features(lo[party])
    db, tb = features(hi[party])
    r = two_sample(da, db)
    assert not r["position_flag"] and not r["aggregate_flag"], r
    rt = two_sample(ta, tb)
    assert not rt["position_flag"] and not rt["aggregate_flag"], rt
    # The bits look uniform too (a constant bit would pass a two-sample test if both samples
    # had it): every position's frequency is within the Hoeffding bound of 1/2.
    for x in (da, ta):
        p = x.mean(axis=0, dtype=np.float64)
        assert np.abs(p - 0.5).max() < math.sqrt(math.log(2 * x.shape[1] / ALPHA_FA) / (2 * N))


def test_detects_a_biased_sample(samples):
    """The same tests flag dependence: (1) eight positions biased to 1/4 ones; (2) every bit
    cleared with probability 0.1 (a diffuse bias that the aggregate test sees)."""
    lo, hi = samples("dpf", 64)
    da, _ = features(lo[0])
    db, _ = features(hi[0])
    rng = np.random.default_rng(5)
    biased = db.copy()
    biased[:, 100:108] &= rng.integers(0, 2, size=(N, 8), dtype=np.uint8)
    r = two_sample(da, biased)
    assert r["position_flag"] and r["aggregate_flag"], r
    diffuse = db & (rng.random(db.shape) >= 0.1).astype(np.uint8)
    r = two_sample(da, diffuse)
    assert r["aggregate_flag"], r


def test_detects_alpha_leak_in_value_bits(samples):
    """A sample in which one value bit equals alpha's lowest bit (a one-bit leak) is flagged."""
    lo, hi = samples("dcf", 64)
    da, _ = features(lo[0])
    db, _ = features(hi[0])
    leak = db.copy()
    leak[:, -1] = 1  # the FCW's top bit := low bit of alpha (1 here, 0 would be for alpha = 0)
    r = two_sample(da, leak)
    assert r["position_flag"], r
