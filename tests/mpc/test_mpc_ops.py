"""Every operation reconstructs to the plaintext result: exactly for ring (frac_bits 0)
operations, and for fixed point within the stated bound (the truncated result differs from
floor(exact / 2^f) by 0 or +1 unit; exact = the integer product of the encoded inputs)."""
import torch

from fsskernels import mpc
from fsskernels.mpc.fixedpoint import encode

F = 16


def _data(seed, *shape, scale=4.0):
    g = torch.Generator().manual_seed(seed)  # test data only
    return (torch.rand(*shape, generator=g, dtype=torch.float64) * 2 - 1) * scale


def _ints(seed, *shape, hi=2**62):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(-hi, hi, shape, generator=g, dtype=torch.int64)


def _within_one_unit(got_ring, exact_ring, f=F):
    d = got_ring - (exact_ring >> f)
    assert bool(((d == 0) | (d == 1)).all()), f"truncation off by {d.min().item()}..{d.max().item()}"


def test_ring_ops_are_exact():
    a, b = _ints(1, 6, 5), _ints(2, 6, 5)
    m1, m2 = _ints(3, 2, 6, 5), _ints(4, 5, 3)

    def prog(s):
        A = mpc.share(s, a if s.party == 0 else None, owner=0)
        B = mpc.share(s, b if s.party == 1 else None, owner=1)
        M1 = mpc.share(s, m1 if s.party == 0 else None, owner=0)
        M2 = mpc.share(s, m2 if s.party == 1 else None, owner=1)
        return {
            "add": (A + B).reveal(), "sub": (A - B).reveal(), "neg": (-A).reveal(),
            "padd": (A + 7).reveal(), "rsub": (3 - A).reveal(), "pmul": (A * -3).reveal(),
            "ptmul": (A * torch.arange(5)).reveal(),
            "mul": (A * B).reveal(), "bmul": (A * B[:1]).reveal(),
            "matmul": (M1 @ M2).reveal(), "pubmat": A.matmul_public(m2).reveal(),
            "sum": A.sum().reveal(), "sum0": A.sum(0).reveal(), "T": A.T.reveal(),
            "reshape": A.reshape(30).reveal(), "idx": A[1:3, ::2].reveal(),
            "cat": mpc.cat([A, B], 1).reveal(), "stack": mpc.stack([A, B]).reveal(),
            "to1": A.reveal(to=1), "to0": A.reveal(to=0),
        }

    r0, r1 = mpc.run_local(prog, seed=11)
    want = {
        "add": a + b, "sub": a - b, "neg": -a, "padd": a + 7, "rsub": 3 - a, "pmul": a * -3, "ptmul": a * torch.arange(5),
        "mul": a * b, "bmul": a * b[:1], "matmul": torch.matmul(m1, m2), "pubmat": torch.matmul(a, m2),
        "sum": a.sum(), "sum0": a.sum(0), "T": a.T, "reshape": a.reshape(30), "idx": a[1:3, ::2],
        "cat": torch.cat([a, b], 1), "stack": torch.stack([a, b]),
    }
    for k, v in want.items():
        assert torch.equal(r0[k], v) and torch.equal(r1[k], v), k
    assert r0["to1"] is None and torch.equal(r1["to1"], a)
    assert r1["to0"] is None and torch.equal(r0["to0"], a)


def test_fixed_point_ops_within_bound():
    x, y = _data(5, 7, 9), _data(6, 7, 9)
    p, q = _data(7, 3, 7, 9), _data(8, 9, 4)
    ex, ey, ep, eq = (encode(t, F) for t in (x, y, p, q))

    def prog(s):
        X = mpc.share(s, x if s.party == 0 else None, owner=0)
        Y = mpc.share(s, y if s.party == 1 else None, owner=1)
        P = mpc.share(s, p if s.party == 0 else None, owner=0)
        Q = mpc.share(s, q if s.party == 1 else None, owner=1)
        Wsh = mpc.freeze(Q)
        Wo = mpc.freeze_owned(s, q if s.party == 1 else None, owner=1, shape=(9, 4))
        Wo0 = mpc.freeze_owned(s, q if s.party == 0 else None, owner=0, shape=(9, 4))
        return {
            "mul": (X * Y).reveal_ring(), "matmul": (P @ Q).reveal_ring(),
            "frozen": (P @ Wsh).reveal_ring(), "frozenT": (Q[:, :4] @ Wsh.T).reveal_ring(),
            "owned": (P @ Wo).reveal_ring(), "owned0": (P @ Wo0).reveal_ring(), "ownedT": (Q[:, :4] @ Wo.T).reveal_ring(),
            "pmul": (X * 0.375).reveal_ring(), "pubmat": X.matmul_public(q).reveal_ring(),
            "mean8": X[:, :8].mean(1).reveal_ring(), "mean": X.mean().reveal_ring(), "div": (X / 3).reveal_ring(),
            "trunc": X.trunc(4).reveal_ring(), "add": (X + Y).reveal(), "padd": (X + 1.5).reveal(),
            "sq": (X * X).reveal_ring(),
        }

    r0, r1 = mpc.run_local(prog, seed=12)
    for r in (r0, r1):
        _within_one_unit(r["mul"], ex * ey)
        _within_one_unit(r["sq"], ex * ex)
        _within_one_unit(r["matmul"], torch.matmul(ep, eq))
        for k in ("frozen", "owned", "owned0"):
            _within_one_unit(r[k], torch.matmul(ep, eq))
        _within_one_unit(r["frozenT"], eq[:, :4] @ eq.T)
        _within_one_unit(r["ownedT"], eq[:, :4] @ eq.T)
        _within_one_unit(r["pmul"], ex * encode(0.375, F))
        _within_one_unit(r["pubmat"], ex @ eq)
        _within_one_unit(r["mean8"], ex[:, :8].sum(1) << (F - 3))
        _within_one_unit(r["trunc"], ex << (F - 4), F)
        # mean over n = 63: sum * round(2^F / 63), truncated by F
        _within_one_unit(r["mean"], ex.sum() * round(2 ** F / 63))
        _within_one_unit(r["div"], ex * encode(1 / 3, F))
        assert torch.equal(r["add"], (ex + ey).double() / 2 ** F)
        assert torch.equal(r["padd"], (ex + encode(1.5, F)).double() / 2 ** F)


