"""Where nn/ gets its FSS gates: ``fsskernels.mpc.functional`` (the "MF" contract).

``gates()`` returns the gate module; ``use_gates(module)`` (a context manager) swaps in
another implementation of the same contract for the calling code, e.g. a test oracle.
The swap is process-wide (both parties of ``run_local`` are threads of one process).
Raises ImportError with a clear message if the gate suite is not installed.
"""
from __future__ import annotations

import contextlib

_override = None


def gates():
    """The gate module (MF): the override if one is active, else fsskernels.mpc.functional."""
    if _override is not None:
        return _override
    try:
        from ..mpc import functional
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("fsskernels.nn needs the gate suite fsskernels.mpc.functional, which is not available: "
                          f"{exc}") from exc
    return functional


def available() -> bool:
    """True if the real gate suite can be imported."""
    try:
        from ..mpc import functional  # noqa: F401
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def use_gates(module):
    """Use ``module`` (same API as fsskernels.mpc.functional) inside the block."""
    global _override
    before = _override
    _override = module
    try:
        yield module
    finally:
        _override = before
