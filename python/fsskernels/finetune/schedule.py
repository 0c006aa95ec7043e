"""The public order of training: which examples form each step's batch.

``epoch_batches(n, batch_size, epoch, seed)``: a seeded permutation of range(n) per epoch,
cut into batches of ``batch_size`` (the last one may be smaller). Both the private run and
its plaintext twin use exactly this order, and a resumed run recomputes it from (seed,
epoch), so nothing about the order has to be checkpointed. The order is public by design
(only which of the client's own rows come first; the rows stay secret), hence numpy's
seeded generator (csprng-ok).
"""
from __future__ import annotations

import numpy as np


def epoch_batches(n: int, batch_size: int, epoch: int, seed: int) -> list:
    if n < 1 or batch_size < 1:
        raise ValueError(f"batches: need n >= 1 and batch_size >= 1, got {n}, {batch_size}")
    perm = np.random.default_rng([seed, epoch, 0x5EED]).permutation(n)  # csprng-ok: public batch order
    return [perm[i:i + batch_size].tolist() for i in range(0, n, batch_size)]


def all_steps(n: int, batch_size: int, epochs: int, seed: int) -> list:
    """[(epoch, step_in_epoch, indices)] for the whole run."""
    return [(e, j, b) for e in range(epochs) for j, b in enumerate(epoch_batches(n, batch_size, e, seed))]
