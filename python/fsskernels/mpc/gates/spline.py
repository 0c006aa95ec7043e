"""Piecewise-linear functions on shares from one lookup table (the smooth-gate engine).

A ``Spline`` approximates f on [lo, lo + 2^(n-s)) by 2^n linear pieces of width h = 2^-s:
    f(x) ~ A_i + B_i (x - x_i),   i = floor((x - lo) / h),  x_i = lo + i h,
with (A_i, B_i) the least-squares line of f on [x_i, x_i + h] (sampled at 65 points), which
is within h^2 max|f''| / 8 of f (chord bound; the fitted line is about half of that).

Evaluation on a shared x already clamped into the domain (frac_bits fx > s):
  1. u = x - lo (local); i = floor(u / 2^(fx-s)) mod 2^n by truncate-reduce   (1 round)
  2. one DPF lookup returns A_i, B_i for every function and x_i          (1 round)
  3. delta = u - x_i (local, in [0, h)); y = A + B * delta: one Beaver product with one exact
     truncation                                                          (2 rounds)
Several functions of the same x (a value and its derivative) share steps 1-3 at no extra
rounds. Errors: the fit error above, plus 2^-F (table rounding, F = output frac_bits) plus
one unit from the product's floor; bounds are checked per gate by tests/gates.
Domain: the caller clamps (compare.clamp); an unclamped x outside the domain wraps mod 2^n.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..opened import product_operands
from ..tensor import SharedTensor
from .primitives import lut, open_masked, trunc_reduce  # noqa: F401 (open_masked: re-export)


@dataclass(frozen=True)
class Spline:
    """f on [lo, lo + 2^(n-s)), 2^n pieces of width 2^-s. ``fns``: numpy float64 functions
    (e.g. the value and its derivative) evaluated from one lookup."""

    name: str
    lo: float
    n: int
    s: int
    fns: tuple

    @property
    def hi(self) -> float:
        return self.lo + 2.0 ** (self.n - self.s)

    def coefficients(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(A, B) float64 arrays of length 2^n per function (least-squares lines)."""
        h = 2.0 ** -self.s
        xi = self.lo + h * np.arange(1 << self.n, dtype=np.float64)
        t = np.linspace(0.0, h, 65)
        X = xi[:, None] + t[None, :]
        out = []
        for fn in self.fns:
            Y = fn(X)
            tm, ym = t.mean(), Y.mean(axis=1)
            B = ((t - tm)[None, :] * (Y - ym[:, None])).sum(1) / ((t - tm) ** 2).sum()
            A = ym - B * tm
            out.append((A, B))
        return out

    def tables(self, frac_bits: int, fx: int) -> torch.Tensor:
        """int64 ring tables (2 * len(fns) + 1, 2^n): A_j, B_j at ``frac_bits``, then x_i - lo
        as ring units at the input scale fx (i * 2^(fx - s))."""
        rows = []
        for A, B in self.coefficients():
            rows += [np.round(A * 2.0 ** frac_bits), np.round(B * 2.0 ** frac_bits)]
        tab = torch.tensor(np.stack(rows), dtype=torch.int64)
        idx = torch.arange(1 << self.n, dtype=torch.int64) << (fx - self.s)
        return torch.cat([tab, idx[None, :]])


_TABLE_CACHE: dict = {}


def _tables(sp: Spline, frac_bits: int, fx: int) -> torch.Tensor:
    key = (sp, frac_bits, fx)
    t = _TABLE_CACHE.get(key)
    if t is None:
        t = _TABLE_CACHE[key] = sp.tables(frac_bits, fx)
    return t


def mul_to(a: SharedTensor, b: SharedTensor, out_frac: int, ring_bits: int | None = None) -> SharedTensor:
    """a * b (broadcast) at ``out_frac`` fractional bits: one Beaver product in the
    mul_bits ring (or ``ring_bits``) and one exact truncation by fa + fb - out_frac (two
    rounds). Precondition: |a * b| < 2^(L - 2) ring units at scale fa + fb."""
    return _product_to(a, b, out_frac, ring_bits, None)


