"""Smooth activations on shares: gelu, tanh, sigmoid, exp, sin, cos (forward and backward).

Each is clamp (two rounds, exact; x is opened once for both bounds, mod 2^32 when the clamped
x only feeds the spline, mod 2^64 for GeLU, which adds x itself above its domain) + spline (four
rounds), six rounds in all; the derivative
for the backward comes from the same lookup when a ``ctx`` is given (no extra rounds), and
the backward is one product (two rounds). Domains, tails and error bounds (max abs error
against float64 on the same fixed-point input, frac_bits 16; checked by tests/gates):

  gate     spline domain      pieces   outside the domain            bound (value / derivative)
  gelu     [-4, 4)            128      0 below, x above (tails)       1e-3 / 2e-3
  gelu(tanh form) same        128      same                           1e-3 / 2e-3
  tanh     [-8, 8)            256      -1 / 1 (saturates)             1e-3 / 2e-3
  sigmoid  [-16, 16)          256      0 / 1 (saturates)              1e-3 / 2e-3
  exp      [-15.9375, 0.0625) 256      0 below -16; inputs must be <= 0 (softmax uses x - max)
                                                                      1e-3 / 1e-3

sin/cos (2 pi-periodic, any input with |x| < 2^(bits-1-f)): x is scaled by 1/(2 pi) (one
exact truncation), the dealer supplies shares of t and of sin, cos of 2 pi t / 2^f for a
uniform t mod 2^f; open c = x / (2 pi) + t mod 2^f (f bits) and use
sin(a - b) = sin a cos b - cos a sin b with public a (SecP-Tuning's one-round cosine, made
exact-period by working mod 2^f), then one truncation: three rounds, error <= 2e-4
(|x| < 2^14).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..fixedpoint import mask_bits
from ..tensor import SharedTensor
from .compare import DEFAULT_CMP_BITS, relu_shifted
from .primitives import open_masked
from .spline import INV_SQRT_2PI, SQRT_2, Spline, erf_np, evaluate, input_bits, mul_to


def _gelu(x):
    return 0.5 * x * (1.0 + erf_np(x / SQRT_2))


def _dgelu(x):
    return 0.5 * (1.0 + erf_np(x / SQRT_2)) + x * INV_SQRT_2PI * np.exp(-0.5 * x * x)


_C = math.sqrt(2.0 / math.pi)


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(_C * (x + 0.044715 * x ** 3)))


def _dgelu_tanh(x):
    t = np.tanh(_C * (x + 0.044715 * x ** 3))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _C * (1.0 + 3 * 0.044715 * x * x)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _dsigmoid(x):
    y = _sigmoid(x)
    return y * (1.0 - y)


SPLINES = {
    # 128 pieces suffice for gelu (fit error 2.6e-4 for the value and 2.5e-4 for the
    # derivative): half the full-domain evaluation of a 256-entry table
    "gelu": Spline("gelu", -4.0, 7, 4, (_gelu, _dgelu)),
    "gelu_tanh": Spline("gelu_tanh", -4.0, 7, 4, (_gelu_tanh, _dgelu_tanh)),
    "tanh": Spline("tanh", -8.0, 8, 4, (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2)),
    "sigmoid": Spline("sigmoid", -16.0, 8, 3, (_sigmoid, _dsigmoid)),
    "exp": Spline("exp", -16.0 + 1.0 / 16, 8, 4, (np.exp,)),
}


def _check(x) -> SharedTensor:
    if not isinstance(x, SharedTensor):
        raise ValueError(f"input: expected a SharedTensor, got {type(x).__name__}")
    if x.frac_bits < 8:
        raise ValueError(f"input: needs a fixed-point tensor with frac_bits >= 8, got {x.frac_bits}")
    return x


def _clamped(x: SharedTensor, sp: Spline, lower: bool, upper: bool, bits: int, tail: bool):
    """(xc, relu(x - hi')) with xc = x clamped into [lo, hi - ulp] (two rounds, exact).
    Without a linear ``tail`` the clamped x only feeds the spline, which reads its low
    input_bits bits: when those fit in ``bits``, x is opened mod 2^bits instead of 2^64 and xc
    is valid mod 2^bits only (relu_shifted's low_bits_only)."""
    ulp = 2.0 ** -x.frac_bits
    hi = sp.hi - ulp
    low = not tail and input_bits(x.session, sp, x.frac_bits) <= bits
    r = relu_shifted(x, ([sp.lo] if lower else []) + ([hi] if upper else []), bits, low_bits_only=low)
    xc = x
    if lower:
        xc = r[0] + sp.lo
    if upper:
        xc = xc - r[-1]
    return xc, (r[-1] if upper else None)


def _smooth(x: SharedTensor, name: str, ctx, bits: int, lower=True, upper=True, right_tail_slope=0):
    _check(x)
    s = x.session
    sp = SPLINES[name]
    with s.protocol(name):
        xc, above = _clamped(x, sp, lower, upper, bits, tail=bool(right_tail_slope))
        want_grad = ctx is not None and len(sp.fns) > 1
        spl = sp if want_grad or len(sp.fns) == 1 else Spline(sp.name, sp.lo, sp.n, sp.s, sp.fns[:1])
        vals = evaluate(xc, spl)
        y = vals[0] + above if right_tail_slope else vals[0]
    if ctx is not None:
        ctx.save(y=y, dy=vals[1] if want_grad else None)
    return y


def gelu(x: SharedTensor, approximate: str = "none", ctx=None, bits: int = DEFAULT_CMP_BITS) -> SharedTensor:
    """GeLU x * Phi(x) (erf form; approximate="tanh" for the tanh form). Six rounds."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate: must be 'none' or 'tanh', got {approximate!r}")
    return _smooth(x, "gelu" if approximate == "none" else "gelu_tanh", ctx, bits, right_tail_slope=1)


def tanh(x: SharedTensor, ctx=None, bits: int = DEFAULT_CMP_BITS) -> SharedTensor:
    """tanh(x), saturating to +-1 outside [-8, 8). Six rounds."""
    return _smooth(x, "tanh", ctx, bits)


def sigmoid(x: SharedTensor, ctx=None, bits: int = DEFAULT_CMP_BITS) -> SharedTensor:
    """1 / (1 + exp(-x)), saturating outside [-16, 16). Six rounds."""
    return _smooth(x, "sigmoid", ctx, bits)


def exp(x: SharedTensor, ctx=None, bits: int = DEFAULT_CMP_BITS, nonpositive: bool = False) -> SharedTensor:
    """exp(x) for x <= 0 (0 below -16; positive inputs are clamped to 0.0625 - ulp: not
    supported). Six rounds. ``nonpositive=True`` (the caller guarantees x <= 0, as softmax
    does with x - max) skips the upper clamp: half the comparisons."""
    return _smooth(x, "exp", ctx, bits, lower=True, upper=not nonpositive)


def _deriv_backward(ctx, grad: SharedTensor, label: str) -> SharedTensor:
    if ctx is None or getattr(ctx, "dy", None) is None:
        raise ValueError(f"ctx: {label}_backward needs the ctx filled by the forward call ({label}(x, ctx=ctx))")
    s = grad.session
    with s.protocol(f"{label}_backward"):
        return mul_to(grad, ctx.dy, s.frac_bits)


def gelu_backward(ctx, grad: SharedTensor) -> SharedTensor:
    """grad * gelu'(x) (derivative from the forward's lookup). Two rounds."""
    return _deriv_backward(ctx, grad, "gelu")


def tanh_backward(ctx, grad: SharedTensor) -> SharedTensor:
    """grad * (1 - tanh(x)^2). Two rounds."""
    return _deriv_backward(ctx, grad, "tanh")


def sigmoid_backward(ctx, grad: SharedTensor) -> SharedTensor:
    """grad * sigmoid(x) (1 - sigmoid(x)). Two rounds."""
    return _deriv_backward(ctx, grad, "sigmoid")


def exp_backward(ctx, grad: SharedTensor) -> SharedTensor:
    """grad * exp(x) (the forward's output). Two rounds."""
    if ctx is None or getattr(ctx, "y", None) is None:
        raise ValueError("ctx: exp_backward needs the ctx filled by the forward call (exp(x, ctx=ctx))")
    s = grad.session
    with s.protocol("exp_backward"):
        return mul_to(grad, ctx.y, s.frac_bits)


# ----------------------------------------------------------------------------- sin / cos
def _trig(x: SharedTensor, which: str) -> SharedTensor:
    _check(x)
    s = x.session
    f = s.frac_bits
    with s.protocol(which):
        if x.frac_bits != f:
            raise ValueError(f"input: {which} needs the session's frac_bits {f}")
        # periods x / (2 pi) at scale f, with 1/(2 pi) encoded at 32 bits (one exact truncation)
        from ..truncation import truncate

        v = SharedTensor(s, truncate(s, x.share * round(2.0 ** 32 / (2.0 * math.pi)), 32, 64), f)
        t, st, ct = s.take("trig", (f, tuple(x.shape)))
        (c,) = open_masked(s, [(v.share + t, f)])       # c = v + t mod 2^f: a uniform angle
        ang = mask_bits(c, f).to(torch.float64) * (2.0 * math.pi / 2.0 ** f)
        sa = torch.round(torch.sin(ang) * 2.0 ** f).to(torch.int64)
        ca = torch.round(torch.cos(ang) * 2.0 ** f).to(torch.int64)
        # sin(a - b) = sin a cos b - cos a sin b;  cos(a - b) = cos a cos b + sin a sin b
        z = sa * ct - ca * st if which == "sin" else ca * ct + sa * st
        return SharedTensor(s, z, 2 * f).trunc(f, bits=min(64, 2 * f + 4 + 2))


def sin(x: SharedTensor) -> SharedTensor:
    """sin(x) for any |x| < 2^(bits-1-f) (periodic reduction is exact). Three rounds."""
    return _trig(x, "sin")


def cos(x: SharedTensor) -> SharedTensor:
    """cos(x). Three rounds."""
    return _trig(x, "cos")
