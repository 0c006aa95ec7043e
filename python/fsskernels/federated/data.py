"""Client shards for federated runs: IID or Dirichlet non-IID label splits.

What is computed: ``dirichlet_split(labels, n_clients, alpha, seed)`` assigns every example to one
client: for each class c the class's examples (in a seeded shuffled order) are cut in proportions
p_c ~ Dirichlet(alpha * 1_n) (Hsu, Qi and Brown 2019, "Measuring the effects of non-identical data
distribution"); small alpha (0.1) gives skewed shards, large alpha (100) nearly IID ones. Every
client is guaranteed ``min_per_client`` examples by moving examples from the largest shards.
``iid_split`` deals a seeded permutation round robin.

Errors: ValueError naming the argument (n_clients < 1, alpha <= 0, too few examples).
Randomness: public data partitioning only (simulation of where data live), hence numpy's seeded
generator (csprng-ok); nothing secret is drawn here.
"""
from __future__ import annotations

import numbers

import numpy as np


def _check(labels, n_clients, min_per_client):
    y = np.asarray(labels).reshape(-1)
    if isinstance(n_clients, bool) or not isinstance(n_clients, numbers.Integral) or n_clients < 1:
        raise ValueError(f"n_clients: expected a positive integer, got {n_clients!r}")
    if y.size < n_clients * min_per_client:
        raise ValueError(f"labels: {y.size} examples cannot give {n_clients} clients {min_per_client} each")
    return y


def iid_split(labels, n_clients: int, seed: int = 0) -> list[np.ndarray]:
    """Index arrays, one per client, from a seeded permutation dealt round robin."""
    y = _check(labels, n_clients, 1)
    perm = np.random.default_rng(seed).permutation(y.size)  # csprng-ok: public data split
    return [np.sort(perm[i::n_clients]) for i in range(n_clients)]


def dirichlet_split(labels, n_clients: int, alpha: float, seed: int = 0, min_per_client: int = 2) -> list[np.ndarray]:
    """Index arrays, one per client, with per-class proportions drawn from Dirichlet(alpha)."""
    y = _check(labels, n_clients, min_per_client)
    if not isinstance(alpha, numbers.Real) or not float(alpha) > 0:
        raise ValueError(f"alpha: expected a positive number, got {alpha!r}")
    rng = np.random.default_rng(seed)  # csprng-ok: public data split
    parts: list[list[int]] = [[] for _ in range(n_clients)]
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        p = rng.dirichlet(np.full(n_clients, float(alpha)))
        cuts = (np.cumsum(p)[:-1] * idx.size).astype(int)
        for i, chunk in enumerate(np.split(idx, cuts)):
            parts[i].extend(chunk.tolist())
    for i in range(n_clients):  # top up tiny shards from the largest one
        while len(parts[i]) < min_per_client:
            j = max(range(n_clients), key=lambda k: len(parts[k]))
            parts[i].append(parts[j].pop())
    return [np.sort(np.array(p, dtype=np.int64)) for p in parts]
