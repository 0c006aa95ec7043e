"""Bit-packing of ring elements for the wire.

``pack(v, bits)`` stores n values of a ``bits``-bit ring in exactly ceil(n * bits / 8) bytes;
only the low ``bits`` bits of each value are kept (packing is also the reduction mod
2^bits); ``unpack`` inverts it. Layout: bits = 64 is the plain little-endian array; otherwise, for bits = 8q + rem (0 <= rem < 8):
  1. the low q bytes of every value, as byte planes of width 4, 2, 1 (taken greedily: q = 6
     is a plane of the low 4 bytes of every value, then a plane of bytes 4..5), each plane
     value-major and little-endian;
  2. then bits [8q, 8q + rem) of every value as one little-endian bit string (value i at
     bits [i * rem, (i + 1) * rem)), ceil(n * rem / 8) bytes.
The work is done by the C++ kernels ``fsskernels._C.pack_bits`` / ``unpack_bits``
(csrc/cpu/bitpack.cpp, fsskernels/pack.h): one pass per plane, the GIL released.
"""
from __future__ import annotations

import sys

import numpy as np

from .. import _C

if sys.byteorder != "little":  # pragma: no cover
    raise ImportError("fsskernels.mpc.packing needs a little-endian host")


def packed_nbytes(n: int, bits: int) -> int:
    """Bytes taken by n values of ``bits`` bits: ceil(n * bits / 8)."""
    return (int(n) * int(bits) + 7) // 8


def _check_bits(bits) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 1 <= bits <= 64:
        raise ValueError(f"bits: must be an integer in 1..64, got {bits!r}")
    return int(bits)


def _as_u64(values) -> np.ndarray:
    if not isinstance(values, np.ndarray):
        import torch

        if isinstance(values, torch.Tensor):
            if values.dtype != torch.int64:
                raise ValueError(f"values: expected torch.int64, got {values.dtype}")
            values = values.detach().cpu().contiguous().numpy()
        else:
            raise ValueError(f"values: expected a numpy array or torch tensor, got {type(values).__name__}")
    if values.dtype not in (np.uint64, np.int64):
        raise ValueError(f"values: expected uint64 or int64, got {values.dtype}")
    return np.ascontiguousarray(values).reshape(-1).view(np.uint64)


def pack(values, bits: int, out: np.ndarray | None = None) -> np.ndarray:
    """Pack the low ``bits`` bits of each value (numpy uint64/int64 or torch int64, any shape,
    flattened in C order) into a uint8 array of ceil(n * bits / 8) bytes (written into
    ``out`` if given: a 1-D uint8 array of exactly that size)."""
    bits = _check_bits(bits)
    v = _as_u64(values)
    n = v.size
    nbytes = packed_nbytes(n, bits)
    if out is None:
        out = np.empty(nbytes, np.uint8)
    elif out.dtype != np.uint8 or out.shape != (nbytes,):
        raise ValueError(f"out: expected a uint8 array of {nbytes} bytes")
    _C.pack_bits(v, bits, out)
    return out


def unpack(buf, n: int, bits: int) -> np.ndarray:
    """Inverse of ``pack``: n values in [0, 2^bits) as a uint64 array. ValueError if the
    buffer does not have exactly ceil(n * bits / 8) bytes."""
    bits = _check_bits(bits)
    buf = np.frombuffer(buf, np.uint8) if not isinstance(buf, np.ndarray) else buf
    if buf.dtype != np.uint8 or buf.ndim != 1:
        raise ValueError("buf: expected a 1-D uint8 array")
    if buf.size != packed_nbytes(n, bits):
        raise ValueError(f"buf: expected {packed_nbytes(n, bits)} bytes for {n} values of {bits} bits, got {buf.size}")
    if bits == 64:
        return buf.view(np.uint64).copy() if n else np.zeros(0, np.uint64)
    v = np.empty(n, np.uint64)
    _C.unpack_bits(np.ascontiguousarray(buf), bits, v)
    return v
