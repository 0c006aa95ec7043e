"""reciprocal, rsqrt, sqrt, log against float64 on log-uniform inputs over their documented
domains (plus the edges and values outside, which saturate at the domain's ends), and the
backward of reciprocal and rsqrt against torch autograd."""
import pytest
import torch

import fsskernels.mpc.functional as MF

from gate_helpers import shared
from gate_model import dec, enc

DOMAINS = {"reciprocal": (-5, 10), "rsqrt": (-10, 10), "sqrt": (-10, 14), "log": (-10, 14)}
REF = {"reciprocal": lambda x: 1 / x, "rsqrt": torch.rsqrt, "sqrt": torch.sqrt, "log": torch.log}


def _inputs(lo, hi, n=3000):
    g = torch.Generator().manual_seed(lo * 100 + hi)  # test data only
    x = 2.0 ** (torch.rand(n, generator=g, dtype=torch.float64) * (min(hi + 1, 14.9) - lo + 1) + lo - 1)
    x = torch.cat([x, torch.tensor([2.0 ** lo, 2.0 ** hi - 2 ** -16, 1.0, 2.0, 3.0, 1.0 - 2 ** -16, 2 ** -16])])
    return dec(enc(x))


@pytest.mark.parametrize("name", list(DOMAINS))
def test_normalised_gates_relative_error(run2, name):
    lo, hi = DOMAINS[name]
    x = _inputs(lo, hi)

    def prog(s):
        return getattr(MF, name)(shared(s, x)).reveal()

    y = run2(prog)
    ref = REF[name](x.clamp(2.0 ** lo, 2.0 ** hi - 2 ** -16))
    err = (y - ref).abs()
    if name == "log":
        assert err.max().item() <= 1e-4
        return
    # relative 1e-3 wherever the output has >= 11 significant bits at 16 fractional bits;
    # smaller outputs are within 2^-15 absolute (the output scale's limit)
    big = ref.abs() >= 2.0 ** -5
    assert (err[big] / ref[big].abs()).max().item() <= 1e-3
    assert err[~big].max().item() <= 2.0 ** -15 if (~big).any() else True


def test_reciprocal_rsqrt_backward(run2):
    x = _inputs(-3, 4, 500)
    g = dec(enc(torch.linspace(-2, 2, x.numel(), dtype=torch.float64)))

    def prog(s):
        X, G = shared(s, x), shared(s, g, owner=1)
        c1, c2 = MF.Ctx(), MF.Ctx()
        MF.reciprocal(X, ctx=c1)
        MF.rsqrt(X, ctx=c2)
        return MF.reciprocal_backward(c1, G).reveal(), MF.rsqrt_backward(c2, G).reveal()

    d1, d2 = run2(prog)
    xv = x.clone().requires_grad_()
    (1 / xv).backward(g)
    r1 = xv.grad.clone()
    xv.grad = None
    torch.rsqrt(xv).backward(g)
    big = x >= 0.5   # |d/dx| <= 8: compare against 2e-3 of the gradient's scale
    assert ((d1 - r1)[big].abs() / r1[big].abs().clamp(min=1)).max().item() <= 2e-3
    assert ((d2 - xv.grad)[big].abs() / xv.grad[big].abs().clamp(min=1)).max().item() <= 2e-3


def test_domain_argument_is_checked():
    from fsskernels import mpc

    s0, _s1, _ = mpc.local_sessions(seed=1)
    t = mpc.SharedTensor(s0, torch.zeros(2, dtype=torch.int64), 16)
    with pytest.raises(ValueError, match="domain"):
        MF.reciprocal(t, domain=(3, 2))
    with pytest.raises(ValueError, match="domain"):
        MF.rsqrt(t, domain="wide")
