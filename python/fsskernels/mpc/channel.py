"""Channels: how one party's bytes reach the other, with divergence detection.

A channel moves uint8 numpy arrays between the two parties. Every message carries a 24-byte
header (magic b"FSMP", operation kind, operation index, payload length). Both parties count
their channel operations (send, recv, exchange) in program order; in SPMD protocols the k-th
operation of one party pairs with the k-th operation of the other (a send with a recv, an
exchange with an exchange). The receiver knows what it expects (SPMD: sizes are public) and
checks the header *before* reading the payload: a different operation index, an
exchange/send mix-up or another length raises ``ProtocolMismatchError`` (the two programs
diverged, e.g. party 0 revealing X to both while party 1 reveals it to party 0 only). The
peer never chooses an allocation size: a length other than the expected one is refused.

Receives complete in the order they were posted (``exchange_start`` posts its receive at
once), as in MPI/Gloo point-to-point semantics. Accounting (bytes, rounds) lives in the
Session, not here; it counts payload bytes (the header is 24 bytes per message).

``LocalChannel``: the two parties as two threads of one process (two queues).
``SocketChannel`` (net.py): two processes over TCP, TLS 1.3 with pinned certificates.
"""
from __future__ import annotations

import math
import numbers
import queue
import struct
import threading

import numpy as np

from .errors import PeerError, PeerTimeoutError, ProtocolMismatchError
from .limits import MAX_MESSAGE_BYTES

MSG_HEADER = struct.Struct("<4sB3xQQ")  # magic, kind, pad, operation index, payload length
MSG_MAGIC = b"FSMP"
SEND, EXCHANGE = 1, 2
_KIND_NAME = {SEND: "one-way send", EXCHANGE: "exchange"}


def check_timeout(timeout, name: str = "timeout") -> float:
    """A finite positive number of seconds (ValueError otherwise, also for inf/NaN)."""
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise ValueError(f"{name}: expected a number of seconds, got {timeout!r}")
    t = float(timeout)
    if not math.isfinite(t) or t <= 0 or t > 1e6:
        raise ValueError(f"{name}: must be a finite number of seconds in (0, 1e6], got {timeout!r}")
    return t


