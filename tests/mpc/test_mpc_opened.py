"""Beaver masks reused for values opened before (mpc/opened.py): results bit-identical to
one-time triples and equal to float math; traffic is exactly the operands not opened before
in that ring; a mask never serves a second value (in-place changes reopen); the dealer's
regenerated masks equal the parties' (numpy reference) and bad references are refused."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from fsskernels import mpc
from fsskernels.mpc.dealer import Dealer
from fsskernels.mpc.errors import MaterialError
from fsskernels.mpc.material import encode_spec, parse_piece
from fsskernels.mpc.opened import ALIAS_A, FRESH, SLOT_B, T_GEN, T_USE

L = 54
M64 = (1 << 64) - 1


def _data(seed, *shape, scale=1.0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * scale  # csprng-ok: public test data


Q, K, V = _data(1, 2, 3, 8, 4), _data(2, 2, 3, 8, 4), _data(3, 2, 3, 8, 4)
W = _data(4, 4)
Z = _data(5, 4, 6)


def _attention_like(s):
    """The reuse patterns of the model: attention forward/backward, a square, a broadcast
    weight used twice, a flattened view transposed (LoRA's gradient), a value reused across
    rings only where the ring matches."""
    q, k, v = (mpc.share(s, t if s.party == 0 else None, owner=0, shape=t.shape) for t in (Q, K, V))
    w = mpc.share(s, W if s.party == 1 else None, owner=1, shape=W.shape)
    z = mpc.share(s, Z if s.party == 1 else None, owner=1, shape=Z.shape)
    sc = q @ k.transpose(-1, -2)                  # q, k opened
    o = sc @ v                                    # sc, v opened
    dq = sc @ k                                   # both reused: no message
    dk = sc.transpose(-1, -2) @ q                 # both reused (sc transposed)
    dv = sc.T @ o                                 # sc reused, o opened
    sq = q * q                                    # q reused in the elementwise ring too
    qw, qw2 = q * w, (q * w) * w                  # w opened once, reused
    flat = q.reshape(-1, 4)
    g = flat.T @ flat                             # a reshape, transposed, of an opened value
    lin = q.reshape(-1, 4) @ z                    # z opened, q reused through a reshape
    return [t.reveal_ring() for t in (sc, o, dq, dk, dv, sq, qw, qw2, g, lin)], s.stats()["total"]


def _plain():
    sc = Q @ K.transpose(-1, -2)
    o = sc @ V
    flat = Q.reshape(-1, 4)
    return [sc, o, sc @ K, sc.transpose(-1, -2) @ Q, sc.transpose(-1, -2) @ o, Q * Q, Q * W, Q * W * W,
            flat.T @ flat, flat @ Z]


def _reveal_float(ring, f=16):
    return ring.to(torch.float64) / 2.0 ** f


def test_results_bit_identical_to_one_time_triples_and_close_to_float():
    on, _ = mpc.run_local(_attention_like, seed=2, config=mpc.FixedPointConfig(mask_reuse=True))
    off, _ = mpc.run_local(_attention_like, seed=2, config=mpc.FixedPointConfig(mask_reuse=False))
    (r_on, t_on), (r_off, t_off) = on, off
    for a, b in zip(r_on, r_off):
        assert torch.equal(a, b)
    for got, want in zip(r_on, _plain()):
        assert torch.allclose(_reveal_float(got), want, atol=2e-3, rtol=1e-3)
    assert t_on["bytes"] < t_off["bytes"] and t_on["rounds"] < t_off["rounds"]


def _traffic(ops, reuse=True):
    """Bytes party 0 sends in the "mul"/"matmul" label of each op (openings only), with rounds."""
    def prog(s):
        X = _data(7, 8, 16)
        x, y, u = (mpc.share(s, X * c if s.party == 0 else None, owner=0, shape=X.shape) for c in (1.0, 0.5, 0.25))
        out = []
        for op in ops:
            s.reset_stats()
            op(x, y, u)
            st = s.stats()["protocols"]
            lab = next((k for k in ("mul", "matmul") if k in st), None)
            out.append((st[lab]["bytes_sent"], st[lab]["rounds"]) if lab else (0, 0))
        return out

    return mpc.run_local(prog, seed=3, config=mpc.FixedPointConfig(mask_reuse=reuse))[0]


def test_traffic_is_exactly_the_operands_not_opened_before():
    n = 8 * 16
    pk = lambda cnt, bits=L: (cnt * bits + 7) // 8  # noqa: E731
    got = _traffic([lambda x, y, u: x * y,          # both fresh
                    lambda x, y, u: x * u,          # x reused
                    lambda x, y, u: y * x,          # both reused: no message, no round
                    lambda x, y, u: x @ y.T,        # matmul in the same ring: both reused
                    lambda x, y, u: u.T @ u,        # u reused, transposed on the left
                    ])
    assert got == [(pk(2 * n), 1), (pk(n), 1), (0, 0), (0, 0), (0, 0)]
    off = _traffic([lambda x, y, u: x * y, lambda x, y, u: x * u], reuse=False)
    assert off == [(pk(2 * n), 1), (pk(2 * n), 1)]


def test_a_square_opens_once_and_64_bit_products_keep_their_own_masks():
    n = 8 * 16
    got = _traffic([lambda x, y, u: x * x,
                    lambda x, y, u: x * y,
                    ])
    assert got[0] == ((n * L + 7) // 8, 1)
    assert got[1] == ((n * L + 7) // 8, 1)  # only y: x was opened by the square


def test_an_in_place_change_reopens_the_value():
    X = _data(8, 4, 6)
    Y = _data(9, 4, 6)

    def prog(s):
        x = mpc.share(s, X if s.party == 0 else None, owner=0, shape=X.shape)
        y = mpc.share(s, Y if s.party == 1 else None, owner=1, shape=Y.shape)
        xt = x.T
        first = (x * y).reveal()
        x[1] = y[2]                                  # same storage: x and its view xt change
        s.reset_stats()
        second = (x * y).reveal()
        sent = s.stats()["protocols"]["mul"]["bytes_sent"]
        third = (xt @ y).reveal()
        return first, second, third, sent

    (first, second, third, sent), _ = mpc.run_local(prog, seed=4)
    X2 = X.clone()
    X2[1] = Y[2]
    assert torch.allclose(first, X * Y, atol=1e-3)
    assert torch.allclose(second, X2 * Y, atol=1e-3)
    assert torch.allclose(third, X2.T @ Y, atol=1e-3)
    assert sent == (24 * L + 7) // 8  # x opened again (y's mask is still good)


def _piece_arrays(dealer, seq, kind, spec):
    halves = dealer.generate(seq, kind, encode_spec(spec))
    return [parse_piece(h).arrays for h in halves]


def _sum(a0, a1, bits=L):
    return (a0.astype(object) + a1.astype(object)) % (1 << bits)


def test_dealer_regenerates_the_referenced_mask_numpy_reference():
    d = Dealer(5)
    sa, sb = (3, 4), (4, 2)
    p0, p1 = _piece_arrays(d, 0, "rmatmul_triple", (L, sa, sb, *FRESH, *FRESH))
    A, B0 = _sum(p0[0], p1[0]), _sum(p0[1], p1[1])
    assert np.array_equal(_sum(p0[2], p1[2]), (A.dot(B0)) % (1 << L))
    # piece 1: the left operand is A transposed (flags T_USE), b fresh
    q0, q1 = _piece_arrays(d, 1, "rmatmul_triple", (L, (4, 3), (3, 5), 1, T_USE, sa, *FRESH))
    assert len(q0) == 2  # only b and C travel
    B1 = _sum(q0[0], q1[0])
    assert np.array_equal(_sum(q0[1], q1[1]), (A.T.dot(B1)) % (1 << L))
    # piece 2: elementwise, a = piece 0's b reshaped to (2, 4) (slot b), b fresh
    r0, r1 = _piece_arrays(d, 2, "rtriple", (L, (2, 4), (2, 4), 2, SLOT_B, sb, *FRESH))
    Bn = _sum(r0[0], r1[0])
    assert np.array_equal(_sum(r0[1], r1[1]), (B0.reshape(2, 4) * Bn) % (1 << L))
    # piece 3: a square of a fresh mask: one mask travels, C = a * a
    s0, s1 = _piece_arrays(d, 3, "rtriple", (L, (5,), (5,), *FRESH, 0, ALIAS_A, ()))
    assert len(s0) == 2
    a = _sum(s0[0], s1[0])
    assert np.array_equal(_sum(s0[1], s1[1]), (a * a) % (1 << L))
    # piece 4: generated transposed (T_GEN) then used as a reshape: A^T (4, 3) -> (2, 6)
    t0, t1 = _piece_arrays(d, 4, "rtriple", (L, (2, 6), (2, 6), 4, T_GEN, sa, *FRESH))
    Bt = _sum(t0[0], t1[0])
    assert np.array_equal(_sum(t0[1], t1[1]), (A.T.reshape(2, 6) * Bt) % (1 << L))


@pytest.mark.parametrize("spec, match", [
    ((L, (3,), (3,), 1, 0, (3,), *FRESH), "not served"),          # piece -1
    ((L, (3,), (3,), 0, T_GEN, (), *FRESH), "fresh mask"),        # flags on a fresh mask
    ((L, (3,), (3,), *FRESH, 0, ALIAS_A | T_USE, ()), "square"),  # a square with flags
    ((L, (3, 1), (1, 3), *FRESH, 0, ALIAS_A, ()), "square"),    # a square of different shapes
    ((L, (3,), (3,), 0, 64, (), *FRESH), "bad mask reference"),   # unknown flag bit
])
def test_dealer_refuses_bad_references(spec, match):
    d = Dealer(7)
    with pytest.raises(MaterialError, match=match):
        d.generate(0, "rtriple", encode_spec(spec))


def test_dealer_refuses_unserved_and_misshapen_references():
    d = Dealer(8)
    d.generate(0, "rtriple", encode_spec((L, (3, 4), (3, 4), *FRESH, *FRESH)))
    with pytest.raises(MaterialError, match="not served"):
        d.generate(5, "rtriple", encode_spec((L, (3, 4), (3, 4), 1, 0, (3, 4), *FRESH)))  # piece 4
    with pytest.raises(MaterialError, match="does not fit"):
        d.generate(1, "rtriple", encode_spec((L, (5,), (5,), 1, 0, (3, 4), *FRESH)))
    with pytest.raises(MaterialError, match="square"):
        d.generate(2, "rmatmul_triple", encode_spec((L, (3, 3), (3, 3), *FRESH, 0, ALIAS_A, ())))


def test_config_validates_mask_reuse():
    with pytest.raises(ValueError, match="mask_reuse"):
        mpc.FixedPointConfig(mask_reuse="yes")