def test_negative_and_boundary_values():
    big = 2.0 ** 9  # products up to 2^18 < 2^(54-2-32) = 2^20
    x = torch.tensor([[-big, big - 2.0 ** -F, -1.0, 0.0, 2.0 ** -F, -(2.0 ** -F)]], dtype=torch.float64)

    def prog(s):
        X = mpc.share(s, x if s.party == 0 else None, owner=0)
        Y = mpc.share(s, x if s.party == 1 else None, owner=1)
        return (X * Y).reveal_ring(), (X * -3.25).reveal_ring()

    (m, pm), _ = mpc.run_local(prog, seed=13)
    ex = encode(x, F)
    _within_one_unit(m, ex * ex)
    _within_one_unit(pm, ex * encode(-3.25, F))


def test_batched_and_broadcast_matmul_and_mul():
    a, b = _data(20, 2, 3, 5, 4), _data(21, 3, 4, 6)
    ea, eb = encode(a, F), encode(b, F)

    def prog(s):
        A = mpc.share(s, a if s.party == 0 else None, owner=0)
        B = mpc.share(s, b if s.party == 1 else None, owner=1)
        v = mpc.share(s, b[0, :, 0] if s.party == 1 else None, owner=1)
        return (A @ B).reveal_ring(), (A * v).reveal_ring()

    (mm, bm), _ = mpc.run_local(prog, seed=14)
    _within_one_unit(mm, torch.matmul(ea, eb))
    _within_one_unit(bm, ea * eb[0, :, 0])


def test_mixed_ring_and_fixed_products_are_exact():
    x, k = _data(30, 4, 4), torch.arange(-8, 8, dtype=torch.int64).reshape(4, 4)
    ex = encode(x, F)

    def prog(s):
        X = mpc.share(s, x if s.party == 0 else None, owner=0)
        K = mpc.share(s, k if s.party == 1 else None, owner=1)
        Z = X * K
        M = X @ K
        return Z.frac_bits, Z.reveal_ring(), M.reveal_ring()

    (fb, z, m), _ = mpc.run_local(prog, seed=15)
    assert fb == F and torch.equal(z, ex * k) and torch.equal(m, ex @ k)


def test_from_public_and_share_metadata():
    def prog(s):
        P = mpc.from_public(s, torch.tensor([1.5, -2.0]))
        X = mpc.share(s, torch.tensor([3, 4]) if s.party == 0 else None, owner=0, shape=None if s.party == 0 else (2,))
        return P.reveal(), X.frac_bits, X.reveal(), s.stats()["protocols"]["share"]

    (p, fb, xv, st), _ = mpc.run_local(prog, seed=16)
    assert torch.equal(p, torch.tensor([1.5, -2.0], dtype=torch.float64)) and fb == 0
    assert torch.equal(xv, torch.tensor([3, 4])) and st["bytes"] == 88 and st["rounds"] == 1


def test_config_mul_bits_64_widens_range():
    x = torch.tensor([2.0 ** 14, -(2.0 ** 14) + 0.5])  # product 2^28 > 2^20 needs mul_bits 64
    cfg = mpc.FixedPointConfig(frac_bits=16, mul_bits=64)

    def prog(s):
        X = mpc.share(s, x if s.party == 0 else None, owner=0)
        return (X * X).reveal()

    r0, _ = mpc.run_local(prog, seed=17, config=cfg)
    assert (r0 - x.double() ** 2).abs().max() <= 2.0 ** -16
