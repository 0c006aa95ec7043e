"""Array-kind plumbing: accept numpy, CPU torch, and CUDA arrays (torch, CuPy), compute on
uint64 numpy views (CPU) or raw device pointers (CUDA), and hand results back as the caller's
kind. Shares are uint64 in numpy/CuPy and int64 (same bits, two's complement) in torch,
because torch's uint64 support is partial.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

KIND_NUMPY = "numpy"
KIND_TORCH = "torch"
KIND_TORCH_CUDA = "torch-cuda"
KIND_CUPY = "cupy"


def array_kind(obj: Any) -> str | None:
    """The kind of an array argument, or None if it is not an array."""
    if isinstance(obj, np.ndarray):
        return KIND_NUMPY
    mod = type(obj).__module__
    if mod.startswith("torch"):
        return KIND_TORCH_CUDA if obj.is_cuda else KIND_TORCH
    if mod.startswith("cupy"):
        return KIND_CUPY
    return None


def is_cuda_kind(kind: str | None) -> bool:
    return kind in (KIND_TORCH_CUDA, KIND_CUPY)


_INT_DTYPES_NP = (np.uint64, np.int64, np.uint32, np.int32, np.uint16, np.int16, np.uint8, np.int8)


def to_u64_numpy(obj: Any, name: str, *, allow_scalar: bool = False) -> np.ndarray:
    """A C-contiguous uint64 numpy array holding obj's integer values (bit patterns for
    signed types, so int64 -1 becomes 2^64 - 1). Raises ValueError naming `name` for floats,
    bools, non-arrays and CUDA arrays."""
    if isinstance(obj, bool) or isinstance(obj, np.bool_):
        raise ValueError(f"{name}: expected integers, got bool")
    if isinstance(obj, numbers.Integral):
        if not allow_scalar:
            raise ValueError(f"{name}: expected an array, got a scalar")
        return np.array([int(obj) % (1 << 64)], dtype=np.uint64)
    kind = array_kind(obj)
    if kind is None:
        if isinstance(obj, (list, tuple)):
            try:
                arr = np.array([int(v) % (1 << 64) for v in np.asarray(obj, dtype=object).ravel()], dtype=np.uint64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name}: expected integers ({exc})") from None
            return arr.reshape(np.shape(obj))
        raise ValueError(f"{name}: expected a numpy array, torch tensor or CuPy array, got {type(obj).__name__}")
    if is_cuda_kind(kind):
        raise ValueError(f"{name}: is on a CUDA device, but the other arguments are on the CPU")
    if kind == KIND_TORCH:
        import torch

        if obj.dtype in (torch.bool,) or obj.dtype.is_floating_point or obj.dtype.is_complex:
            raise ValueError(f"{name}: expected an integer dtype, got {obj.dtype}")
        obj = obj.detach().contiguous().numpy()
    arr = obj
    if arr.dtype == np.bool_ or arr.dtype.kind not in "iu":
        raise ValueError(f"{name}: expected an integer dtype, got {arr.dtype}")
    if arr.dtype == np.uint64:
        return np.ascontiguousarray(arr)
    if arr.dtype == np.int64:
        return np.ascontiguousarray(arr).view(np.uint64)
    # Narrow types: sign-extend signed ones to 64-bit two's complement.
    return np.ascontiguousarray(arr.astype(np.int64) if arr.dtype.kind == "i" else arr.astype(np.uint64)).view(np.uint64)


def from_u64_numpy(arr: np.ndarray, kind: str) -> Any:
    """Return a uint64 numpy result as the caller's kind (torch: int64 bits)."""
    if kind == KIND_TORCH:
        import torch

        return torch.from_numpy(arr.view(np.int64))
    return arr


def check_bits(value: Any, name: str, lo: int = 1, hi: int = 64) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: expected an integer in {lo}..{hi}, got {value!r}")
    value = int(value)
    if not lo <= value <= hi:
        raise ValueError(f"{name}: must be in {lo}..{hi}, got {value}")
    return value


def check_party(party: Any) -> int:
    if isinstance(party, bool) or not isinstance(party, numbers.Integral) or int(party) not in (0, 1):
        raise ValueError(f"party: must be 0 or 1, got {party!r}")
    return int(party)
