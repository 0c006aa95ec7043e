"""Truncation on millions of elements: every element exact.

Claim (docs/runtime.md, mpc/truncation.py): for |z| < 2^(L-2), the output is floor(z / 2^f)
exactly (no rounding bit, no failure event), so its distribution does not depend on the
public opening c."""
import pytest
import torch

from fsskernels import mpc
from fsskernels.mpc.truncation import truncate, truncate_oneway

N = 1 << 18  # 262,144 elements per case (all exact: one wrong element fails)


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


def _run(L, f, oneway, opener, seed, carry="bit"):
    z = _values(L, seed)

    def prog(s):
        Z = mpc.share(s, z if s.party == 0 else None, owner=0, frac_bits=0)
        fn = (lambda t: truncate_oneway(s, t, f, L, opener)) if oneway else (lambda t: truncate(s, t, f, L))
        out = mpc.SharedTensor(s, fn(Z.share), 0)
        return out.reveal_ring(), s.stats()["total"]

    (got, st), _ = mpc.run_local(prog, seed=seed, config=mpc.FixedPointConfig(trunc_carry=carry))
    return z, got, st


@pytest.mark.parametrize("carry", ["bit", "word"])
@pytest.mark.parametrize("L,f,oneway,opener", [(54, 16, False, 0), (64, 16, False, 0), (54, 16, True, 1), (40, 12, True, 0)])
def test_truncation_exact_on_many_elements(L, f, oneway, opener, carry):
    z, got, st = _run(L, f, oneway, opener, seed=L + f + oneway, carry=carry)
    bad = int((got != (z >> f)).sum())
    assert bad == 0, f"{bad} of {N} elements differ from floor(z/2^f)"
    # traffic: share (88 B) + reveal (2 x 8 B/el) + truncation; a "bit" carry adds one masked
    # bit per element each way
    b = carry == "bit"
    per_el = (2 * L + 2 * b) if not oneway else (L + f + 1 + 2 * b)
    bits = (N + 7) // 8 if b else 0
    trunc_bytes = st["bytes"] - 88 - 16 * N
    assert trunc_bytes == (2 * ((N * L + 7) // 8 + bits) if not oneway
                           else (N * L + 7) // 8 + (N * (f + 1) + 7) // 8 + 2 * bits)
    assert abs(trunc_bytes * 8 / N - per_el) < 1e-3


def test_published_carry_bits_are_independent_of_the_carry():
    """With a "bit" carry the parties publish e = carry xor rho. Party 1 knows z here (a test
    can), so from the opening c it computes the true carry [z_lo + r_lo >= 2^f] = [c_lo < z_lo]
    and checks that e agrees with it half of the time: rho is a one-time pad on the carry.
    (6 standard deviations: false alarm < 1e-8.)"""
    f, L, n = 16, 54, 1 << 16
    g = torch.Generator().manual_seed(11)  # test data only
    z = torch.randint(-(1 << 40), 1 << 40, (n,), generator=g, dtype=torch.int64)
    seen = {}

    def prog(s):
        Z = mpc.share(s, z if s.party == 0 else None, owner=0, frac_bits=0)
        if s.party == 1:
            orig_open, orig_x = s.open, s.exchange_ring_start

            def spy_open(tensors, bits=64, reduce=True):
                out = orig_open(tensors, bits, reduce)
                seen["c"] = out[0].clone()
                return out

            def spy_x(tensors, bits, new_round=True):
                finish = orig_x(tensors, bits, new_round)

                def done():
                    theirs = finish()
                    seen["e"] = tensors[0] ^ theirs[0]
                    return theirs
                return done
            s.open, s.exchange_ring_start = spy_open, spy_x
        return mpc.SharedTensor(s, truncate(s, Z.share, f, L), 0).reveal_ring(to=1)

    _, got = mpc.run_local(prog, seed=9)
    assert torch.equal(got, z >> f)
    z_lo, c_lo = z & ((1 << f) - 1), seen["c"] & ((1 << f) - 1)
    carry = (c_lo < z_lo).long()
    agree = (seen["e"] == carry).double().mean().item()
    assert abs(agree - 0.5) < 6 * 0.5 / n ** 0.5


def test_repeated_truncation_reveals_nothing_about_low_bits():
    """The reviewer's experiment: truncate the same z many times (here 4096 copies, each with
    a fresh mask, as 4096 runs would) and reveal the result to party 1, who also sees every
    opening c. With stochastic rounding the result's rounding bit correlated with c_lo and
    pinned z_lo down; now the result is floor(z/2^f) every time and c_lo is uniform."""
    f, L, n = 16, 54, 4096
    z_val = (3 << f) + 40000           # z_lo = 40000 of 65536
    z = torch.full((n,), z_val, dtype=torch.int64)
    seen = []

    def prog(s):
        Z = mpc.share(s, z if s.party == 0 else None, owner=0, frac_bits=0)
        if s.party == 1:
            orig = s.open

            def spy(tensors, bits=64, reduce=True):
                out = orig(tensors, bits, reduce)
                seen.append(out[0].clone())
                return out
            s.open = spy
        out = mpc.SharedTensor(s, truncate(s, Z.share, f, L), 0)
        return out.reveal_ring(to=1)

    _, got = mpc.run_local(prog, seed=7)
    assert torch.equal(got, torch.full((n,), z_val >> f, dtype=torch.int64))
    c_lo = (seen[0] & ((1 << f) - 1)).double()
    # c_lo uniform in [0, 2^f): its mean and the fraction above z_lo match a uniform variable
    # (bounds are > 6 standard deviations: false alarm < 1e-8)
    assert abs(c_lo.mean().item() / 2 ** f - 0.5) < 6 * (1 / 12) ** 0.5 / n ** 0.5
    above = (c_lo >= 40000).double().mean().item()
    assert abs(above - (1 - 40000 / 2 ** f)) < 6 * 0.5 / n ** 0.5
