"""Running a two-party function: two threads in one process, or one process per party.

``fn(session, *args, **kwargs)`` is the SPMD program; it runs once per party.
"""
from __future__ import annotations

import threading

from .channel import local_channel_pair
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
    if errors[0] is not None or errors[1] is not None:
        # Prefer the root cause over the PeerError it provoked on the other side.
        roots = [e for e in errors if e is not None and not isinstance(e, PeerError)]
        raise (roots or [e for e in errors if e is not None])[0]
    return results[0], results[1]


def network_session(party: int, host: str, port: int, *, dealer: str = "process", seed: int | None = None,
                    config: FixedPointConfig | None = None, timeout: float = 60.0, connect_timeout: float | None = None,
                    device="cpu", bind_host: str | None = None) -> Session:
    """A Session for party ``party`` in its own process, talking over TCP (Gloo) to the other
    party and, with dealer="process", to a dealer process (``fsskernels.mpc.dealer_service``,
    ``python -m fsskernels.mpc dealer``). dealer="replicated" (tests only, needs ``seed``): each
    process runs an identical seeded dealer. Party 0 hosts the rendezvous at host:port."""
    from .dealer_service import RemoteDealerSource
    from .net import GlooChannel, connect

    if party not in (0, 1):
        raise ValueError(f"party: must be 0 or 1, got {party!r}")
    if dealer not in ("process", "replicated"):
        raise ValueError(f"dealer: must be 'process' or 'replicated', got {dealer!r}")
    world = 3 if dealer == "process" else 2
    store, pg = connect(party, world, host, port, timeout, connect_timeout, bind_host)
    if dealer == "process":
        source = RemoteDealerSource(pg, party, timeout)
        sid = source.session_id
    else:
        source = ReplicatedDealerSource(seed)
        sid = source.dealer.session_id
    s = Session(party, GlooChannel(pg, party, timeout), MaterialStream(source, party, sid), config,
                _party_rng(seed, party), device)
    s._net = (store, pg)  # keep the process group alive as long as the session
    return s


def run_network(fn, *args, party: int, host: str = "127.0.0.1", port: int = 29500, dealer: str = "process",
                seed: int | None = None, config: FixedPointConfig | None = None, timeout: float = 60.0,
                connect_timeout: float | None = None, device="cpu", bind_host: str | None = None, **kwargs):
    """Run ``fn(session, *args, **kwargs)`` as party ``party`` of a two-process computation
    (see network_session); returns this party's result. Errors of the peer surface as
    PeerError / PeerTimeoutError within ``timeout`` seconds."""
    s = network_session(party, host, port, dealer=dealer, seed=seed, config=config, timeout=timeout,
                        connect_timeout=connect_timeout, device=device, bind_host=bind_host)
    try:
        result = fn(s, *args, **kwargs)
    except BaseException as exc:
        s._broken = s._broken or f"aborted: {type(exc).__name__}"
        _release_network(s)  # closes the connections: the peer and the dealer fail at once
        raise
    s.close()
    return result


def _release_network(s: Session) -> None:
    """Drop every reference to the session's Gloo process group; its destructor closes the
    TCP connections, so a peer blocked on this party gets PeerError instead of a timeout
    (Gloo's abort()/shutdown() leave the connections open)."""
    import gc

    s._net = None
    for obj in (s.channel, getattr(s.material, "_source", None)):
        link = getattr(obj, "_link", None)
        if link is not None:
            link._pg = None
            link._broken = link._broken or "released after a local failure"
    gc.collect()


__all__ = ["MpcError", "local_sessions", "network_session", "run_local", "run_network"]
