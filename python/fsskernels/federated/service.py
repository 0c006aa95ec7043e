"""Aggregator 0 as a service object: opens sealed seeds and sums their expansions.

What is computed: for one round context, ``aggregate(context, sealed, n, patterns)`` opens each
client's sealed seed (``sealing``), drops those that fail authentication, and returns
(sum of the expansions mod 2^64, the ids it included) under ``SeedAggregator``'s policy (one
answer per context, at least ``min_clients`` clients). Aggregator 1 must then sum the masked
vectors of exactly the included ids.

In simulation and tests this object lives in the server process (the roles are still separate:
the server never reads the private key). In a deployment it runs in another trust domain;
``docs/federated.md`` shows it behind a socket. Errors: ``AggregationError`` for requests that
would reveal less than an aggregate; ValueError for malformed input.
"""
from __future__ import annotations

import numpy as np

from .aggregator import AggregationError, SeedAggregator
from .sealing import SealError, SealingKeyPair


class SealedSeedAggregator:
    """Aggregator 0: X25519 key pair + the one-answer-per-round seed aggregation policy."""

    def __init__(self, min_clients: int = 2, keypair: SealingKeyPair | None = None) -> None:
        self.keypair = keypair or SealingKeyPair()
        self._agg = SeedAggregator(min_clients)
        self.rejected: list = []  # (context, client id) whose seed failed authentication

    @property
    def public_key(self) -> bytes:
        """The 32-byte X25519 key clients pin (distribute it out of band)."""
        return self.keypair.public_bytes

    def aggregate(self, context: str, sealed: dict, n: int, patterns: dict | None = None):
        """(uint64 sum of length n, sorted list of included client ids)."""
        seeds = {}
        for cid, blob in sealed.items():
            try:
                seeds[cid] = self.keypair.open(blob, context)
            except SealError:
                self.rejected.append((context, cid))
        if not seeds:
            raise AggregationError("sealed: no seed authenticated for this round")
        total = self._agg.aggregate(context, seeds, n, patterns)
        return total, sorted(seeds)


def masked_sum(masked: dict, include, n: int) -> np.ndarray:
    """Aggregator 1's sum over exactly the included ids (dict id -> dense uint64 vector)."""
    acc = np.zeros(n, np.uint64)
    for cid in include:
        if cid not in masked:
            raise AggregationError(f"include: client {cid!r} has no masked vector")
        acc += masked[cid]
    return acc