class Channel:
    """Base class. ``party`` is this side's id (0 or 1); ``timeout`` (seconds) bounds every
    wait for the peer; after any PeerError or ProtocolMismatchError the channel stays broken.

    Subclasses implement ``_put(header, payload)`` (queue one message for the peer; returns
    a callable that waits until the message was handed to the transport, or None) and
    ``_pull(check)`` (the next incoming message: read its header, call ``check(header)``
    which raises on a mismatch, then return the payload)."""

    def __init__(self, party: int, timeout: float) -> None:
        if party not in (0, 1):
            raise ValueError(f"party: must be 0 or 1, got {party!r}")
        self.party = party
        self.timeout = check_timeout(timeout)
        self._broken: str | None = None
        self._op = 0              # operations so far (program order)
        self._posted = 0          # receives posted so far
        self._pulled = 0          # incoming messages read so far
        self._expect: dict = {}   # receive slot -> (kind, op, nbytes)
        self._stash: dict = {}    # receive slot -> payload read before its waiter ran
        self._recv_lock = threading.Lock()

    # -- transport hooks ------------------------------------------------------------------
    def _put(self, header: bytes, payload: np.ndarray):
        raise NotImplementedError

    def _pull(self, check) -> np.ndarray:
        raise NotImplementedError

    # -- framing --------------------------------------------------------------------------
    def _check(self) -> None:
        if self._broken is not None:
            raise PeerError(f"party {self.party}: channel is broken: {self._broken}")

    def _fail(self, exc: Exception) -> Exception:
        self._broken = self._broken or str(exc)
        return exc

    def _checker(self, kind: int, op: int, nbytes: int):
        def check(header: bytes) -> None:
            try:
                magic, hkind, hop, hlen = MSG_HEADER.unpack(header)
            except struct.error:
                raise ProtocolMismatchError(f"party {self.party}: malformed message header") from None
            if magic != MSG_MAGIC or hkind not in _KIND_NAME:
                raise ProtocolMismatchError(f"party {self.party}: the peer's message has no valid header "
                                            "(not this protocol, or the stream is corrupted)")
            if hop != op or hkind != kind or hlen != nbytes:
                raise ProtocolMismatchError(
                    f"party {self.party}: the two programs diverged: at operation {op} this party expects a "
                    f"{_KIND_NAME[kind]} of {nbytes} bytes, the peer sent a {_KIND_NAME[hkind]} of {hlen} bytes "
                    f"at its operation {hop}")
        return check

    def _next_op(self) -> int:
        self._check()
        op = self._op
        self._op += 1
        return op

    def _send_msg(self, kind: int, op: int, data: np.ndarray):
        a = np.ascontiguousarray(data, dtype=np.uint8).reshape(-1)
        if a.size > MAX_MESSAGE_BYTES:
            raise ValueError(f"data: {a.size} bytes exceeds the {MAX_MESSAGE_BYTES}-byte message limit")
        try:
            done = self._put(MSG_HEADER.pack(MSG_MAGIC, kind, op, a.size), a)
        except PeerError as exc:
            raise self._fail(exc) from None

        def wait_sent() -> None:
            if done is not None:
                try:
                    done()
                except PeerError as exc:
                    raise self._fail(exc) from None
        return wait_sent

    def _post(self, kind: int, op: int, nbytes: int) -> int:
        nbytes = int(nbytes)
        if not 0 <= nbytes <= MAX_MESSAGE_BYTES:
            raise ValueError(f"nbytes: must be in [0, {MAX_MESSAGE_BYTES}], got {nbytes}")
        with self._recv_lock:
            slot = self._posted
            self._posted += 1
            self._expect[slot] = (kind, op, nbytes)
        return slot

    def _wait(self, slot: int) -> np.ndarray:
        with self._recv_lock:
            self._check()
            try:
                while slot not in self._stash:
                    k = self._pulled
                    kind, op, nbytes = self._expect.pop(k)
                    self._stash[k] = self._pull(self._checker(kind, op, nbytes))
                    self._pulled += 1
            except (PeerError, ProtocolMismatchError) as exc:
                raise self._fail(exc) from None
            return self._stash.pop(slot)

    # -- public interface -----------------------------------------------------------------
    def send(self, data: np.ndarray) -> None:
        """Send ``data`` to the peer (one-way; pairs with the peer's ``recv``); returns once
        the bytes are handed to the transport."""
        self._send_msg(SEND, self._next_op(), data)()

    def recv(self, nbytes: int) -> np.ndarray:
        """Receive the peer's one-way message of exactly ``nbytes`` bytes."""
        op = self._next_op()
        return self._wait(self._post(SEND, op, nbytes))

    def exchange(self, data: np.ndarray, nbytes: int) -> np.ndarray:
        """Send ``data`` and receive ``nbytes`` from the peer at the same time (one round)."""
        return self.exchange_start(data, nbytes)()

    def exchange_start(self, data: np.ndarray, nbytes: int):
        """Start an exchange; returns a callable that waits and returns the received bytes.
        Exchanges started in a row complete in the same order on both sides."""
        op = self._next_op()
        slot = self._post(EXCHANGE, op, nbytes)
        sent = self._send_msg(EXCHANGE, op, data)

        def finish() -> np.ndarray:
            out = self._wait(slot)
            sent()
            return out
        return finish

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
        super().__init__(party, timeout)
        self._inbox = inbox
        self._outbox = outbox

    def _put(self, header: bytes, payload: np.ndarray):
        self._outbox.put((header, payload.copy()))
        return None

    def _pull(self, check) -> np.ndarray:
        try:
            item = self._inbox.get(timeout=self.timeout)
        except queue.Empty:
            raise PeerTimeoutError(f"party {self.party}: timed out after {self.timeout:g} s waiting for party "
                                   f"{1 - self.party}") from None
        if isinstance(item, _Abort):
            raise PeerError(f"party {self.party}: peer party {1 - self.party} failed: {item.reason}")
        check(item[0])
        return item[1]

    def abort(self, reason: str) -> None:
        self._outbox.put(_Abort(reason))
        self._broken = self._broken or reason


def local_channel_pair(timeout: float = 60.0) -> tuple[LocalChannel, LocalChannel]:
    """Two connected channels for parties 0 and 1 living in threads of one process."""
    timeout = check_timeout(timeout)
    a, b = queue.Queue(), queue.Queue()
    return LocalChannel(0, a, b, timeout), LocalChannel(1, b, a, timeout)
