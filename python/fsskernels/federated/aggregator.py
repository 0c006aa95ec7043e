"""The two non-colluding aggregators and the reveal of the weighted FedAvg aggregate.

What is computed: aggregator 0 (``SeedAggregator``) expands each surviving client's seed and
sums the expansions; aggregator 1 (``MaskedAggregator``) sums the surviving clients' masked
vectors; ``reveal`` adds the two sums mod 2^64 and decodes

    weighted_sum = sum_i w_i x_i   (float64, d values)     total_weight = sum_i w_i

and ``fedavg`` returns weighted_sum / total_weight. Only these two quantities are revealed.

Dropout: a client that drops out before uploading sent nothing to either aggregator; both sum
over the same survivor set (aggregator 1 names the client ids it received, aggregator 0 sums
those seeds), so the aggregate of the survivors is exact with no extra round and the average is
renormalised on the survivors' total weight automatically. A client whose seed reached
aggregator 0 but whose masked vector did not is simply left out of the named set.

Security policy of aggregator 0 (it is the party that can make aggregator 1 learn something):
it answers at most once per round (two answers over different subsets would let aggregator 1
subtract them and see one client) and only for at least ``min_clients`` clients, and only for
seeds sealed for that round (``sealing``). Preconditions: vectors of one round have equal
length; ValueError otherwise.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..mpc.fixedpoint import check_frac_bits
from .shares import SEED_BYTES, expand_seed
from .sparse import dense_seed_share


class AggregationError(ValueError):
    """The aggregator refuses a request that would reveal less-than-aggregate information."""


def _check_n(n, name="n"):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
        raise ValueError(f"{name}: expected an integer >= 2 (d values + the weight slot), got {n!r}")
    return int(n)


class MaskedAggregator:
    """Aggregator 1: adds masked vectors (uint64, length n) mod 2^64."""

    def __init__(self, n: int) -> None:
        self.n = _check_n(n)
        self._acc = np.zeros(self.n, np.uint64)
        self.clients: list = []

    def add(self, client_id, masked: np.ndarray) -> None:
        m = np.asarray(masked)
        if m.dtype != np.uint64 or m.shape != (self.n,):
            raise ValueError(f"masked: expected uint64 of shape ({self.n},), got {m.dtype} {m.shape}")
        if client_id in self.clients:
            raise ValueError(f"client_id: {client_id!r} already added")
        self._acc += m
        self.clients.append(client_id)

    def total(self) -> np.ndarray:
        return self._acc.copy()


class SeedAggregator:
    """Aggregator 0: sums AES-CTR expansions of seeds, once per round, for >= min_clients."""

    def __init__(self, min_clients: int = 2) -> None:
        if isinstance(min_clients, bool) or not isinstance(min_clients, numbers.Integral) or min_clients < 1:
            raise ValueError(f"min_clients: expected a positive integer, got {min_clients!r}")
        self.min_clients = int(min_clients)
        self._answered: set = set()

    def aggregate(self, round_id, seeds: dict, n: int, patterns: dict | None = None) -> np.ndarray:
        """sum of expand_seed(seeds[c], n) over the clients c given (a dict id -> 16-byte seed);
        a client listed in ``patterns`` (id -> public sparsity pattern, ``sparse``) contributes
        its seed expanded to k + 1 values scattered to its pattern instead.
        AggregationError if the round was already answered or fewer than min_clients seeds."""
        n = _check_n(n)
        if round_id in self._answered:
            raise AggregationError(f"round_id: round {round_id!r} was already aggregated")
        if len(seeds) < self.min_clients:
            raise AggregationError(f"seeds: {len(seeds)} clients, fewer than min_clients={self.min_clients}")
        for c, s in seeds.items():
            if not isinstance(s, (bytes, bytearray)) or len(s) != SEED_BYTES:
                raise ValueError(f"seeds[{c!r}]: expected {SEED_BYTES} bytes")
        self._answered.add(round_id)
        acc = np.zeros(n, np.uint64)
        patterns = patterns or {}
        for c, s in seeds.items():
            acc += dense_seed_share(s, patterns[c], n - 1) if c in patterns else expand_seed(s, n)
        return acc


def reveal(sum0: np.ndarray, sum1: np.ndarray, frac_bits: int = 16):
    """(weighted_sum float64 (d,), total_weight int) from the two aggregators' sums."""
    check_frac_bits(frac_bits)
    a, b = np.asarray(sum0), np.asarray(sum1)
    if a.dtype != np.uint64 or b.dtype != np.uint64 or a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise ValueError("sum0, sum1: expected two uint64 vectors of one length >= 2")
    v = (a + b).view(np.int64)
    total = int(v[-1])
    if total < 1:
        raise ValueError("sum0, sum1: total weight is not positive (mismatched shares?)")
    return v[:-1].astype(np.float64) / float(1 << frac_bits), total


def fedavg(sum0: np.ndarray, sum1: np.ndarray, frac_bits: int = 16) -> np.ndarray:
    """The weighted average sum_i w_i x_i / sum_i w_i (float64)."""
    s, w = reveal(sum0, sum1, frac_bits)
    return s / w


def aggregate_round(shares: dict, frac_bits: int = 16, min_clients: int = 1, round_id=0):
    """Convenience for one process: both aggregators over ``shares`` (dict id -> ClientShares);
    returns (weighted_sum, total_weight)."""
    if not shares:
        raise ValueError("shares: no client shares")
    n = next(iter(shares.values())).masked.size
    agg1 = MaskedAggregator(n)
    for c, sh in shares.items():
        agg1.add(c, sh.masked)
    s0 = SeedAggregator(min_clients).aggregate(round_id, {c: shares[c].seed for c in agg1.clients}, n)
    return reveal(s0, agg1.total(), frac_bits)
