"""Random Fourier features on shares with the one-round cosine (SecP-Tuning, Luo et al. 2025,
arXiv:2506.15307, its privacy-preserving RFA; random features of Rahimi & Recht 2007).

Computes, for a shared tensor v of angles measured in PERIODS (fixed point, the session's
frac_bits f; the caller folds 1/(2 pi) into its public projection, so no scaling product is
needed here),

    fourier_features(v, scale) = scale * [cos(2 pi v), sin(2 pi v)]   (concatenated on the last dim)

Protocol (semi-honest, trusted dealer):
  dealer: t uniform mod 2^f, additive shares (mod 2^64) of t, S = round(2^f sin(2 pi t / 2^f))
          and C = round(2^f cos(2 pi t / 2^f))  -- the ``trig`` material kind of
          ``gates/material.py`` (the same triple (t, sin t, cos t) the issue asks for; reused
          rather than registered twice, so both gates share one audited generator).
  online: open c = v + t mod 2^f once (f bits per element each way, ONE round); with the
          public angle a = 2 pi c / 2^f and b = 2 pi t / 2^f (so a - b = 2 pi v mod 2 pi):
              cos(a - b) = cos a * cos b + sin a * sin b
              sin(a - b) = sin a * cos b - cos a * sin b
          are local: public coefficients times the shared C, S. The public coefficients are
          encoded with g = f + ceil(log2(1/scale)) fraction bits (scale folded in for free),
          then ONE exact truncation by g (``truncate``) for cos and sin together.
  Two rounds in all (the period opening + the truncation), cos AND sin from one opening.

Domain: every v representable at scale f (|v| < 2^(63 - f) periods): the reduction mod 2^f
of the shares' sum is exactly v mod 1 period, whatever the 64-bit ring wraps, so there is
no domain limit and no error growth with |v| (tests check v near +-2^(63-f) periods).
Error (against float64 cos/sin of 2 pi v for the same fixed-point v, scale 1):
  rounding of C, S (2^-(f+1) each) + of the public coefficients (2^-(g+1) each) + the floor
  of the truncation (2^-f): <= 2^-f * 2.5 ~ 3.8e-5 at f = 16 (tests assert 6e-5).
  The angle itself is exact (c is an integer multiple of 2 pi / 2^f).
Security: c = v + t mod 2^f is uniform in [0, 2^f) for every v (t is a fresh one-time pad
from the dealer); the truncation's opening is likewise padded (docs/runtime.md section 4);
so each party's view is simulatable from its own input. The material is one-time.
Errors: ValueError naming the argument for a non-SharedTensor, a frac_bits other than the
session's, a scale outside (0, 1] or not broadcastable to v.
Cost per element of v: f bits each way for the opening; key bytes: 3 ring values + the
truncation's DCF on g bits for each of the 2 outputs.
"""
from __future__ import annotations

import math

import torch

from ..fixedpoint import mask_bits
from ..tensor import SharedTensor
from .primitives import open_masked


def _check(v, scale):
    """(v, scale as a float64 tensor broadcastable to v.shape)."""
    if not isinstance(v, SharedTensor):
        raise ValueError(f"v: expected a SharedTensor, got {type(v).__name__}")
    s = v.session
    if v.frac_bits != s.frac_bits:
        raise ValueError(f"v: needs the session's frac_bits {s.frac_bits}, got {v.frac_bits}")
    if isinstance(scale, bool) or not isinstance(scale, (int, float, torch.Tensor)):
        raise ValueError(f"scale: must be a number or a public tensor in (0, 1], got {scale!r}")
    sc = torch.as_tensor(scale, dtype=torch.float64)
    if sc.numel() == 0 or not bool(((sc > 0) & (sc <= 1)).all()):
        raise ValueError(f"scale: every value must be in (0, 1], got {scale!r}")
    try:
        ok = tuple(torch.broadcast_shapes(tuple(sc.shape), tuple(v.shape))) == tuple(v.shape)
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(f"scale: shape {tuple(sc.shape)} does not broadcast to v's {tuple(v.shape)}")
    return v, sc


def coefficient_bits(f: int, scale) -> int:
    """Fraction bits of the public coefficients: f plus the bits that the smallest ``scale`` removes."""
    smallest = float(torch.as_tensor(scale, dtype=torch.float64).min())
    return f + max(0, math.ceil(-math.log2(smallest) - 1e-12))


def fourier_features(v: SharedTensor, scale=1.0) -> SharedTensor:
    """scale * [cos(2 pi v), sin(2 pi v)] on shares, shape (..., 2n) for v of shape (..., n).
    ``scale``: a number or a public tensor broadcastable to v (per-element factors, e.g. 1/m
    for query rows only). Two rounds (one f-bit opening, one truncation)."""
    v, sc = _check(v, scale)
    s = v.session
    f = s.frac_bits
    g = coefficient_bits(f, sc)
    with s.protocol("fourier"):
        t, st, ct = s.take("trig", (f, tuple(v.shape)))
        (c,) = open_masked(s, [(v.share + t, f)])      # uniform: t is a one-time pad mod 2^f
        ang = mask_bits(c, f).to(torch.float64) * (2.0 * math.pi / 2.0 ** f)
        k = sc.to(v.device) * 2.0 ** g
        sa = torch.round(torch.sin(ang) * k).to(torch.int64)
        ca = torch.round(torch.cos(ang) * k).to(torch.int64)
        cos_z = ca * ct + sa * st                          # scale f + g
        sin_z = sa * ct - ca * st
        z = torch.cat([cos_z, sin_z], dim=-1)
        # |z| <= 2 * 2^(f+g) (scale <= 1): the truncation's range needs L >= f + g + 4
        L = min(64, f + g + 4)
        out = SharedTensor(s, z, f + g).trunc(g, bits=L)
    return out


def fourier_features_plain(v: torch.Tensor, scale=1.0) -> torch.Tensor:
    """float64 reference: scale * [cos(2 pi v), sin(2 pi v)]."""
    v = torch.as_tensor(v, dtype=torch.float64)
    a = 2.0 * math.pi * v
    sc = torch.as_tensor(scale, dtype=torch.float64)
    return torch.cat([sc * torch.cos(a), sc * torch.sin(a)], dim=-1)


__all__ = ["fourier_features", "fourier_features_plain", "coefficient_bits"]
