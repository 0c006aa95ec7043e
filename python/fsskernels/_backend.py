"""Backends, build information and the kernel thread count."""
from __future__ import annotations

import numbers
import os
from typing import Any

from . import _C


def _cuda_module():
    """The CUDA extension module, or None if it was not built or cannot load."""
    try:
        from . import _C_cuda  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _C_cuda


def cuda_device_count() -> int:
    mod = _cuda_module()
    if mod is None:
        return 0
    try:
        return int(mod.device_count())
    except RuntimeError:
        return 0


def available_backends() -> list[str]:
    """Backends usable on this machine: always "cpu"; "cuda" when the CUDA module is built
    and at least one GPU is visible."""
    return ["cpu", "cuda"] if cuda_device_count() > 0 else ["cpu"]


def build_info() -> dict[str, Any]:
    """Version, the CPU AES path in use (vaes / aes-ni / portable) and the ones this CPU
    supports, whether the CUDA module was compiled, and the visible GPUs."""
    mod = _cuda_module()
    gpus: list[str] = []
    if mod is not None:
        try:
            gpus = [str(name) for name in mod.device_names()]
        except RuntimeError:
            gpus = []
    return {
        "version": getattr(_C, "__version__", "unknown"),
        "cpu_aes_path": _C.aes_path(),
        "cpu_aes_paths_supported": list(_C.available_aes_paths()),
        "num_threads": _C.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "cuda_compiled": mod is not None,
        "cuda_archs": getattr(mod, "compiled_archs", None) if mod is not None else None,
        "gpus": gpus,
    }


def max_num_threads() -> int:
    """The largest count set_num_threads accepts: 8 x the cores, at most 1024 (larger OpenMP
    teams make libgomp fail)."""
    return int(_C.max_num_threads())


def set_num_threads(n: int) -> None:
    """Threads used by every CPU kernel (default: all cores). n: an integer in
    1..max_num_threads(); anything else raises ValueError naming "n"."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or int(n) < 1:
        raise ValueError(f"n: thread count must be an integer >= 1, got {n!r}")
    if int(n) > max_num_threads():
        raise ValueError(f"n: thread count {int(n)} exceeds the limit {max_num_threads()} "
                         f"(8 x the {os.cpu_count()} cores, at most 1024)")
    _C.set_num_threads(int(n))


def get_num_threads() -> int:
    return int(_C.get_num_threads())
