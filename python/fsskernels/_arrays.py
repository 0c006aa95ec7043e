"""Array-kind plumbing: accept numpy, CPU torch, and CUDA arrays (torch, CuPy), compute on
uint64 numpy views (CPU) or raw device pointers (CUDA), and hand results back as the caller's
kind. Shares are uint64 in numpy/CuPy and int64 (same bits, two's complement) in torch,
because torch's uint64 support is partial.

Python ints, lists and tuples are accepted only when every element is an integer (Python int
or numpy integer; not bool, float, Fraction, Decimal, str) in [-2^63, 2^64), the range of the
int64 / uint64 bit patterns the kernels take: negative values become their two's complement.
Anything else raises ValueError naming the argument (never a silent rounding or reduction).
Torch tensors must be strided (dense) CPU tensors: sparse, meta and other layouts raise
ValueError.
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

INT_MIN = -(1 << 63)  # smallest accepted Python integer (int64 minimum)
INT_LIMIT = 1 << 64   # accepted Python integers are < 2^64 (uint64 maximum + 1)


def check_int(value: Any, name: str) -> int:
    """value as a Python int in [-2^63, 2^64), or ValueError naming `name` (floats, bools and
    other non-integers are never rounded)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: expected integers, got {type(value).__name__} {value!r}")
    v = int(value)
    if not INT_MIN <= v < INT_LIMIT:
        raise ValueError(f"{name}: value {v} is outside [-2^63, 2^64)")
    return v


def _list_to_u64(obj: Any, name: str) -> np.ndarray:
    try:
        objs = np.asarray(obj, dtype=object)
    except ValueError as exc:  # ragged nesting
        raise ValueError(f"{name}: expected a rectangular list of integers ({exc})") from None
    flat = objs.ravel()
    vals = []
    for i, v in enumerate(flat):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            raise ValueError(f"{name}: element {i} is not an integer: {type(v).__name__} {v!r}")
        iv = int(v)
        if not INT_MIN <= iv < INT_LIMIT:
            raise ValueError(f"{name}: element {i} = {iv} is outside [-2^63, 2^64)")
        vals.append(iv % INT_LIMIT)
    return np.array(vals, dtype=np.uint64).reshape(objs.shape)


def to_u64_numpy(obj: Any, name: str, *, allow_scalar: bool = False) -> np.ndarray:
    """A C-contiguous uint64 numpy array holding obj's integer values (bit patterns for
    signed types, so int64 -1 becomes 2^64 - 1). Raises ValueError naming `name` for floats,
    bools, non-arrays and CUDA arrays."""
    if isinstance(obj, bool) or isinstance(obj, np.bool_):
        raise ValueError(f"{name}: expected integers, got bool")
    if isinstance(obj, numbers.Integral):
        if not allow_scalar:
            raise ValueError(f"{name}: expected an array, got a scalar")
        return np.array([check_int(obj, name) % INT_LIMIT], dtype=np.uint64)
    kind = array_kind(obj)
    if kind is None:
        if isinstance(obj, (list, tuple)):
            return _list_to_u64(obj, name)
        raise ValueError(f"{name}: expected a numpy array, torch tensor or CuPy array, got {type(obj).__name__}")
    if is_cuda_kind(kind):
        raise ValueError(f"{name}: is on a CUDA device, but the other arguments are on the CPU")
    if kind == KIND_TORCH:
        import torch

        check_torch_dense(obj, name)
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


def check_torch_dense(t: Any, name: str) -> None:
    """ValueError naming `name` unless t is a strided tensor with real storage (not sparse,
    not on the meta device)."""
    import torch

    if t.layout != torch.strided:
        raise ValueError(f"{name}: sparse or non-strided tensors are not supported (layout {t.layout}); "
                         "use .to_dense()")
    if t.device.type == "meta":
        raise ValueError(f"{name}: is a meta tensor (no data)")
    if t.device.type not in ("cpu", "cuda"):
        raise ValueError(f"{name}: tensors on device {t.device} are not supported (CPU or CUDA only)")


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
