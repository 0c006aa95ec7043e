"""The FSS primitives on raw shares, exhaustively on small rings: msb, truncate-reduce,
lookup table; and the openings' distribution (uniform whatever the secret)."""
import torch

from fsskernels import mpc
from fsskernels.mpc.gates.primitives import lut, msb, trunc_reduce

from gate_helpers import shared


def _ring(s, v):
    return shared(s, v, frac_bits=0)


def test_msb_exhaustive_8_bits_and_random_64_bits(run2):
    small = torch.arange(256, dtype=torch.int64)
    g = torch.Generator().manual_seed(1)  # test data only
    big = torch.randint(-(1 << 62), 1 << 62, (2000,), generator=g, dtype=torch.int64) * 2
    big[:6] = torch.tensor([0, -1, 1, -(1 << 63), (1 << 63) - 1, 1 << 62])

    def prog(s):
        a = mpc.SharedTensor(s, msb(s, _ring(s, small).share, 8), 0).reveal_ring()
        b = mpc.SharedTensor(s, msb(s, _ring(s, big).share, 64), 0).reveal_ring()
        c = mpc.SharedTensor(s, msb(s, _ring(s, small - 128).share, 2), 0).reveal_ring()
        return a, b, c

    a, b, c = run2(prog)
    assert torch.equal(a, (small >> 7) & 1)
    assert torch.equal(b, (big < 0).to(torch.int64))
    assert torch.equal(c, ((small - 128) >> 1) & 1)


def test_trunc_reduce_exhaustive(run2):
    x = torch.arange(1 << 9, dtype=torch.int64) + (torch.arange(1 << 9, dtype=torch.int64) << 20)  # high bits ignored

    def prog(s):
        out = []
        for k, n in [(3, 6), (1, 8), (8, 1), (4, 5)]:
            t = trunc_reduce(s, _ring(s, x).share, k, n)
            out.append(mpc.SharedTensor(s, t, 0).reveal_ring() & ((1 << n) - 1))
        return out

    got = run2(prog)
    for (k, n), g in zip([(3, 6), (1, 8), (8, 1), (4, 5)], got):
        assert torch.equal(g, ((x & ((1 << (k + n)) - 1)) >> k) & ((1 << n) - 1)), (k, n)


def test_lut_exhaustive_6_bits(run2):
    g = torch.Generator().manual_seed(2)  # test data only
    tables = torch.randint(-(1 << 62), 1 << 62, (3, 64), generator=g, dtype=torch.int64)
    idx = torch.arange(64, dtype=torch.int64).repeat(3)

    def prog(s):
        y = lut(s, _ring(s, idx).share, 6, tables)
        return mpc.SharedTensor(s, y, 0).reveal_ring()

    got = run2(prog)
    assert torch.equal(got, tables[:, idx])


def test_openings_are_uniform_whatever_the_secret(run2):
    """Every opened value is x + r for a fresh uniform r: for a constant secret the openings
    of an 8-bit comparison are uniform over 256 values (chi-square with 255 degrees of
    freedom; the bound 450 is ~9 standard deviations above the mean: false alarm < 1e-9)."""
    n = 1 << 15
    x = torch.full((n,), 77, dtype=torch.int64)
    seen = []

    def prog(s):
        X = _ring(s, x)
        if s.party == 1:
            orig = s.exchange_ring_start

            def spy(tensors, bits, new_round=True):
                wait = orig(tensors, bits, new_round)

                def done():
                    theirs = wait()
                    seen.append(((tensors[0] + theirs[0]) & ((1 << bits) - 1)).clone())
                    return theirs
                return done
            s.exchange_ring_start = spy
        msb(s, X.share, 8)
        return 0

    run2(prog)
    (c,) = seen
    counts = torch.bincount(c, minlength=256).double()
    chi2 = ((counts - n / 256) ** 2 / (n / 256)).sum().item()
    assert chi2 < 450, chi2
