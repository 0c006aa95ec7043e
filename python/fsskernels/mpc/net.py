"""Network transport: torch.distributed Gloo over TCP (two parties, optionally a dealer).

Ranks: 0 = party 0 (hosts the rendezvous TCPStore), 1 = party 1, 2 = dealer process (when
the dealer runs separately). Messages are point-to-point Gloo send/recv of uint8 tensors;
Gloo enforces the process-group timeout on every wait and reports a closed connection at
once, which we turn into PeerTimeoutError / PeerError. docs/runtime.md explains the choice of
Gloo over a hand-written socket channel (measured).
"""
from __future__ import annotations

import datetime

import numpy as np

from .channel import Channel
from .errors import PeerError, PeerTimeoutError, ProtocolMismatchError


def _translate(exc: Exception, who: str, timeout: float) -> PeerError:
    msg = str(exc)
    low = msg.lower()
    if "timed out" in low or "timeout" in low:
        return PeerTimeoutError(f"{who}: no answer within {timeout:g} s ({msg.splitlines()[0][:200]})")
    if "size" in low and "mismatch" in low:
        return ProtocolMismatchError(f"{who}: message size mismatch ({msg.splitlines()[0][:200]})")  # type: ignore[return-value]
    return PeerError(f"{who}: connection lost ({msg.splitlines()[0][:200]})")


def connect(rank: int, world_size: int, host: str, port: int, timeout: float, connect_timeout: float | None = None,
            bind_host: str | None = None):
    """A Gloo process group of ``world_size`` ranks rendezvousing at host:port (rank 0 runs
    the TCPStore there). ``timeout`` bounds every later send/recv; ``connect_timeout``
    (default: timeout) bounds the rendezvous. ``bind_host``: the address this rank's Gloo
    device binds to (default: Gloo's choice from the hostname). Raises PeerTimeoutError if
    the others do not show up in time."""
    import torch.distributed as dist

    if not dist.is_available() or not dist.is_gloo_available():
        raise RuntimeError("torch.distributed with the Gloo backend is not available in this torch build")
    ct = datetime.timedelta(seconds=float(connect_timeout if connect_timeout is not None else timeout))
    try:
        store = dist.TCPStore(host, int(port), world_size, rank == 0, timeout=ct)
        opts = dist.ProcessGroupGloo._Options()
        opts._timeout = datetime.timedelta(seconds=float(timeout))
        dev = dist.ProcessGroupGloo.create_device(hostname=bind_host) if bind_host else dist.ProcessGroupGloo.create_default_device()
        opts._devices = [dev]
        pg = dist.ProcessGroupGloo(store, rank, world_size, opts)
    except RuntimeError as exc:  # DistStoreError is a RuntimeError
        raise _translate(exc, f"rank {rank}: rendezvous at {host}:{port}", float(ct.total_seconds())) from None
    return store, pg


def _writable(data: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(data, dtype=np.uint8).reshape(-1)
    return a if a.flags.writeable else a.copy()


class GlooLink:
    """Point-to-point byte transport to one peer rank of a Gloo process group."""

    def __init__(self, pg, peer_rank: int, timeout: float, who: str) -> None:
        self._pg = pg
        self._peer = int(peer_rank)
        self.timeout = float(timeout)
        self._who = who
        self._broken: str | None = None

    def _call(self, op) -> None:
        """Run a Gloo operation; its RuntimeErrors become PeerError / PeerTimeoutError."""
        try:
            op()
        except RuntimeError as exc:
            err = _translate(exc, self._who, self.timeout)
            self._broken = str(err)
            raise err from None

    def _check(self) -> None:
        if self._broken is not None:
            raise PeerError(f"{self._who}: link is broken: {self._broken}")

    def send(self, data: np.ndarray) -> None:
        import torch

        self._check()
        if data.size == 0:
            return
        t = torch.from_numpy(_writable(data))
        self._call(lambda: self._pg.send([t], self._peer, 0).wait())

    def recv(self, nbytes: int) -> np.ndarray:
        import torch

        self._check()
        out = torch.empty(int(nbytes), dtype=torch.uint8)
        if nbytes:
            self._call(lambda: self._pg.recv([out], self._peer, 0).wait())
        return out.numpy()

    def exchange(self, data: np.ndarray, nbytes: int) -> np.ndarray:
        import torch

        self._check()
        out = torch.empty(int(nbytes), dtype=torch.uint8)
        t = torch.from_numpy(_writable(data)) if data.size else None

        def run() -> None:
            ws = self._pg.send([t], self._peer, 0) if t is not None else None
            if nbytes:
                self._pg.recv([out], self._peer, 0).wait()
            if ws is not None:
                ws.wait()

        self._call(run)
        return out.numpy()


    def exchange_start(self, data: np.ndarray, nbytes: int):
        import torch

        self._check()
        out = torch.empty(int(nbytes), dtype=torch.uint8)
        t = torch.from_numpy(_writable(data)) if data.size else None
        works: list = []
        self._call(lambda: works.extend([self._pg.send([t], self._peer, 0) if t is not None else None,
                                         self._pg.recv([out], self._peer, 0) if nbytes else None]))

        def wait() -> np.ndarray:
            self._check()
            self._call(lambda: [w.wait() for w in works[::-1] if w is not None])
            return out.numpy()

        return wait


class GlooChannel(Channel):
    """The party-to-party channel over Gloo (party p talks to rank 1 - p)."""

    def __init__(self, pg, party: int, timeout: float) -> None:
        self.party = int(party)
        self.timeout = float(timeout)
        self._link = GlooLink(pg, 1 - self.party, timeout, f"party {self.party} <- party {1 - self.party}")

    def send(self, data: np.ndarray) -> None:
        self._link.send(data)

    def recv(self, nbytes: int) -> np.ndarray:
        return self._link.recv(nbytes)

    def exchange(self, data: np.ndarray, nbytes: int) -> np.ndarray:
        return self._link.exchange(data, nbytes)

    def exchange_start(self, data: np.ndarray, nbytes: int):
        return self._link.exchange_start(data, nbytes)