def mul_sum_to(a: SharedTensor, b: SharedTensor, dims, out_frac: int, ring_bits: int | None = None) -> SharedTensor:
    """sum(a * b) over ``dims`` (keepdim, after broadcasting) at ``out_frac``: the products
    stay untruncated in the ring, their sums are truncated once (one truncation per output
    element instead of one per product; two rounds, as mul_to). The sum is exact before the
    truncation, so the result is floor(sum / 2^shift): at least as precise as summing
    truncated products. Precondition: |sum(a * b)| < 2^(L - 2) ring units at scale fa + fb
    (the single products may exceed it: the ring sum is exact mod 2^L)."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if not dims:
        raise ValueError("dims: give at least one dimension to sum over")
    return _product_to(a, b, out_frac, ring_bits, dims)


def mul_unreduced(a: SharedTensor, b: SharedTensor, ring_bits: int | None = None):
    """a * b (broadcast) as an ``Unreduced`` product: shares mod 2^L (L = mul_bits or
    ``ring_bits``) at scale fa + fb, not truncated (one round; nothing travels for operands
    opened before in that ring). The caller adds it to other terms of that scale and
    truncates the sum once (mpc/unreduced.py)."""
    from ..unreduced import Unreduced

    a._same_session(b, "mul")
    if a.frac_bits == 0 or b.frac_bits == 0:
        raise ValueError("mul: an unreduced product needs fixed-point operands on both sides")
    L = ring_bits or a.session.config.mul_bits
    with a.session.protocol("mul"):
        return Unreduced(a.session, _beaver_z(a, b, L), L, a.frac_bits + b.frac_bits)


def _beaver_z(a: SharedTensor, b: SharedTensor, L: int) -> torch.Tensor:
    """Shares mod 2^L of a * b at scale fa + fb (one Beaver product, broadcasting)."""
    from ..material import broadcast_shape

    broadcast_shape(tuple(a.shape), tuple(b.shape))
    _ta, tb, tc, get_E, get_F = product_operands(a.session, a, b, L, "triple")
    return a.share * get_F() + get_E() * tb + tc


def _product_to(a: SharedTensor, b: SharedTensor, out_frac: int, ring_bits: int | None, dims) -> SharedTensor:
    from ..truncation import truncate

    s = a.session
    a._same_session(b, "mul")
    shift = a.frac_bits + b.frac_bits - out_frac
    if shift < 0:
        raise ValueError(f"mul: cannot raise the scale from {a.frac_bits + b.frac_bits} to {out_frac}")
    L = (ring_bits or s.config.mul_bits) if shift > 0 else 64
    with s.protocol("mul"):
        z = _beaver_z(a, b, L)
        if dims is not None:
            z = z.sum(dim=dims, keepdim=True)
        return SharedTensor(s, truncate(s, z, shift, L) if shift > 0 else z, out_frac)


def evaluate(x: SharedTensor, sp: Spline, out_frac: int | None = None) -> list[SharedTensor]:
    """[f_j(x) for f_j in sp.fns] for x clamped into [sp.lo, sp.hi) (four rounds)."""
    s = x.session
    fx = x.frac_bits
    F = s.frac_bits if out_frac is None else out_frac
    if fx <= sp.s:
        raise ValueError(f"input: {sp.name} needs more than {sp.s} fractional bits, got {fx}")
    k = fx - sp.s
    tables = _tables(sp, F, fx)
    m = len(sp.fns)
    with s.protocol(sp.name):
        u = x - sp.lo
        idx = trunc_reduce(s, u.share, k, sp.n)
        vals = lut(s, idx, sp.n, tables)                   # (2m + 1, *shape)
        delta = SharedTensor(s, u.share - vals[2 * m], fx)
        A = SharedTensor(s, vals[0:2 * m:2], F)
        B = SharedTensor(s, vals[1:2 * m:2], F)
        y = A + mul_to(B, delta.unsqueeze(0), F, ring_bits=_product_ring(s, tables[1:2 * m:2], k))
    return [y[j] for j in range(m)]


def input_bits(s, sp: Spline, fx: int, out_frac: int | None = None) -> int:
    """How many low bits of a clamped input ``evaluate`` uses: the index reads x mod
    2^(k + n) (trunc_reduce) and the offset enters the slope product mod 2^L, so shares of
    the input that are valid only mod 2^b serve for any b >= max(k + n, L)."""
    F = s.frac_bits if out_frac is None else out_frac
    k = fx - sp.s
    tables = _tables(sp, F, fx)
    return max(k + sp.n, _product_ring(s, tables[1:2 * len(sp.fns):2], k))


def _product_ring(s, slopes: torch.Tensor, k: int) -> int:
    """The ring width of the product B * delta: the slopes are public table entries and
    0 <= delta < 2^k ring units (x was clamped into the spline's domain and delta is its offset
    in the piece), so |B * delta| < 2^(b - 1 + k) with b the slopes' signed bit length and
    b + k + 1 bits satisfy mul_to's |a b| < 2^(L - 2); one more bit of margin. Never wider than
    mul_bits (GeLU at f = 16: 32 bits instead of 54)."""
    b = int(slopes.abs().max()).bit_length() + 1
    return max(min(b + k + 2, s.config.mul_bits), k + 2)


def fit_error(sp: Spline, j: int = 0, samples: int = 1 << 16) -> float:
    """Max |f_j - spline| over a dense grid of the domain (float64; the approximation error
    alone, without fixed-point rounding)."""
    xs = np.linspace(sp.lo, sp.hi, samples, endpoint=False)
    h = 2.0 ** -sp.s
    i = np.floor((xs - sp.lo) / h).astype(np.int64)
    A, B = sp.coefficients()[j]
    approx = A[i] + B[i] * (xs - (sp.lo + i * h))
    return float(np.max(np.abs(approx - sp.fns[j](xs))))


def erf_np(x: np.ndarray) -> np.ndarray:
    """erf in float64 via torch (exact to double precision)."""
    return torch.special.erf(torch.as_tensor(x, dtype=torch.float64)).numpy()


SQRT_2 = math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
