"""softmax, log_softmax, layer_norm, cross_entropy, dropout: forward against torch float64
and backward against torch autograd, on the same fixed-point inputs."""
import pytest
import torch

import fsskernels.mpc.functional as MF
from fsskernels import mpc

from gate_helpers import shared
from gate_model import dec, enc


def _fx(t):
    return dec(enc(t))


@pytest.mark.parametrize("rows,n,scale", [(6, 128, 3.0), (2, 512, 4.0)])
def test_softmax_and_log_softmax_with_backward(run2, rows, n, scale):
    g = torch.Generator().manual_seed(n)  # test data only
    x = _fx(torch.randn(rows, n, generator=g, dtype=torch.float64) * scale)
    x[0, :5] = x[0].max()                       # ties at the maximum
    gy = _fx(torch.randn(rows, n, generator=g, dtype=torch.float64))

    def prog(s):
        X, G = shared(s, x), shared(s, gy, owner=1)
        c1, c2 = MF.Ctx(), MF.Ctx()
        y = MF.softmax(X, dim=-1, ctx=c1)
        ly = MF.log_softmax(X, dim=1, ctx=c2)
        return y.reveal(), ly.reveal(), MF.softmax_backward(c1, G).reveal(), MF.log_softmax_backward(c2, G).reveal()

    y, ly, dy, dly = run2(prog)
    xv = x.clone().requires_grad_()
    ref = torch.softmax(xv, -1)
    assert (y - ref.detach()).abs().max().item() <= 1e-3
    ref.backward(gy)
    assert (dy - xv.grad).abs().max().item() <= 2e-3
    xv.grad = None
    lref = torch.log_softmax(xv, -1)
    lref.backward(gy)
    assert (ly - lref.detach()).abs().max().item() <= 2e-3
    assert (dly - xv.grad).abs().max().item() <= 2e-3


@pytest.mark.parametrize("h,shared_affine", [(384, False), (768, True)])
def test_layer_norm_with_backward(run2, h, shared_affine):
    g = torch.Generator().manual_seed(h)  # test data only
    # realistic activations: a per-row offset and spread, a few outliers
    x = torch.randn(4, h, generator=g, dtype=torch.float64) * torch.tensor([[0.3], [1.0], [3.0], [0.1]]) + 0.5
    x[1, :3] = torch.tensor([12.0, -9.0, 7.5])
    x = _fx(x)
    w = _fx(1 + 0.1 * torch.randn(h, generator=g, dtype=torch.float64))
    b = _fx(0.1 * torch.randn(h, generator=g, dtype=torch.float64))
    gy = _fx(torch.randn(4, h, generator=g, dtype=torch.float64))

    def prog(s):
        X, G = shared(s, x), shared(s, gy, owner=1)
        W, B = (shared(s, w, owner=1), shared(s, b, owner=1)) if shared_affine else (w, b)
        c = MF.Ctx()
        y = MF.layer_norm(X, (h,), W, B, eps=1e-12, ctx=c)
        return y.reveal(), MF.layer_norm_backward(c, G).reveal()

    y, dx = run2(prog)
    xv = x.clone().requires_grad_()
    ref = torch.nn.functional.layer_norm(xv, (h,), w, b, eps=1e-12)
    assert (y - ref.detach()).abs().max().item() <= 1e-3
    ref.backward(gy)
    # the gradient scales with 1/sigma (10 for the 0.1-spread row): 2e-3 relative to that scale
    tol = 2e-3 * (1 / x.std(1, keepdim=True)).clamp(min=1)
    assert ((dx - xv.grad).abs() <= tol).all()


@pytest.mark.parametrize("secret_labels", [True, False])
def test_cross_entropy_with_backward(run2, secret_labels):
    g = torch.Generator().manual_seed(5)  # test data only
    logits = _fx(torch.randn(16, 5, generator=g, dtype=torch.float64) * 3)
    labels = torch.randint(0, 5, (16,), generator=g)

    def prog(s):
        L = shared(s, logits)
        tgt = shared(s, torch.nn.functional.one_hot(labels, 5), owner=0, frac_bits=0) if secret_labels else labels
        c = MF.Ctx()
        loss = MF.cross_entropy(L, tgt, ctx=c)
        return loss.reveal(), MF.cross_entropy_backward(c).reveal()

    loss, d = run2(prog)
    lv = logits.clone().requires_grad_()
    ref = torch.nn.functional.cross_entropy(lv, labels)
    ref.backward()
    assert abs(loss.item() - ref.item()) <= 2e-3
    assert (d - lv.grad).abs().max().item() <= 2e-3


def test_dropout_mask_is_bernoulli_and_reused_by_backward(run2):
    n = 1 << 14
    x = torch.ones(n, dtype=torch.float64)

    def prog(s):
        X = shared(s, x)
        c = MF.Ctx()
        y = MF.dropout(X, p=0.1, ctx=c)
        same = MF.dropout(X, p=0.1, training=False)
        return y.reveal(), MF.dropout_backward(c, X).reveal(), same.reveal()

    y, d, same = run2(prog)
    kept = y != 0
    # keep rate 0.9: within 6 standard deviations (false alarm < 1e-8)
    assert abs(kept.double().mean().item() - 0.9) < 6 * (0.09 / n) ** 0.5
    assert torch.allclose(y[kept], torch.full_like(y[kept], 1 / 0.9), atol=1e-4)
    assert torch.equal(d != 0, kept)              # the backward uses the forward's mask
    assert torch.equal(same, x)


def test_composite_bad_inputs():
    s0, _s1, _ = mpc.local_sessions(seed=2)
    t = mpc.SharedTensor(s0, torch.zeros(2, 3, dtype=torch.int64), 16)
    with pytest.raises(ValueError, match="normalized_shape"):
        MF.layer_norm(t, (4,))
    with pytest.raises(ValueError, match="p"):
        MF.dropout(t, p=1.5)
    with pytest.raises(ValueError, match="target"):
        MF.cross_entropy(t, torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="target"):
        MF.cross_entropy(t, torch.tensor([0.5, 1.0]))
    with pytest.raises(ValueError, match="frac_bits"):
        MF.softmax(mpc.SharedTensor(s0, torch.zeros(2, 3, dtype=torch.int64), 0))
    with pytest.raises(ValueError, match="ctx"):
        MF.softmax_backward(MF.Ctx(), t)
