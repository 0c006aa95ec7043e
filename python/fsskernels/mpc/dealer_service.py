"""The dealer as a separate process, streaming each party its material over its own link.

Rendezvous (net.py): the dealer listens at (host, port) and accepts exactly party 0 and
party 1 (authenticated by their pinned certificates with TLS, loopback-only plaintext
otherwise); it has no connection to the party-to-party link and never sees that traffic.

Protocol on each dealer link:
  dealer -> party : hello, 16 bytes = the dealer session id
  party  -> dealer: request, int64[68] = [REQ_MAGIC, seq, kind code, nwords, spec words (64)]
  dealer -> party : int64 length n, then n bytes (the party's half of piece seq);
                    n = -1 means the two parties' requests differed (both get it)
The dealer serves both parties in lockstep: it waits for request k from both, checks that
they agree (same seq, kind and spec), makes piece k (Dealer.generate: each seq at most once)
and sends each half. A "bye" request from both ends the session; a lost party ends it with
PeerError at once (EOF), a silent one with PeerTimeoutError after ``timeout``.
Parties refuse a length above limits.MAX_PIECE_BYTES (MaterialError) before allocating.

Streaming ahead: computations repeat (every training step asks for the same pieces), so after
serving piece k the dealer makes piece k + 1 for the request that followed k's request last
time, before waiting for the parties; when the prediction is right, the parties' next request
is answered at once and the dealer's work overlaps theirs. A guess is made with
``Dealer._make`` (not marked served) and its randomness is derived from (seq, kind, spec), so
a right guess is exactly the piece ``generate`` would make; a wrong one is dropped unsent.
Pieces that create dealer state (frozen masks) are never made ahead.
"""
from __future__ import annotations

import numpy as np

from .channel import check_timeout
from .dealer import Dealer
from .errors import MaterialError, PeerError, ProtocolMismatchError
from .limits import MAX_PIECE_BYTES
from .material import KINDS, KIND_NAMES, MAX_SPEC, decode_spec
from .net import Link, check_port, check_security, listen

REQ_MAGIC = 0x51455246534D4D  # "MMSFREQ"
_REQ_WORDS = 4 + MAX_SPEC
_STATEFUL = ("frozen_mask", "owner_mask", "bye")


def _request(seq: int, kind: str, words) -> np.ndarray:
    req = np.zeros(_REQ_WORDS, dtype=np.int64)
    req[:4] = (REQ_MAGIC, seq, KINDS[kind], len(words))
    req[4 : 4 + len(words)] = words
    return req


class RemoteDealerSource:
    """Party side of the dealer link."""

    def __init__(self, link: Link, party: int) -> None:
        self.party = party
        self._link = link
        self.session_id = self._link.recv(16).tobytes()

    def fetch(self, party: int, seq: int, kind: str, words) -> bytes:
        self._link.send(_request(seq, kind, words).view(np.uint8))
        n = int(self._link.recv(8).view(np.int64)[0])
        if n < 0:
            raise ProtocolMismatchError(f"dealer: the parties asked for different material at step {seq} "
                                        f"(this party: {kind}{decode_spec(words)})")
        if n > MAX_PIECE_BYTES:
            raise MaterialError(f"material: the dealer announced a {n}-byte piece, above the {MAX_PIECE_BYTES}-byte limit")
        return self._link.recv(n).tobytes()

    def close(self, party: int) -> None:
        try:
            self._link.send(_request(2**62, "bye", ()).view(np.uint8))
        except PeerError:
            pass
        self._link.close()

    def abort(self) -> None:
        self._link.close()


def serve(host: str, port: int, *, seed: int | None = None, timeout: float = 300.0,
          connect_timeout: float | None = None, bind_host: str | None = None, log=None, tls=None) -> int:
    """Run the dealer for one session: listen at (bind_host or host, port) for the two
    parties, serve them, return the number of pieces served. ``tls``: a certificate
    directory or TlsConfig of role "dealer", or False (plaintext, loopback only).
    ``seed``: tests only (deterministic material). Raises PeerError if a party disappears,
    ProtocolMismatchError if the parties' requests diverge."""
    port = check_port(port)
    timeout = check_timeout(timeout)
    ct = check_timeout(connect_timeout if connect_timeout is not None else timeout, "connect_timeout")
    addr = bind_host or host
    cfg = check_security(tls, "dealer", [addr])
    links_by_role = listen("dealer", addr, port, ("party0", "party1"), cfg, timeout, ct)
    links = [links_by_role["party0"], links_by_role["party1"]]
    dealer = Dealer(seed)
    try:
        for ln in links:
            ln.send(np.frombuffer(dealer.session_id, dtype=np.uint8))
        return _serve_loop(dealer, links, log)
    finally:
        dealer.close()
        for ln in links:
            ln.close()


def _serve_loop(dealer: Dealer, links, log) -> int:
    served = 0
    follows: dict = {}  # request key -> the request key that came next last time
    ahead = None        # (seq, key, halves) made before the request arrived
    last = None
    while True:
        reqs = [ln.recv(8 * _REQ_WORDS).view(np.int64) for ln in links]
        for p, r in enumerate(reqs):
            if r[0] != REQ_MAGIC or int(r[2]) not in KIND_NAMES or not 0 <= r[3] <= MAX_SPEC:
                raise MaterialError(f"dealer: malformed request from party {p}")
        kinds = [KIND_NAMES[int(r[2])] for r in reqs]
        if kinds[0] == "bye" and kinds[1] == "bye":
            return served
        same = np.array_equal(reqs[0][: 4 + int(reqs[0][3])], reqs[1][: 4 + int(reqs[1][3])]) and reqs[0][3] == reqs[1][3]
        if not same or kinds[0] == "bye":
            for ln in links:
                ln.send(np.array([-1], dtype=np.int64).view(np.uint8))
            raise ProtocolMismatchError(f"dealer: requests differ: {kinds[0]} vs {kinds[1]} at step {int(reqs[0][1])}")
        seq = int(reqs[0][1])
        words = reqs[0][4 : 4 + int(reqs[0][3])].tolist()
        key = (kinds[0], tuple(words))
        if ahead is not None and ahead[0] == seq and ahead[1] == key and not dealer.served(seq):
            halves = ahead[2]
            dealer._mark_served(seq)
        else:
            halves = dealer.generate(seq, kinds[0], words)
        ahead = None
        for ln, h in zip(links, halves):
            ln.send(np.array([len(h)], dtype=np.int64).view(np.uint8), h)
        served += 1
        if log:
            log(f"dealer: piece {seq} {kinds[0]} ({len(halves[0])} + {len(halves[1])} bytes)")
        if last is not None:
            follows[last] = key
        last = key
        nxt = follows.get(key)
        if nxt is not None and nxt[0] not in _STATEFUL and not dealer.served(seq + 1):
            try:
                ahead = (seq + 1, nxt, dealer._make(seq + 1, nxt[0], list(nxt[1])))
            except (MaterialError, ValueError):
                ahead = None
