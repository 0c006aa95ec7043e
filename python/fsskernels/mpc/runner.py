"""Running a two-party function: two threads in one process, or one process per party.

``fn(session, *args, **kwargs)`` is the SPMD program; it runs once per party.
"""
from __future__ import annotations

import threading
import time

from .channel import check_timeout, local_channel_pair
from .dealer import Dealer, LocalDealerSource, ReplicatedDealerSource
from .errors import MpcError, PeerError
from .material import MaterialStream
from .rng import CtrStream
from .session import FixedPointConfig, Session


def _party_rng(seed: int | None, party: int) -> CtrStream:
    return CtrStream.from_os() if seed is None else CtrStream.from_seed(seed, f"party{party}")


def local_sessions(*, config: FixedPointConfig | None = None, seed: int | None = None, timeout: float = 60.0,
                   device="cpu") -> tuple[Session, Session, LocalDealerSource]:
    """Two connected sessions for threads of this process, with one in-process dealer.
    ``seed``: tests only (deterministic dealer and party randomness)."""
    dealer = Dealer(seed)
    source = LocalDealerSource(dealer)
    chans = local_channel_pair(timeout)
    sessions = tuple(Session(p, chans[p], MaterialStream(source, p, dealer.session_id), config, _party_rng(seed, p), device)
                     for p in (0, 1))
    return sessions[0], sessions[1], source


def run_local(fn, *args, config: FixedPointConfig | None = None, seed: int | None = None, timeout: float = 60.0,
              device="cpu", pregenerate=None, **kwargs):
    """Run ``fn(session, *args, **kwargs)`` as parties 0 and 1 in two threads with an
    in-process dealer; returns (result of party 0, result of party 1).

    pregenerate: optional list of (kind, spec) dealer requests to make before the parties
    start (so the online phase only reads material). If a party raises, the other one's
    channel is aborted (it gets PeerError at once) and the first party's exception is
    re-raised here."""
    s0, s1, source = local_sessions(config=config, seed=seed, timeout=timeout, device=device)
    if pregenerate:
        source.pregenerate(pregenerate)
    sessions = (s0, s1)
    results: list = [None, None]
    errors: list = [None, None]

    def target(p: int) -> None:
        try:
            results[p] = fn(sessions[p], *args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            errors[p] = exc
            sessions[p].channel.abort(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=target, args=(p,), name=f"mpc-party{p}", daemon=True) for p in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    source.dealer.close()  # zeroize the dealer's root key and frozen masks
    if errors[0] is not None or errors[1] is not None:
        # Prefer the root cause over the PeerError it provoked on the other side.
        roots = [e for e in errors if e is not None and not isinstance(e, PeerError)]
        raise (roots or [e for e in errors if e is not None])[0]
    return results[0], results[1]


def network_session(party: int, host: str, port: int, *, dealer: str = "process", seed: int | None = None,
                    config: FixedPointConfig | None = None, timeout: float = 60.0, connect_timeout: float | None = None,
                    device="cpu", bind_host: str | None = None, tls=None, dealer_host: str | None = None,
                    dealer_port: int | None = None) -> Session:
    """A Session for party ``party`` in its own process, over TCP (net.py).

    Party 0 listens at (bind_host or host, port) and party 1 connects there. With
    dealer="process" both connect to a dealer process (``python -m fsskernels.mpc dealer``)
    at (dealer_host or host, dealer_port or port + 1); dealer="replicated" (tests only, needs
    ``seed``): each process runs an identical seeded dealer.
    tls: a certificate directory (``python -m fsskernels.mpc certs --out DIR``; this party's
    ``party<p>.key/.crt`` and the peers' ``.crt``) or a TlsConfig: every link is TLS 1.3 with
    pinned certificates. tls=False: plaintext, allowed only when every address is loopback.
    There is no default: tls must be given. ``timeout`` bounds every wait for a peer (idle
    time); ``connect_timeout`` (default: timeout) bounds the whole rendezvous."""
    from .dealer_service import RemoteDealerSource
    from .net import SocketChannel, check_port, check_security, connect, listen

    if party not in (0, 1) or isinstance(party, bool):
        raise ValueError(f"party: must be 0 or 1, got {party!r}")
    if dealer not in ("process", "replicated"):
        raise ValueError(f"dealer: must be 'process' or 'replicated', got {dealer!r}")
    if not isinstance(host, str) or not host:
        raise ValueError(f"host: expected an address string, got {host!r}")
    port = check_port(port)
    timeout = check_timeout(timeout)
    ct = check_timeout(connect_timeout if connect_timeout is not None else timeout, "connect_timeout")
    dhost = dealer_host or host
    dport = check_port(dealer_port if dealer_port is not None else port + 1, "dealer_port")
    if dealer == "replicated" and seed is None:
        raise ValueError("seed: the replicated test dealer needs an explicit seed")
    role = f"party{party}"
    addrs = [bind_host or host if party == 0 else host] + ([dhost] if dealer == "process" else [])
    cfg = check_security(tls, role, addrs)
    deadline = time.monotonic() + ct
    links = []
    try:
        if dealer == "process":
            dlink = connect(role, "dealer", dhost, dport, cfg, timeout, ct)
            links.append(dlink)
        left = max(deadline - time.monotonic(), 0.1)
        if party == 0:
            plink = listen(role, bind_host or host, port, ("party1",), cfg, timeout, left)["party1"]
        else:
            plink = connect(role, "party0", host, port, cfg, timeout, left)
        links.append(plink)
        if dealer == "process":
            source = RemoteDealerSource(dlink, party)
            sid = source.session_id
        else:
            source = ReplicatedDealerSource(seed)
            sid = source.dealer.session_id
    except BaseException:
        for ln in links:
            ln.close()
        raise
    return Session(party, SocketChannel(plink, party, timeout), MaterialStream(source, party, sid), config,
                   _party_rng(seed, party), device)


def run_network(fn, *args, party: int, host: str = "127.0.0.1", port: int = 29500, dealer: str = "process",
                seed: int | None = None, config: FixedPointConfig | None = None, timeout: float = 60.0,
                connect_timeout: float | None = None, device="cpu", bind_host: str | None = None, tls=None,
                dealer_host: str | None = None, dealer_port: int | None = None, **kwargs):
    """Run ``fn(session, *args, **kwargs)`` as party ``party`` of a two-process computation
    (see network_session for the addresses and ``tls``); returns this party's result. A dead
    peer or dealer surfaces as PeerError at once (connection closed), a silent one as
    PeerTimeoutError after ``timeout`` seconds; if ``fn`` raises, this party closes its
    connections so that the peer and the dealer fail at once too."""
    s = network_session(party, host, port, dealer=dealer, seed=seed, config=config, timeout=timeout,
                        connect_timeout=connect_timeout, device=device, bind_host=bind_host, tls=tls,
                        dealer_host=dealer_host, dealer_port=dealer_port)
    try:
        result = fn(s, *args, **kwargs)
    except BaseException as exc:
        s._broken = s._broken or f"aborted: {type(exc).__name__}"
        _release_network(s)  # closes the connections: the peer and the dealer fail at once
        raise
    try:
        s.channel.flush()  # our last messages reach the peer before we hang up
        s.close()
    finally:
        _release_network(s)
    return result


def _release_network(s: Session) -> None:
    """Close the session's connections now (the peer's pending receives fail at once)."""
    src = getattr(s.material, "_source", None)
    if hasattr(src, "abort"):
        src.abort()
    s.channel.abort(s._broken or "closed")


__all__ = ["MpcError", "local_sessions", "network_session", "run_local", "run_network"]
