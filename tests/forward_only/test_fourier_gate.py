"""The one-round cosine/sine (mpc/gates/fourier.py) against float64 cos/sin of the same
fixed-point angle, over its documented domain: ordinary angles, the period wrap of the
fixed-point ring (angles near +-2^(63-f) periods and at many periods), scale folding,
round count and bad input."""
import math

import pytest
import torch

from fsskernels import mpc
from fsskernels.mpc.gates.fourier import fourier_features
from fsskernels.mpc.tensor import SharedTensor

F = 16
BOUND = 6e-5


def _run(ring_values: torch.Tensor, scale=1.0, carry="bit"):
    """Share ring integers (scale f) as (v, 0) and evaluate the gate; party 0 gets the result."""
    def prog(s):
        sh = ring_values.clone() if s.party == 0 else torch.zeros_like(ring_values)
        s.reset_stats()
        y = fourier_features(SharedTensor(s, sh, F), scale)
        rounds = s.stats()["total"]["rounds"]
        return y.reveal(to=0), rounds

    (y, rounds), _ = mpc.run_local(prog, seed=3, config=mpc.FixedPointConfig(trunc_carry=carry))
    return y, rounds


# rounds: one opening, then the truncation of the result: one round with a "word" carry,
# two with a "bit" carry (mpc/truncation.py)
ROUNDS = {"word": 2, "bit": 3}


def _reference(ring_values: torch.Tensor, scale=1.0):
    # the angle from python ints: v mod 2^f periods is exact
    ang = torch.tensor([2.0 * math.pi * ((int(v) % (1 << F)) / 2.0 ** F) for v in ring_values.tolist()],
                       dtype=torch.float64)
    return scale * torch.cat([torch.cos(ang), torch.sin(ang)])


def test_small_angles_and_two_rounds():
    g = torch.Generator().manual_seed(0)  # test data only
    v = torch.round((torch.rand(3000, generator=g, dtype=torch.float64) * 8 - 4) * 2 ** F).to(torch.int64)
    for carry in ("bit", "word"):
        y, rounds = _run(v, carry=carry)
        assert (y - _reference(v)).abs().max() < BOUND
        assert rounds == ROUNDS[carry]


def test_period_wrap_of_the_ring():
    top = (1 << 63) - 1
    near = [top, top - 1, top - (1 << F) + 5, -(1 << 63), -(1 << 63) + 1, -(1 << 63) + (1 << (F - 1)),
            (1 << 62) + 12345, -(1 << 62) - 777]
    many = [k * (1 << F) + r for k in (10 ** 6, 3 * 10 ** 9, -(10 ** 12), 2 ** 40) for r in (0, 1, 16384, 32768, 65535)]
    v = torch.tensor(near + many, dtype=torch.int64)
    y, _ = _run(v)
    ref = _reference(v)
    assert (y - ref).abs().max() < BOUND
    # whole periods add nothing: k periods + r == r
    r = torch.tensor([0, 1, 16384, 32768, 65535], dtype=torch.int64)
    assert (_run(r)[0] - _reference(r)).abs().max() < BOUND


def test_scale_is_folded_in():
    v = torch.arange(-5000, 5000, 7, dtype=torch.int64) * 13
    y, rounds = _run(v, scale=1.0 / 48)
    # the result is at scale f: the floor of the output (2^-f) plus the scaled rounding
    assert (y - _reference(v, 1.0 / 48)).abs().max() < 2.0 ** -F + BOUND / 48
    assert rounds == ROUNDS["bit"]


@pytest.mark.parametrize("scale", [0, -1, 1.5, True, "x"])
def test_bad_scale(scale):
    def prog(s):
        fourier_features(SharedTensor(s, torch.zeros(3, dtype=torch.int64), F), scale)

    with pytest.raises(ValueError, match="scale"):
        mpc.run_local(prog, seed=1)


def test_bad_input():
    def prog(s):
        fourier_features(torch.zeros(3))

    with pytest.raises(ValueError, match="v:"):
        mpc.run_local(prog, seed=1)

    def prog2(s):
        fourier_features(SharedTensor(s, torch.zeros(3, dtype=torch.int64), 2 * F))

    with pytest.raises(ValueError, match="frac_bits"):
        mpc.run_local(prog2, seed=1)
