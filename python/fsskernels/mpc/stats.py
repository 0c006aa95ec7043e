"""Communication accounting and the LAN/WAN cost model.

Every message a party sends or receives is counted in bytes (after bit-packing) under the
current protocol label (``with session.protocol("matmul"):``; nested labels join with "/").
A round is one message flight: a simultaneous exchange counts one round for both parties,
a one-way message counts one round for its sender and its receiver.

Cost model (``project_time``): a full-duplex link of bandwidth B and latency T; each round
costs T plus the time to push the larger of the two directions' bytes of that round:
    time = compute_s + rounds * T + critical_bytes * 8 / B,
where critical_bytes sums max(sent, received) over rounds. The three reference links are
charged T per round as given (3 Gbps / 0.8 ms, 200 Mbps / 40 ms, 100 Mbps / 80 ms).
"""
from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, field
from typing import Iterator


@dataclass
class Counter:
    bytes_sent: int = 0
    bytes_recv: int = 0
    rounds: int = 0
    messages: int = 0
    critical_bytes: int = 0

    def add(self, other: "Counter") -> None:
        for k in ("bytes_sent", "bytes_recv", "rounds", "messages", "critical_bytes"):
            setattr(self, k, getattr(self, k) + getattr(other, k))

    def as_dict(self) -> dict:
        d = asdict(self)
        d["bytes"] = self.bytes_sent + self.bytes_recv  # = total on the wire for two parties
        return d


@dataclass(frozen=True)
class Link:
    name: str
    bandwidth_bps: float
    latency_s: float


LINKS = {
    "lan": Link("LAN 3 Gbps / 0.8 ms", 3e9, 0.8e-3),
    "wan200": Link("WAN 200 Mbps / 40 ms", 200e6, 40e-3),
    "wan100": Link("WAN 100 Mbps / 80 ms", 100e6, 80e-3),
}


@dataclass
class Stats:
    """Per-label counters of one party, plus the party's traffic with the dealer."""

    by_label: dict = field(default_factory=dict)
    dealer: Counter = field(default_factory=Counter)
    _stack: list = field(default_factory=list)

    @contextlib.contextmanager
    def label(self, name: str) -> Iterator[None]:
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"protocol label: expected a non-empty string without '/', got {name!r}")
        self._stack.append(name)
        try:
            yield
        finally:
            self._stack.pop()

    @property
    def current(self) -> str:
        return "/".join(self._stack) if self._stack else "other"

    def record(self, sent: int, recv: int, rounds: int = 1) -> None:
        c = self.by_label.setdefault(self.current, Counter())
        c.bytes_sent += sent
        c.bytes_recv += recv
        c.rounds += rounds
        c.messages += (1 if sent else 0) + (1 if recv else 0)
        c.critical_bytes += max(sent, recv)  # messages of one round add up (same direction)

    def record_dealer(self, sent: int, recv: int) -> None:
        self.dealer.bytes_sent += sent
        self.dealer.bytes_recv += recv
        self.dealer.messages += 1

    def total(self) -> Counter:
        t = Counter()
        for c in self.by_label.values():
            t.add(c)
        return t

    def snapshot(self) -> dict:
        """{"protocols": {label: counters}, "total": counters, "dealer": counters};
        counters have bytes_sent, bytes_recv, bytes (= sent + received), rounds, messages,
        critical_bytes."""
        return {
            "protocols": {k: v.as_dict() for k, v in sorted(self.by_label.items())},
            "total": self.total().as_dict(),
            "dealer": self.dealer.as_dict(),
        }

    def reset(self) -> None:
        self.by_label.clear()
        self.dealer = Counter()


def select(snapshot: dict, prefix: str) -> dict:
    """Sum of the counters whose label is ``prefix`` or starts with ``prefix + "/"``."""
    t = Counter()
    for k, v in snapshot["protocols"].items():
        if k == prefix or k.startswith(prefix + "/"):
            t.add(Counter(**{f: v[f] for f in ("bytes_sent", "bytes_recv", "rounds", "messages", "critical_bytes")}))
    return t.as_dict()


def project_time(stats: dict, link, compute_s: float = 0.0) -> float:
    """Projected seconds for the traffic in ``stats`` (a counters dict such as
    ``session.stats()["total"]``, or a whole snapshot, whose "total" is used) over ``link``
    (a Link or a key of LINKS: "lan", "wan200", "wan100"), plus ``compute_s``."""
    if isinstance(link, str):
        if link not in LINKS:
            raise ValueError(f"link: expected one of {sorted(LINKS)}, got {link!r}")
        link = LINKS[link]
    c = stats["total"] if "total" in stats else stats
    return compute_s + c["rounds"] * link.latency_s + c["critical_bytes"] * 8.0 / link.bandwidth_bps
