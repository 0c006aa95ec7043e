"""Truncation on millions of elements: every element within the stated bound.

Claim (docs/runtime.md): for |z| < 2^(L-2), the output is floor(z / 2^f) + b with b in {0, 1}
(no failure event at all), and Pr[b = 1] = (z mod 2^f) / 2^f (unbiased stochastic rounding)."""
import pytest
import torch

from fsskernels import mpc
from fsskernels.mpc.truncation import truncate, truncate_oneway

N = 1 << 21  # 2,097,152 elements per case


def _values(L, seed):
    g = torch.Generator().manual_seed(seed)  # test data only
    lim = 1 << (L - 2)
    z = torch.randint(-lim, lim, (N,), generator=g, dtype=torch.int64) if L < 64 else \
        torch.randint(-(1 << 62), 1 << 62, (N,), generator=g, dtype=torch.int64)
    small = torch.randint(-(1 << 20), 1 << 20, (N // 4,), generator=g, dtype=torch.int64)
    z[: N // 4] = small  # typical fixed-point magnitudes
    edges = torch.tensor([lim - 1, -lim, -lim + 1, lim - 2, 0, 1, -1, (1 << 16) - 1, -(1 << 16), 1 << 15, -(1 << 15)])
    z[N // 4 : N // 4 + len(edges)] = edges
    return z


def _run(L, f, oneway, opener, seed):
    z = _values(L, seed)

    def prog(s):
        Z = mpc.share(s, z if s.party == 0 else None, owner=0, frac_bits=0)
        fn = (lambda t: truncate_oneway(s, t, f, L, opener)) if oneway else (lambda t: truncate(s, t, f, L))
        out = mpc.SharedTensor(s, fn(Z.share), 0)
        return out.reveal_ring(), s.stats()["total"]

    (got, st), _ = mpc.run_local(prog, seed=seed)
    return z, got, st


@pytest.mark.parametrize("L,f,oneway,opener", [(54, 16, False, 0), (64, 16, False, 0), (54, 16, True, 1), (40, 12, True, 0)])
def test_truncation_bound_on_2m_elements(L, f, oneway, opener):
    z, got, st = _run(L, f, oneway, opener, seed=L + f + oneway)
    d = got - (z >> f)
    bad = int(((d != 0) & (d != 1)).sum())
    assert bad == 0, f"{bad} of {N} elements outside floor(z/2^f) + {{0, 1}}"
    # unbiased rounding: mean of the rounding bit matches the mean fractional part
    frac = (z & ((1 << f) - 1)).double() / 2 ** f
    assert abs(d.double().mean().item() - frac.mean().item()) < 3e-3
    lo = frac < 0.25
    assert d[lo].double().mean().item() < 0.2 and d[frac > 0.75].double().mean().item() > 0.8
    # traffic: share (88 B) + reveal (2 x 8 B/el) + truncation
    per_el = (2 * L) if not oneway else (L + 1)
    trunc_bytes = st["bytes"] - 88 - 16 * N
    assert trunc_bytes == (2 * ((N * L + 7) // 8) if not oneway else (N * L + 7) // 8 + (N + 7) // 8)
    assert abs(trunc_bytes * 8 / N - per_el) < 1e-3


def test_half_way_values_round_up_half_the_time():
    f, L = 16, 54
    z = torch.full((1 << 20,), (5 << f) + (1 << (f - 1)), dtype=torch.int64)
    z[1::2] = -z[1::2]

    def prog(s):
        Z = mpc.share(s, z if s.party == 1 else None, owner=1, frac_bits=0)
        return mpc.SharedTensor(s, truncate(s, Z.share, f, L), 0).reveal_ring()

    got, _ = mpc.run_local(prog, seed=99)
    d = got - (z >> f)
    assert set(d.unique().tolist()) == {0, 1}
    assert abs(d.double().mean().item() - 0.5) < 5e-3
