"""Ring linear algebra used by the protocols: exact products mod 2^64 on int64 tensors."""
from __future__ import annotations

import torch


def ring_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a @ b mod 2^64 for int64 tensors (..., m, k) @ (..., k, n) with broadcast batch
    dimensions, on a's device. Calls ``fsskernels.ring_matmul`` (looked up at call time)."""
    import fsskernels

    if a.device != b.device:
        raise ValueError(f"ring_matmul: operands on different devices ({a.device}, {b.device})")
    return fsskernels.ring_matmul(a.contiguous(), b.contiguous())
