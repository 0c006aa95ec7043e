"""Untruncated products: shares mod 2^bits of a fixed-point value at a product's scale.

A Beaver or frozen-weight product of two fixed-point tensors is exact in the L-bit ring before
its truncation. Products that are added anyway (LoRA's adapter term and the frozen base
projection; the terms of LayerNorm's input gradient) can be summed there and truncated once:
one exact truncation instead of one per term (a round and L + 1 bits per element each way
less, one DCF key less), and floor(sum) is at least as precise as a sum of floors.

``Unreduced`` carries such a sum between its producers (``beaver.matmul_unreduced``,
``gates.spline.mul_unreduced``) and the consumer that truncates it
(``FrozenMatrix.rmatmul(x, add=...)`` or ``truncated``). Its shares are meaningful mod 2^bits
only, so it is deliberately not a SharedTensor: it only adds and subtracts terms of the same
scale (broadcasting) and takes slices. Precondition of the final truncation: |sum| < 2^(L-2)
ring units at the scale, with L the narrowest ring of the terms (docs/runtime.md section 3).
"""
from __future__ import annotations

import torch

from .tensor import SharedTensor
from .truncation import truncate


class Unreduced:
    """Shares (int64 tensor; only the low ``bits`` bits count) of a value at ``frac_bits``."""

    __slots__ = ("session", "share", "bits", "frac_bits")

    def __init__(self, session, share: torch.Tensor, bits: int, frac_bits: int) -> None:
        self.session, self.share, self.bits, self.frac_bits = session, share, int(bits), int(frac_bits)

    @property
    def shape(self) -> tuple:
        return tuple(self.share.shape)

    def __add__(self, other: "Unreduced") -> "Unreduced":
        """The sum (broadcasting, as torch); the ring is the narrower of the two."""
        if not isinstance(other, Unreduced):
            raise ValueError(f"add: expected an Unreduced product, got {type(other).__name__}")
        if other.session is not self.session:
            raise ValueError("add: the products belong to different sessions")
        if other.frac_bits != self.frac_bits:
            raise ValueError(f"add: scales differ ({self.frac_bits} and {other.frac_bits} fractional bits)")
        try:
            torch.broadcast_shapes(self.shape, other.shape)
        except RuntimeError:
            raise ValueError(f"add: shapes differ ({self.shape} and {other.shape})") from None
        return Unreduced(self.session, self.share + other.share, min(self.bits, other.bits), self.frac_bits)

    def __neg__(self) -> "Unreduced":
        return Unreduced(self.session, -self.share, self.bits, self.frac_bits)

    def __sub__(self, other: "Unreduced") -> "Unreduced":
        if not isinstance(other, Unreduced):
            raise ValueError(f"sub: expected an Unreduced product, got {type(other).__name__}")
        return self + (-other)

    def __getitem__(self, idx) -> "Unreduced":
        return Unreduced(self.session, self.share[idx], self.bits, self.frac_bits)

    def truncated(self, shift: int) -> SharedTensor:
        """floor(value / 2^shift) as a SharedTensor in Z_2^64 (exact truncation)."""
        if not 1 <= shift <= self.frac_bits:
            raise ValueError(f"shift: must be in 1..{self.frac_bits}, got {shift!r}")
        s = self.session
        return SharedTensor(s, truncate(s, self.share, shift, self.bits), self.frac_bits - shift)

    @staticmethod
    def cat_parts(session, parts: list, sizes: list, frac_bits: int) -> "Unreduced | None":
        """The parts (Unreduced or None for zero) concatenated along the last dim, with
        ``sizes`` their widths; None if every part is None."""
        present = [p for p in parts if p is not None]
        if not present:
            return None
        lead = present[0].shape[:-1]
        ref = present[0].share
        chunks = [p.share if p is not None else torch.zeros(lead + (n,), dtype=torch.int64, device=ref.device)
                  for p, n in zip(parts, sizes)]
        for p, n in zip(parts, sizes):
            if p is not None and (p.shape[:-1] != lead or p.shape[-1] != n or p.frac_bits != frac_bits):
                raise ValueError(f"add: part of shape {p.shape} at scale {p.frac_bits} does not fit "
                                 f"{lead + (n,)} at scale {frac_bits}")
        return Unreduced(session, torch.cat(chunks, dim=-1), min(p.bits for p in present), frac_bits)
