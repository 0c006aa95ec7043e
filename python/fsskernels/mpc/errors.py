"""Exceptions of the two-party runtime.

Every failure of the peer or of the dealer surfaces as a subclass of ``MpcError`` on the
party that notices it; nothing is retried and no partial result is returned.
"""
from __future__ import annotations


class MpcError(RuntimeError):
    """Base class of runtime failures (not of argument errors, which are ValueError)."""


class PeerError(MpcError):
    """The other party (or the dealer) closed the connection, crashed, or sent a message that
    does not fit the protocol. The session is unusable afterwards."""


class PeerTimeoutError(PeerError, TimeoutError):
    """The other party (or the dealer) did not answer within the session's timeout."""


class ProtocolMismatchError(MpcError):
    """The two parties asked for different things at the same step (different shapes,
    material kinds or message sizes): the SPMD programs have diverged."""


class MaterialError(ValueError):
    """Dealer material is malformed, belongs to another session/party, or arrives out of order."""


class MaterialReuseError(MaterialError):
    """A piece of dealer material was presented a second time. Correlated randomness is
    one-time: using a triple or a mask twice would leak the secrets it protects."""
