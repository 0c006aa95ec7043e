"""Channels: how one party's bytes reach the other.

A channel moves uint8 numpy arrays. The receiver always knows how many bytes to expect
(the protocols are SPMD and shapes are public), so messages carry no framing; a size that
differs from the expectation is a ProtocolMismatchError. Accounting (bytes, rounds) lives
in the Session, not here.

``LocalChannel``: the two parties as two threads of one process (two queues).
``GlooChannel`` (net.py): two processes over TCP through torch.distributed's Gloo backend.
"""
from __future__ import annotations

import queue
import threading

import numpy as np

from .errors import PeerError, PeerTimeoutError, ProtocolMismatchError


class Channel:
    """Interface. ``party`` is this side's id (0 or 1); ``timeout`` (seconds) bounds every
    wait for the peer; after any PeerError the channel stays broken."""

    party: int
    timeout: float

    def send(self, data: np.ndarray) -> None:
        raise NotImplementedError

    def recv(self, nbytes: int) -> np.ndarray:
        raise NotImplementedError

    def exchange(self, data: np.ndarray, nbytes: int) -> np.ndarray:
        """Send ``data`` and receive ``nbytes`` from the peer at the same time (one round)."""
        raise NotImplementedError

    def exchange_start(self, data: np.ndarray, nbytes: int):
        """Start an exchange; returns a callable that waits and returns the received bytes.
        Exchanges started in a row complete in the same order on both sides."""
        self.send(data)
        return lambda: self.recv(nbytes)

    def abort(self, reason: str) -> None:
        """Make the peer's pending and future receives fail fast (best effort)."""

    def close(self) -> None:
        pass


class _Abort:
    def __init__(self, reason: str) -> None:
        self.reason = reason


class LocalChannel(Channel):
    """One end of an in-process pipe pair (see ``local_channel_pair``)."""

    def __init__(self, party: int, inbox: queue.Queue, outbox: queue.Queue, timeout: float) -> None:
        self.party = party
        self.timeout = float(timeout)
        self._inbox = inbox
        self._outbox = outbox
        self._broken: str | None = None
        self._lock = threading.Lock()

    def _check(self) -> None:
        if self._broken is not None:
            raise PeerError(f"channel is broken: {self._broken}")

    def send(self, data: np.ndarray) -> None:
        self._check()
        self._outbox.put(np.array(data, dtype=np.uint8, copy=True).reshape(-1))

    def recv(self, nbytes: int) -> np.ndarray:
        self._check()
        try:
            item = self._inbox.get(timeout=self.timeout)
        except queue.Empty:
            self._broken = f"party {1 - self.party} sent nothing for {self.timeout:g} s"
            raise PeerTimeoutError(f"party {self.party}: timed out after {self.timeout:g} s waiting for party {1 - self.party}") from None
        if isinstance(item, _Abort):
            self._broken = item.reason
            raise PeerError(f"party {self.party}: peer party {1 - self.party} failed: {item.reason}")
        if item.size != nbytes:
            self._broken = "message size mismatch"
            raise ProtocolMismatchError(f"party {self.party}: expected a {nbytes}-byte message, got {item.size} bytes")
        return item

    def exchange(self, data: np.ndarray, nbytes: int) -> np.ndarray:
        self.send(data)
        return self.recv(nbytes)

    def abort(self, reason: str) -> None:
        self._outbox.put(_Abort(reason))
        self._broken = self._broken or reason


def local_channel_pair(timeout: float = 60.0) -> tuple[LocalChannel, LocalChannel]:
    """Two connected channels for parties 0 and 1 living in threads of one process."""
    a, b = queue.Queue(), queue.Queue()
    return LocalChannel(0, a, b, timeout), LocalChannel(1, b, a, timeout)
