"""Size limits for everything that comes from the network (peer messages, dealer pieces, requests).

A peer or a corrupted dealer piece can claim any dimensions; the runtime checks every count
with Python integers (no overflow) against these limits *before* allocating, and raises
ValueError / MaterialError instead of MemoryError or a crash. The limits are far above what
the 2-party protocols of this project need (a 1024 x 4096 activation is 2^22 elements) and
below what a 64-bit size computation could overflow.

MAX_ELEMENTS       2^32 elements in one tensor / array of a piece (32 GiB as int64)
MAX_NDIM           8 dimensions
MAX_MESSAGE_BYTES  2^35 bytes in one party-to-party message
MAX_PIECE_BYTES    2^35 bytes in one dealer piece on the wire
"""
from __future__ import annotations

import numbers

MAX_ELEMENTS = 1 << 32
MAX_NDIM = 8
MAX_MESSAGE_BYTES = 1 << 35
MAX_PIECE_BYTES = 1 << 35


def checked_numel(shape, what: str = "shape", error=ValueError, limit: int = MAX_ELEMENTS) -> int:
    """The number of elements of ``shape`` (exact, Python integers), or ``error`` naming
    ``what`` if a dimension is not a non-negative integer, there are more than MAX_NDIM
    dimensions, or the count exceeds ``limit``."""
    try:
        dims = tuple(shape)
    except TypeError:
        raise error(f"{what}: expected a tuple of dimensions, got {type(shape).__name__}") from None
    if len(dims) > MAX_NDIM:
        raise error(f"{what}: {len(dims)} dimensions, at most {MAX_NDIM}")
    n = 1
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 0:
            raise error(f"{what}: dimensions must be non-negative integers, got {dims}")
        n *= int(d)
        if n > limit:
            raise error(f"{what}: {dims} has more than {limit} elements (the runtime's limit)")
    return n
