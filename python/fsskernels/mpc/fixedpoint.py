"""Fixed-point encoding and ring helpers for Z_2^64 stored in torch.int64.

A real x is encoded as round(x * 2^f) in two's complement (f = ``frac_bits``); torch int64
arithmetic wraps mod 2^64, which is the ring arithmetic the shares need. Decoding divides by
2^f. Encoding requires |x| * 2^f < 2^62 (ValueError otherwise, and for NaN/inf); integer
data at frac_bits 0 are ring elements and taken as they are.
"""
from __future__ import annotations

import math

import torch

MAX_FRAC_BITS = 40


def check_frac_bits(f, name: str = "frac_bits") -> int:
    """f as an int in 0..40 (ValueError otherwise)."""
    if isinstance(f, bool) or not isinstance(f, int) or not 0 <= f <= MAX_FRAC_BITS:
        raise ValueError(f"{name}: must be an integer in 0..{MAX_FRAC_BITS}, got {f!r}")
    return f


def encode(x, frac_bits: int, device=None) -> torch.Tensor:
    """round(x * 2^frac_bits) as int64 (x: float/int scalar, sequence, numpy or torch).
    Integer tensors are scaled exactly; floats go through float64 (exact up to 2^53)."""
    check_frac_bits(frac_bits)
    t = torch.as_tensor(x, device=device)
    if t.is_floating_point() and t.dtype != torch.float64 and not isinstance(x, torch.Tensor) and not hasattr(x, "dtype"):
        t = torch.as_tensor(x, dtype=torch.float64, device=device)  # Python floats: no float32 rounding
    if t.dtype == torch.bool or t.is_complex():
        raise ValueError(f"value: expected real numbers, got {t.dtype}")
    if not t.is_floating_point():
        t = t.to(torch.int64)
        if frac_bits == 0:
            return t  # ring elements: every int64 bit pattern is valid
        if t.numel() and (t.max().item() >= 2 ** (62 - frac_bits) or t.min().item() < -(2 ** (62 - frac_bits))):
            raise ValueError(f"value: integers must be below 2^{62 - frac_bits} in magnitude at {frac_bits} fractional bits")
        return t << frac_bits
    t = t.to(torch.float64)
    if t.numel():
        if not torch.isfinite(t).all():
            raise ValueError("value: contains NaN or infinity")
        if t.abs().max().item() * 2.0 ** frac_bits >= 2.0 ** 62:
            raise ValueError(f"value: magnitude must be below 2^{62 - frac_bits} at {frac_bits} fractional bits")
    return torch.round(t * 2.0 ** frac_bits).to(torch.int64)


def decode(v: torch.Tensor, frac_bits: int) -> torch.Tensor:
    """The reals encoded by int64 ring values (float64): v / 2^frac_bits."""
    return v.to(torch.float64) / 2.0 ** frac_bits


def mask_bits(x: torch.Tensor, bits: int) -> torch.Tensor:
    """x mod 2^bits (as values in [0, 2^bits); for bits = 64 the tensor is returned as is)."""
    return x if bits >= 64 else x & ((1 << bits) - 1)


def lshr(x: torch.Tensor, s: int) -> torch.Tensor:
    """Logical right shift of the 64-bit patterns of an int64 tensor by s (0..63)."""
    if s == 0:
        return x
    return (x >> s) & ((1 << (64 - s)) - 1)


def to_signed(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Reinterpret values in [0, 2^bits) as signed bits-bit two's complement (int64)."""
    if bits >= 64:
        return x
    x = mask_bits(x, bits)
    return torch.where(x >= (1 << (bits - 1)), x - (1 << bits), x)


def public_scalar_fixed(c: float, frac_bits: int) -> int:
    """round(c * 2^frac_bits) for a finite Python float (ValueError otherwise)."""
    if not math.isfinite(c):
        raise ValueError("value: must be finite")
    v = round(c * 2.0 ** frac_bits)
    if abs(v) >= 2 ** 62:
        raise ValueError("value: out of the fixed-point range")
    return int(v)
