"""Secret-sharing a party's private value.

The owner encodes x (fixed point for floats, ring integers for integer tensors), draws a
fresh 16-byte seed from its CSPRNG and sends the seed with the shape and scale (one 88-byte
message). Both expand R = AES-CTR(seed) over the shape; the other party's share is R and the
owner's is x - R. R is uniform and independent of x, so the other party learns nothing but
the shape and scale; sending a seed instead of R saves 8 bytes per element.
"""
from __future__ import annotations

import struct

import numpy as np
import torch

from .fixedpoint import check_frac_bits, encode
from .limits import checked_numel
from .rng import CtrStream
from .tensor import SharedTensor

_HDR = struct.Struct("<16sBB6x8Q")  # seed, frac_bits, ndim, dims[8]


def share(session, value=None, *, owner: int, frac_bits: int | None = None, shape=None) -> SharedTensor:
    """Share ``value`` held by party ``owner``. The owner passes the value (float data: fixed
    point with ``frac_bits``, default the session's; integer data: ring integers, default
    frac_bits 0); the other party passes nothing (optionally ``shape`` to check)."""
    s = session
    if owner not in (0, 1):
        raise ValueError(f"owner: must be 0 or 1, got {owner!r}")
    with s.protocol("share"):
        if s.party == owner:
            if value is None:
                raise ValueError(f"share: party {owner} owns the value and must pass it")
            if isinstance(value, torch.Tensor) and value.device != s.device:
                raise ValueError(f"share: value is on {value.device}, the session computes on {s.device}")
            t = _as_tensor(value)
            checked_numel(t.shape, "value")
            if frac_bits is None:
                frac_bits = s.frac_bits if t.is_floating_point() else 0
            check_frac_bits(frac_bits)
            if t.ndim > 8:
                raise ValueError("share: at most 8 dimensions")
            if shape is not None and tuple(shape) != tuple(t.shape):
                raise ValueError(f"share: value has shape {tuple(t.shape)}, but shape={tuple(shape)} was given")
            enc = encode(t, frac_bits, device=s.device)
            seed = s.rng.random_seed16()
            dims = list(t.shape) + [0] * (8 - t.ndim)
            s.send_raw(np.frombuffer(_HDR.pack(seed, frac_bits, t.ndim, *dims), dtype=np.uint8))
            r = CtrStream(seed).random_tensor(tuple(t.shape), 64, device=s.device)
            return SharedTensor(s, enc - r, frac_bits)
        if value is not None:
            raise ValueError(f"share: only the owner (party {owner}) passes a value")
        seed, f, ndim, *dims = _HDR.unpack(s.recv_raw(_HDR.size).tobytes())
        if ndim > 8 or f > 40 or any(d != 0 for d in dims[ndim:]):
            raise ValueError("share: malformed header from the owner")
        got = tuple(dims[:ndim])
        checked_numel(got, "share: the owner's shape")  # before allocating (limits.MAX_ELEMENTS)
        if shape is not None and tuple(shape) != got:
            raise ValueError(f"share: the owner shared shape {got}, expected {tuple(shape)}")
        if frac_bits is not None and frac_bits != f:
            raise ValueError(f"share: the owner shared at frac_bits {f}, expected {frac_bits}")
        try:
            r = CtrStream(seed).random_tensor(got, 64, device=s.device)
        except (MemoryError, RuntimeError) as exc:
            raise ValueError(f"share: cannot allocate the owner's shape {got}: {exc}") from None
        return SharedTensor(s, r, f)


def _as_tensor(value) -> torch.Tensor:
    """The owner's value as a numeric tensor (ValueError for strings, objects, ragged lists)."""
    if isinstance(value, (str, bytes)):
        raise ValueError(f"value: expected numbers (tensor, array, list), got {type(value).__name__}")
    try:
        t = torch.as_tensor(value)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"value: cannot be read as a numeric tensor ({exc})") from None
    if t.dtype == torch.bool or t.is_complex():
        raise ValueError(f"value: expected real numbers, got {t.dtype}")
    return t


def from_public(session, value, frac_bits: int | None = None) -> SharedTensor:
    """A sharing of a value both parties know (party 0 holds it, party 1 holds 0); no traffic."""
    t = _as_tensor(value)
    if frac_bits is None:
        frac_bits = session.frac_bits if t.is_floating_point() else 0
    enc = encode(t, frac_bits, device=session.device)
    return SharedTensor(session, enc if session.party == 0 else torch.zeros_like(enc), frac_bits)
