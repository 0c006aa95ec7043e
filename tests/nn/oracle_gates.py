"""TEST ORACLE ONLY, INSECURE: an implementation of the gate contract
(fsskernels.mpc.functional: Ctx, gelu, tanh, softmax, layer_norm, dropout, cross_entropy and
their backwards) that REVEALS its input to both parties, computes in float64 with torch and
re-shares the result (party 0 holds it, party 1 holds 0). It lets the nn/ tests check the
layers' composition and manual backward exactly (errors: fixed-point encoding only),
independently of the gates' approximations. Never use outside tests.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from fsskernels import mpc
from fsskernels.mpc.tensor import SharedTensor


class Ctx:
    def __init__(self) -> None:
        self.fn = None
        self.inputs = None


def _val(t):
    return t.reveal() if isinstance(t, SharedTensor) else (None if t is None else torch.as_tensor(t, dtype=torch.float64))


def _out(like: SharedTensor, v: torch.Tensor) -> SharedTensor:
    return mpc.from_public(like.session, v.detach().to(torch.float64))


def _apply(fn, x: SharedTensor, ctx, *extra):
    v = x.reveal()
    if ctx is not None:
        ctx.fn, ctx.inputs, ctx.like = fn, (v,) + tuple(extra), x
    return _out(x, fn(v, *extra))


def _backward(ctx, g: SharedTensor) -> SharedTensor:
    v = ctx.inputs[0].clone().requires_grad_(True)
    y = ctx.fn(v, *ctx.inputs[1:])
    (dv,) = torch.autograd.grad(y, v, g.reveal())
    return _out(g, dv)


def gelu(x, approximate="none", ctx=None):
    return _apply(lambda v: F.gelu(v, approximate=approximate), x, ctx)


def tanh(x, ctx=None):
    return _apply(torch.tanh, x, ctx)


def softmax(x, dim=-1, ctx=None):
    return _apply(lambda v: torch.softmax(v, dim), x, ctx)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5, ctx=None):
    w, b = _val(weight), _val(bias)
    return _apply(lambda v: F.layer_norm(v, tuple(normalized_shape), w, b, eps), x, ctx)


_DROP_SEED = [1234]


def dropout(x, p=0.5, training=True, ctx=None):
    if not training or p == 0:
        return _apply(lambda v: v, x, ctx)
    # public test mask, the same at both parties (csprng-ok: test oracle, not secret)
    gen = torch.Generator().manual_seed(_DROP_SEED[0] + x.numel())
    keep = (torch.rand(tuple(x.shape), generator=gen, dtype=torch.float64) >= p).to(torch.float64) / (1 - p)
    if ctx is not None:
        ctx.keep = keep
    return _apply(lambda v: v * keep, x, ctx)


def cross_entropy(logits, target, ctx=None):
    if isinstance(target, SharedTensor):
        t = target.reveal().to(torch.float64)
    else:
        t = F.one_hot(torch.as_tensor(target), logits.shape[-1]).to(torch.float64)
    fn = lambda v: -(torch.log_softmax(v, -1) * t).sum(-1).mean()  # noqa: E731
    return _apply(fn, logits, ctx)


def cross_entropy_backward(ctx, g=None):
    v = ctx.inputs[0].clone().requires_grad_(True)
    y = ctx.fn(v)
    gv = torch.ones((), dtype=torch.float64) if g is None else g.reveal()
    (dv,) = torch.autograd.grad(y, v, gv)
    return _out(ctx.like, dv)


gelu_backward = tanh_backward = softmax_backward = layer_norm_backward = dropout_backward = _backward
