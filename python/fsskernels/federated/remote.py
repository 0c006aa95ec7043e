"""Aggregator 0 in its own process (its own trust domain), reached by the server over a socket.

What is served: ``serve(address, authkey, ...)`` runs a ``SealedSeedAggregator`` behind a
``multiprocessing.connection.Listener`` (HMAC challenge-response authentication with
``authkey``); ``RemoteSeedAggregator(address, authkey)`` is the server-side proxy with the same
``aggregate(context, sealed, n, patterns)`` method, so ``SecureFedAvg`` uses either unchanged.

Wire format (no pickling): request = one JSON header {"op": "aggregate", "context", "n",
"clients": [ids], "patterns": {id: hex}} and one bytes message with the 64-byte sealed seeds in
the order of "clients"; reply = JSON {"ok": true, "included": [ids]} and the uint64 sum as raw
little-endian bytes, or {"ok": false, "error": "..."} (raised as AggregationError / ValueError).
``{"op": "public_key"}`` returns the 32-byte key as hex (for provisioning; clients must pin it).

Security: the link is authenticated, not encrypted: the seeds it carries are sealed and the
reply is a uniformly random mask sum, useless without the server's masked sum, which only the
server holds. Run it on a host the server's operator does not control; keep ``authkey`` secret
from others. The private key is stored with mode 0600.
"""
from __future__ import annotations

import json
import os
import pathlib
from multiprocessing.connection import Client, Listener

import numpy as np

from .aggregator import AggregationError
from .sealing import SealingKeyPair
from .service import SealedSeedAggregator


def load_or_create_key(path) -> SealingKeyPair:
    """The X25519 key pair stored at ``path`` (raw 32 bytes), created (mode 0600) if absent."""
    p = pathlib.Path(path)
    if p.exists():
        return SealingKeyPair(p.read_bytes())
    kp = SealingKeyPair()
    fd = os.open(str(p), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(kp.private_bytes())
    return kp


def _check_authkey(authkey) -> bytes:
    if not isinstance(authkey, (bytes, bytearray)) or len(authkey) < 16:
        raise ValueError("authkey: expected at least 16 secret bytes")
    return bytes(authkey)


def handle(conn, agg: SealedSeedAggregator) -> None:
    """Answer one request on an accepted connection."""
    try:
        head = json.loads(conn.recv_bytes(1 << 20).decode())
        if head.get("op") == "public_key":
            conn.send_bytes(json.dumps({"ok": True, "public_key": agg.public_key.hex()}).encode())
            return
        if head.get("op") != "aggregate":
            raise ValueError("op: unknown request")
        blob = conn.recv_bytes()
        clients = list(head["clients"])
        if len(blob) != 64 * len(clients):
            raise ValueError("sealed: expected 64 bytes per client")
        sealed = {c: blob[64 * i:64 * (i + 1)] for i, c in enumerate(clients)}
        patterns = {int(c) if isinstance(c, str) and c.lstrip("-").isdigit() else c: bytes.fromhex(v)
                    for c, v in head.get("patterns", {}).items()}
        total, inc = agg.aggregate(str(head["context"]), sealed, int(head["n"]), patterns)
        conn.send_bytes(json.dumps({"ok": True, "included": inc}).encode())
        conn.send_bytes(total.astype("<u8").tobytes())
    except (ValueError, KeyError, TypeError) as e:
        conn.send_bytes(json.dumps({"ok": False, "error": f"{type(e).__name__}: {e}"}).encode())


def serve(address, authkey: bytes, *, min_clients: int = 2, key_file=None, max_requests=None, ready=None) -> None:
    """Serve aggregator 0 at ``address`` ((host, port)); ``ready(listener)`` is called once bound."""
    kp = load_or_create_key(key_file) if key_file else None
    agg = SealedSeedAggregator(min_clients=min_clients, keypair=kp)
    with Listener(address, authkey=_check_authkey(authkey)) as lst:
        if ready:
            ready(lst, agg)
        served = 0
        while max_requests is None or served < max_requests:
            with lst.accept() as conn:
                handle(conn, agg)
            served += 1


class RemoteSeedAggregator:
    """Server-side proxy for a remote aggregator 0 (same ``aggregate`` as SealedSeedAggregator)."""

    def __init__(self, address, authkey: bytes) -> None:
        self.address = tuple(address)
        self.authkey = _check_authkey(authkey)

    def _call(self, head: dict, blob: bytes | None = None):
        with Client(self.address, authkey=self.authkey) as conn:
            conn.send_bytes(json.dumps(head).encode())
            if blob is not None:
                conn.send_bytes(blob)
            rep = json.loads(conn.recv_bytes().decode())
            if not rep.get("ok"):
                err = rep.get("error", "aggregator 0 refused")
                raise AggregationError(err) if err.startswith("AggregationError") else ValueError(err)
            return rep, (conn.recv_bytes() if head["op"] == "aggregate" else None)

    def public_key(self) -> bytes:
        return bytes.fromhex(self._call({"op": "public_key"})[0]["public_key"])

    def aggregate(self, context: str, sealed: dict, n: int, patterns: dict | None = None):
        clients = list(sealed)
        head = {"op": "aggregate", "context": context, "n": int(n), "clients": clients,
                "patterns": {str(c): bytes(p).hex() for c, p in (patterns or {}).items()}}
        rep, raw = self._call(head, b"".join(bytes(sealed[c]) for c in clients))
        total = np.frombuffer(raw, "<u8").astype(np.uint64)
        if total.size != n:
            raise ValueError("reply: wrong length")
        return total, rep["included"]


def main(argv=None) -> int:
    """python -m fsskernels.federated.remote --host 0.0.0.0 --port 9091 --key-file agg0.key
    (authkey from the environment variable FSS_AGG0_AUTHKEY, at least 16 bytes)."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m fsskernels.federated.remote", description="aggregator 0 service")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9091)
    ap.add_argument("--key-file", required=True, help="X25519 private key file (created with mode 0600 if absent)")
    ap.add_argument("--min-clients", type=int, default=2)
    a = ap.parse_args(argv)
    key = os.environ.get("FSS_AGG0_AUTHKEY", "").encode()
    if len(key) < 16:
        ap.error("FSS_AGG0_AUTHKEY: set it to a secret of at least 16 bytes")
    serve((a.host, a.port), key, min_clients=a.min_clients, key_file=a.key_file,
          ready=lambda lst, agg: print(json.dumps({"address": list(lst.address), "public_key": agg.public_key.hex()}),
                                       flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
