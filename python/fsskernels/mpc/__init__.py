"""fsskernels.mpc: the two-party runtime (semi-honest parties P0, P1 and a dealer).

Shares are additive over Z_2^64 (torch.int64), fixed point with ``frac_bits`` fractional
bits (default 16). Protocols are SPMD: write ``fn(session, ...)`` once and run it as two
threads (``run_local``) or two processes (``run_network`` + a dealer process).

    from fsskernels import mpc
    def prog(s, x=None, w=None):
        X = mpc.share(s, x, owner=0)                  # party 0's private data
        W = mpc.freeze_owned(s, w, owner=1, shape=(768, 768))  # party 1's frozen weight
        return (X @ W).reveal(to=0), s.stats()
    r0, r1 = mpc.run_local(prog, ...)

See docs/runtime.md for the API, the security model and the error bounds.
"""
from __future__ import annotations

from .errors import (MaterialError, MaterialReuseError, MpcError, PeerError, PeerTimeoutError,
                     ProtocolMismatchError)
from . import gates as _gates  # registers the FSS gates' dealer material kinds
from .frozen import FrozenMatrix, freeze, freeze_owned
from .fss import dealer_fss_keys, fss_keys
from .runner import local_sessions, network_session, run_local, run_network
from .session import FixedPointConfig, Session
from .sharing import from_public, share
from .stats import LINKS, project_time
from .tensor import SharedTensor, cat, stack
from .tls import TlsConfig

__all__ = [
    "FixedPointConfig", "FrozenMatrix", "TlsConfig", "LINKS", "MaterialError", "MaterialReuseError", "MpcError", "PeerError",
    "PeerTimeoutError", "ProtocolMismatchError", "Session", "SharedTensor", "cat", "freeze", "freeze_owned",
    "dealer_fss_keys", "from_public", "fss_keys", "local_sessions", "network_session", "project_time", "run_local", "run_network", "share", "stack",
]
