"""The fixed-key AES correlation-robust hash H(x, j) = AES_K(x ^ j) ^ x ^ j (docs/kernels.md)."""
from __future__ import annotations

import numbers

import numpy as np

from . import _C


def prg_hash(blocks, tweak: int = 0, out: np.ndarray | None = None) -> np.ndarray:
    """H(block, tweak) for every row of `blocks` (uint8 array of shape (n, 16)); returns
    a new uint8 array of shape (n, 16), or writes into `out` (same shape, C-contiguous; may
    be `blocks` itself) and returns it. tweak: integer in [0, 2^64). Multi-threaded for
    large n."""
    if not isinstance(blocks, np.ndarray):
        raise ValueError(f"blocks: expected a numpy uint8 array of shape (n, 16), got {type(blocks).__name__}")
    if blocks.dtype != np.uint8:
        raise ValueError(f"blocks: expected dtype uint8, got {blocks.dtype}")
    if blocks.ndim != 2 or blocks.shape[1] != 16:
        raise ValueError(f"blocks: expected shape (n, 16), got {blocks.shape}")
    if isinstance(tweak, bool) or not isinstance(tweak, numbers.Integral) or not 0 <= int(tweak) < 2**64:
        raise ValueError(f"tweak: expected an integer in [0, 2^64), got {tweak!r}")
    if out is not None and not isinstance(out, np.ndarray):
        raise ValueError(f"out: expected a numpy uint8 array, got {type(out).__name__}")
    return _C.prg_hash(np.ascontiguousarray(blocks), int(tweak), out)
