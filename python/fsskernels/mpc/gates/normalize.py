"""reciprocal, rsqrt, sqrt, log on shares by normalising to [1, 2) (as SIGMA and Orca do).

For x in [2^e_lo, 2^e_hi) (the ``domain`` exponents; x is clamped into it first, two rounds):
  1. b_j = [x >= 2^j] for every j in (e_lo, e_hi): one batch of comparisons (one round);
     k = floor(log2 x) = e_lo + sum_j b_j, and 2^(-k), 2^(-k/2), 2^(k/2) are linear in the b_j
     (telescoping sums with public coefficients), so they cost nothing more.
  2. m = x * 2^(-k) in [1, 2): one product with an exact truncation (two rounds).
  3. g(m) on [1, 2) by a 128-piece spline (four rounds).
  4. reciprocal = g(m) 2^(-k), rsqrt = g(m) 2^(-k/2), sqrt = g(m) 2^(k/2): one product (two
     rounds); log = g(m) + k ln 2 is linear (no product).
Rounds: 11 (log: 9). Error: relative <= 1e-3 wherever the input has at least ~11 significant
bits (x >= 2^(11 - frac_bits)) and the output is representable at the output scale; checked
by tests/gates over the default domains: reciprocal [2^-5, 2^10), rsqrt [2^-10, 2^10),
sqrt [2^-10, 2^14), log [2^-10, 2^14).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..tensor import SharedTensor
from .compare import DEFAULT_CMP_BITS, clamp
from .primitives import msb
from .spline import Spline, evaluate, mul_to

NORM_SPLINES = {
    "reciprocal": Spline("reciprocal", 1.0, 7, 7, (lambda m: 1.0 / m,)),
    "rsqrt": Spline("rsqrt", 1.0, 7, 7, (lambda m: 1.0 / np.sqrt(m),)),
    "sqrt": Spline("sqrt", 1.0, 7, 7, (np.sqrt,)),
    "log": Spline("log", 1.0, 7, 7, (np.log,)),
}
DEFAULT_DOMAINS = {"reciprocal": (-5, 10), "rsqrt": (-10, 10), "sqrt": (-10, 14), "log": (-10, 14)}
_Q = 24  # fractional bits of the public powers 2^(+-k/2)


def _check_domain(domain, fx: int) -> tuple[int, int]:
    try:
        e_lo, e_hi = (int(d) for d in domain)
    except (TypeError, ValueError):
        raise ValueError(f"domain: expected two integer exponents (e_lo, e_hi), got {domain!r}") from None
    if not -fx < e_lo < e_hi <= 30:
        raise ValueError(f"domain: need {-fx} < e_lo < e_hi <= 30, got {(e_lo, e_hi)}")
    return e_lo, e_hi


def _powers(bits: SharedTensor, e_lo: int, e_hi: int, fn, scale: int) -> SharedTensor:
    """Shares of fn(k) at ``scale`` where k = e_lo + sum_j b_j (b stacked on dim 0):
    fn(e_lo) + sum_j b_j (fn(j) - fn(j - 1)), with public integer coefficients (exact)."""
    js = range(e_lo + 1, e_hi)
    coef = torch.tensor([round(fn(j) * 2.0 ** scale) - round(fn(j - 1) * 2.0 ** scale) for j in js], dtype=torch.int64)
    base = round(fn(e_lo) * 2.0 ** scale)
    sh = (len(coef),) + (1,) * (bits.ndim - 1)
    return _add_int(SharedTensor(bits.session, (bits.share * coef.reshape(sh)).sum(0), scale), base)


def _add_int(t: SharedTensor, v: int) -> SharedTensor:
    """Add a public ring integer (already at t's scale)."""
    sh = t.share + v if t.session.party == 0 else t.share
    return SharedTensor(t.session, sh, t.frac_bits)


def _normalise(x: SharedTensor, name: str, domain, clamp_input: bool, bits: int):
    if not isinstance(x, SharedTensor):
        raise ValueError(f"input: expected a SharedTensor, got {type(x).__name__}")
    s = x.session
    fx = x.frac_bits
    if fx < 8:
        raise ValueError(f"input: needs frac_bits >= 8, got {fx}")
    e_lo, e_hi = _check_domain(DEFAULT_DOMAINS[name] if domain is None else domain, fx)
    n = e_hi + fx + 2                                     # comparison width: |x - 2^j| < 2^(e_hi + fx)
    if clamp_input:
        x = clamp(x, 2.0 ** e_lo, 2.0 ** e_hi - 2.0 ** -fx, bits=max(bits, n))  # bits: the input's range
    js = list(range(e_lo + 1, e_hi))
    if js:
        d = torch.stack([x.share - (round(2.0 ** j * 2.0 ** fx) if s.party == 0 else 0) for j in js])
        b = SharedTensor(s, (1 if s.party == 0 else 0) - msb(s, d, n), 0)   # [x >= 2^j]
    else:
        b = SharedTensor(s, torch.zeros((0,) + tuple(x.shape), dtype=torch.int64), 0)
    P = max(e_hi - 1, 0)
    p = _powers(b, e_lo, e_hi, lambda k: 2.0 ** -k, P)     # 2^-k exactly (k <= P)
    need = (e_hi + fx) + (P - e_lo) + 2
    L = s.config.mul_bits if need <= s.config.mul_bits else 64
    if need > 64:
        raise ValueError(f"domain: {(e_lo, e_hi)} at frac_bits {fx} needs a {need}-bit ring; narrow the domain")
    m = mul_to(x, p, fx, ring_bits=L)                      # in [1, 2) at scale fx, exact floor
    (g,) = evaluate(m, NORM_SPLINES[name])
    return g, b, e_lo, e_hi


def _finish(g: SharedTensor, b: SharedTensor, e_lo: int, e_hi: int, fn, out_frac: int) -> SharedTensor:
    q = _powers(b, e_lo, e_hi, fn, _Q)
    return mul_to(g, q, out_frac, ring_bits=64)


def reciprocal(x: SharedTensor, domain=None, ctx=None, out_frac_bits: int | None = None,
               clamp_input: bool = True, bits: int = DEFAULT_CMP_BITS) -> SharedTensor:
    """1 / x for x in [2^e_lo, 2^e_hi) (default (-5, 10); clamped into it). 11 rounds."""
    s = x.session
    with s.protocol("reciprocal"):
        g, b, lo, hi = _normalise(x, "reciprocal", domain, clamp_input, bits)
        y = _finish(g, b, lo, hi, lambda k: 2.0 ** -k, s.frac_bits if out_frac_bits is None else out_frac_bits)
    if ctx is not None:
        ctx.save(y=y)
    return y


def rsqrt(x: SharedTensor, domain=None, ctx=None, out_frac_bits: int | None = None,
          clamp_input: bool = True, bits: int = DEFAULT_CMP_BITS) -> SharedTensor:
    """1 / sqrt(x) for x in [2^e_lo, 2^e_hi) (default (-10, 10)). 11 rounds."""
    s = x.session
    with s.protocol("rsqrt"):
        g, b, lo, hi = _normalise(x, "rsqrt", domain, clamp_input, bits)
        y = _finish(g, b, lo, hi, lambda k: 2.0 ** (-k / 2), s.frac_bits if out_frac_bits is None else out_frac_bits)
    if ctx is not None:
        ctx.save(y=y)
    return y


def sqrt(x: SharedTensor, domain=None, clamp_input: bool = True, bits: int = DEFAULT_CMP_BITS) -> SharedTensor:
    """sqrt(x) for x in [2^e_lo, 2^e_hi) (default (-10, 14)). 11 rounds."""
    s = x.session
    with s.protocol("sqrt"):
        g, b, lo, hi = _normalise(x, "sqrt", domain, clamp_input, bits)
        return _finish(g, b, lo, hi, lambda k: 2.0 ** (k / 2), s.frac_bits)


def log(x: SharedTensor, domain=None, clamp_input: bool = True, bits: int = DEFAULT_CMP_BITS) -> SharedTensor:
    """Natural log of x in [2^e_lo, 2^e_hi) (default (-10, 14)). 9 rounds."""
    s = x.session
    with s.protocol("log"):
        g, b, lo, hi = _normalise(x, "log", domain, clamp_input, bits)
        k_ln2 = _powers(b, lo, hi, lambda k: k * math.log(2.0), g.frac_bits)
        return g + k_ln2


def reciprocal_backward(ctx, grad: SharedTensor) -> SharedTensor:
    """d(1/x) = -grad / x^2 = -grad * y^2. Four rounds."""
    if ctx is None or getattr(ctx, "y", None) is None:
        raise ValueError("ctx: reciprocal_backward needs the ctx filled by reciprocal(x, ctx=ctx)")
    s = grad.session
    with s.protocol("reciprocal_backward"):
        y2 = mul_to(ctx.y, ctx.y, s.frac_bits)
        return -mul_to(grad, y2, s.frac_bits)


def rsqrt_backward(ctx, grad: SharedTensor) -> SharedTensor:
    """d(x^-1/2) = -grad * y^3 / 2. Four rounds."""
    if ctx is None or getattr(ctx, "y", None) is None:
        raise ValueError("ctx: rsqrt_backward needs the ctx filled by rsqrt(x, ctx=ctx)")
    s = grad.session
    with s.protocol("rsqrt_backward"):
        y = ctx.y
        y3 = mul_to(mul_to(y, y, s.frac_bits), y, s.frac_bits)
        half = mul_to(grad, y3, s.frac_bits - 1)          # grad * y^3 at scale f - 1 ...
        return -SharedTensor(s, half.share, s.frac_bits)  # ... read at scale f: halved exactly
