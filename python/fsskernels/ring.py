"""Exact matrix products over the ring Z_{2^64} (the arithmetic of additive secret shares).

``ring_matmul(a, b)`` follows ``np.matmul`` shapes (1-D vectors, broadcast leading dims) and
computes every product and sum mod 2^64, bit-exactly, with the C++ kernel (IFMA / AVX-512 /
portable, threads from ``fsskernels.set_num_threads``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _C
from ._arrays import KIND_NUMPY, KIND_TORCH, array_kind, from_u64_numpy, is_cuda_kind, to_u64_numpy

__all__ = ["ring_matmul"]


def _cuda_ring_matmul(a: Any, b: Any) -> Any:
    try:
        from . import _cuda  # type: ignore[attr-defined]
    except ImportError:
        raise ValueError(
            "ring_matmul: CUDA is not available (fsskernels was built without the CUDA backend); "
            "move a and b to the CPU"
        ) from None
    return _cuda.ring_matmul(a, b)


def _numpy_signed(obj: Any) -> bool:
    return isinstance(obj, np.ndarray) and obj.dtype.kind == "i"


def ring_matmul(a: Any, b: Any) -> Any:
    """``a @ b`` mod 2^64, exact.

    a: (..., m, k) or (k,); b: (..., k, n) or (k,); leading dims broadcast as in np.matmul.
    Accepts numpy integer arrays (uint64, int64, narrower types sign- or zero-extended),
    CPU torch integer tensors, and nested lists. Returns numpy uint64, or numpy int64 when
    every numpy input is signed (int64 bit patterns), or a torch int64 tensor when any input
    is a torch tensor. CUDA tensors go to the CUDA backend when it is built.
    Raises ValueError (naming "a" or "b") for float/bool dtypes, scalars and shape mismatches.
    """
    ka, kb = array_kind(a), array_kind(b)
    if is_cuda_kind(ka) or is_cuda_kind(kb):
        return _cuda_ring_matmul(a, b)
    a_np = to_u64_numpy(a, "a")
    b_np = to_u64_numpy(b, "b")
    if a_np.ndim == 0:
        raise ValueError("a: expected at least 1 dimension, got a 0-d array")
    if b_np.ndim == 0:
        raise ValueError("b: expected at least 1 dimension, got a 0-d array")

    a_vec, b_vec = a_np.ndim == 1, b_np.ndim == 1
    a3 = a_np.reshape(1, -1) if a_vec else a_np
    b3 = b_np.reshape(-1, 1) if b_vec else b_np
    m, k = a3.shape[-2:]
    k2, n = b3.shape[-2:]
    if k != k2:
        raise ValueError(
            f"b: shape {tuple(b_np.shape)} does not match a: {tuple(a_np.shape)} "
            f"(a has k={k} columns, b has {k2} rows)"
        )
    a_batch, b_batch = a3.shape[:-2], b3.shape[:-2]
    try:
        batch = a_batch if a_batch == b_batch else np.broadcast_shapes(a_batch, b_batch)
    except ValueError:
        raise ValueError(
            f"b: leading dims {tuple(b_batch)} do not broadcast with a's {tuple(a_batch)} "
            f"(a: {tuple(a_np.shape)}, b: {tuple(b_np.shape)})"
        ) from None
    nb = math.prod(batch)
    b_count = math.prod(b_batch)
    # Broadcasting can ask for far more memory than the inputs hold: bound the arrays this
    # call materializes (Python ints, no overflow) by the kernels' 2^40-byte buffer limit.
    for name, elems in (("a", nb * m * k), ("b", (nb if b_count != 1 else 1) * k * n), ("out", nb * m * n)):
        if 8 * elems > _C.MAX_BUFFER_BYTES:
            raise ValueError(f"{name}: the broadcast product needs {8 * elems} bytes, above the 2^40-byte limit "
                             f"(a: {tuple(a_np.shape)}, b: {tuple(b_np.shape)})")

    if b_count == 1 and nb == math.prod(a_batch):
        # One shared B: fold a's batch into the rows, one (nb*m, k) @ (k, n) product.
        a_c = np.ascontiguousarray(a3).reshape(1, nb * m, k)
        b_c = np.ascontiguousarray(b3).reshape(1, k, n)
        out = np.empty((1, nb * m, n), dtype=np.uint64)
    else:
        a_full = a3 if a_batch == batch else np.broadcast_to(a3, batch + (m, k))
        a_c = np.ascontiguousarray(a_full).reshape(nb, m, k)
        if b_count == 1:
            b_c = np.ascontiguousarray(b3).reshape(1, k, n)
        else:
            b_full = b3 if b_batch == batch else np.broadcast_to(b3, batch + (k, n))
            b_c = np.ascontiguousarray(b_full).reshape(nb, k, n)
        out = np.empty((nb, m, n), dtype=np.uint64)

    _C.ring_matmul(a_c, b_c, out)

    shape = tuple(batch) + ((m,) if not a_vec else ()) + ((n,) if not b_vec else ())
    res = out.reshape(shape)
    if KIND_TORCH in (ka, kb):
        return from_u64_numpy(np.ascontiguousarray(res), KIND_TORCH)
    np_inputs = [x for x, kind in ((a, ka), (b, kb)) if kind == KIND_NUMPY]
    if np_inputs and all(_numpy_signed(x) for x in np_inputs):
        return res.view(np.int64)
    return res
