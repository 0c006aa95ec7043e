"""The dealer's pieces reconstruct to correct correlations."""
import numpy as np
import pytest
import torch

import fsskernels
from fsskernels.mpc import MaterialError
from fsskernels.mpc.dealer import Dealer
from fsskernels.mpc.material import encode_spec, parse_piece, trunc_corr_bits


def _pair(d, seq, kind, spec):
    h = d.generate(seq, kind, encode_spec(spec))
    return [parse_piece(x).take() for x in h]


def _m(v, bits):
    return v if bits == 64 else v & np.uint64((1 << bits) - 1)


def test_triples_reconstruct():
    d = Dealer(seed=3)
    for L in (54, 64):
        (a0, b0, c0), (a1, b1, c1) = _pair(d, 0 if L == 54 else 1, "triple", (L, (5, 1), (1, 7)))
        a, b, c = _m(a0 + a1, L), _m(b0 + b1, L), _m(c0 + c1, L)
        assert np.array_equal(c, _m(a * b, L))
    (A0, B0, C0), (A1, B1, C1) = _pair(d, 2, "matmul_triple", (64, (2, 3, 4), (4, 5)))
    A, B = torch.from_numpy((A0 + A1).view(np.int64)), torch.from_numpy((B0 + B1).view(np.int64))
    assert np.array_equal((C0 + C1).view(np.int64), torch.matmul(A, B).numpy())


def test_trunc_pairs():
    d = Dealer(seed=4)
    L, f = 54, 16
    K = trunc_corr_bits(L, f)
    (r0, h0, m0), (r1, h1, m1) = _pair(d, 0, "trunc", (L, f, (1000,)))
    r = _m(r0 + r1, L)
    assert np.array_equal(h0 + h1, r >> np.uint64(f))
    assert np.array_equal(_m(m0 + m1, K), r >> np.uint64(L - 1))
    for o in (0, 1):
        p0, p1 = _pair(d, 1 + o, "trunc1", (L, f, (1000,), o))
        po, pp = (p0, p1) if o == 0 else (p1, p0)
        e, u, s = po[3], po[4], pp[3]
        assert set(np.unique(e)) <= {0, 1}
        assert np.array_equal(u, _m(e * pp[2] + s, K))


def test_frozen_masks_and_errors():
    d = Dealer(seed=5)
    L = 54
    (B0,), (B1,) = _pair(d, 0, "frozen_mask", (L, (4, 6)))
    B = _m(B0 + B1, L)
    (A0, C0), (A1, C1) = _pair(d, 1, "frozen_triple", (L, 0, (4, 6), (3, 4), 0))
    A = _m(A0 + A1, L)
    ref = torch.matmul(torch.from_numpy(A.view(np.int64)), torch.from_numpy(B.view(np.int64))).numpy().view(np.uint64)
    assert np.array_equal(_m(C0 + C1, L), _m(ref, L))
    halves = _pair(d, 2, "owner_mask", (L, (4, 6), 1))
    assert halves[0] == [] and halves[1][0].shape == (4, 6)
    (A, Cp), (Co,) = _pair(d, 3, "owner_triple", (L, 2, (4, 6), (2, 6), 1, 1))  # transposed use
    ref = torch.matmul(torch.from_numpy(A.view(np.int64)), torch.from_numpy(halves[1][0].view(np.int64)).T).numpy().view(np.uint64)
    assert np.array_equal(_m(Co + Cp, L), _m(ref, L))
    with pytest.raises(MaterialError, match="no shared frozen mask"):
        d.generate(4, "frozen_triple", encode_spec((L, 2, (4, 6), (3, 4), 0)))
    with pytest.raises(MaterialError, match="shift"):
        d.generate(5, "trunc", encode_spec((L, 60, (3,))))


def test_same_seed_same_material_any_order():
    a, b = Dealer(seed=9), Dealer(seed=9)
    x1 = a.generate(3, "trunc", encode_spec((54, 16, (10,))))
    b.generate(0, "triple", encode_spec((54, (2,), (2,))))
    assert b.generate(3, "trunc", encode_spec((54, 16, (10,)))) == x1
    assert Dealer().session_id != Dealer().session_id


def test_fss_keys():
    d = Dealer(seed=6)
    bits, ob, n, beta = 16, 8, 64, 5
    (k0, r0), (k1, r1) = _pair(d, 0, "dcf", (bits, ob, n, beta))
    r = _m(r0 + r1, bits)
    kb0, kb1 = fsskernels.KeyBatch.from_bytes(k0), fsskernels.KeyBatch.from_bytes(k1)
    x = (r + np.uint64(3)) & np.uint64(0xFFFF)
    x[::2] = (r[::2] - np.uint64(1)) & np.uint64(0xFFFF)
    y = _m(fsskernels.dcf_eval(0, kb0, x) + fsskernels.dcf_eval(1, kb1, x), ob)
    assert np.array_equal(y, np.where(x < r, beta, 0).astype(np.uint64))
    (k0, _), (k1, _) = _pair(d, 1, "dpf", (bits, ob, n, beta))
    assert fsskernels.KeyBatch.from_bytes(k0).party == 0 and fsskernels.KeyBatch.from_bytes(k1).party == 1


def test_fss_keys_through_sessions_are_one_time_and_correct():
    from fsskernels import mpc

    bits, ob = 12, 1

    def prog(s):
        k, r = mpc.fss_keys(s, "dcf", (4, 8), bits, ob)
        k2, _ = mpc.fss_keys(s, "dpf", (3,), bits, 8, beta=7)
        return k, r, k2.count if hasattr(k2, "count") else len(k2)

    (k0, r0, _), (k1, r1, _) = mpc.run_local(prog, seed=21)
    r = ((r0 + r1) & ((1 << bits) - 1)).reshape(-1).numpy().astype(np.uint64)
    x = (r + np.uint64(5)) & np.uint64((1 << bits) - 1)
    x[:16] = (r[:16] + np.uint64((1 << bits) - 2)) & np.uint64((1 << bits) - 1)  # = r - 2 mod 2^bits
    y = (fsskernels.dcf_eval(0, k0, x) + fsskernels.dcf_eval(1, k1, x)) & np.uint64(1)
    assert np.array_equal(y, (x < r).astype(np.uint64))
    (a0, _), (a1, _) = mpc.dealer_fss_keys(Dealer(seed=1), 0, "dpf", (5,), 8, 8, beta=3)
    assert a0.party == 0 and a1.party == 1
    with pytest.raises(ValueError, match="beta"):
        mpc.dealer_fss_keys(Dealer(seed=1), 0, "dcf", (5,), 8, 1, beta=2)
