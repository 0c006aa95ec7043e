"""Top-k pruning with a HIDDEN pattern: the two aggregators compute each client's top-k mask on
shares with FSS comparison gates (``fsskernels.mpc.functional``) and reveal only the aggregate.

What is computed, for every client row x (its weighted update w x, fixed point, as shares
between aggregator 0 = party 0 and aggregator 1 = party 1 of an ``fsskernels.mpc`` session):

    a = |x| = x (2 [x >= 0] - 1)                          (MF.drelu + one Beaver product)
    lo = 0, hi = max_j a_j + 2^-f                         (MF.amax, a pairwise tree)
    repeat ``iters`` times:                               (oblivious bisection on the threshold)
        t = (lo + hi) / 2;   g = [ #{j : a_j >= t} >= k ]  (MF.ge on all d entries, a shared sum,
        lo = where(g, t, lo);  hi = where(g, hi, t)         one more MF.ge on the count)
    y = [a >= lo] * x                                      (the pruned row, still shared)

Invariant: #{a >= lo} >= k > #{a >= hi}; after iters >= log2(max a * 2^f) + 1 halvings hi - lo is
one ulp and the mask keeps exactly the k largest magnitudes (ties at fixed-point resolution may
keep more). Then the aggregators sum y over clients and reveal only that sum and the total
weight (``aggregate_topk``). Nothing else is opened: the counts, bits and thresholds stay shared.

Cost: every bisection step compares all n x d entries (one DCF comparison each), so this is
~iters x the comparison bytes of the update, far more than sending the update itself: use it
only when the pattern must stay hidden (``sparse`` saves bytes but leaks the pattern).
Preconditions: |w x| < 2^(cmp_bits - 1 - f) (default: 2^15) and 1 <= k <= d. ValueError otherwise.
Security: semi-honest two-party runtime with its trusted dealer (docs/runtime.md section 2).
"""
from __future__ import annotations

import numbers

import numpy as np
import torch


def topk_mask_shared(x, k: int, iters: int = 24):
    """(pruned x, shared mask bits) for a SharedTensor x of shape (n, d) (see module doc)."""
    from ..mpc import functional as MF

    if x.ndim != 2:
        raise ValueError("x: expected a shared (clients, values) matrix")
    n, d = x.shape
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= d:
        raise ValueError(f"k: expected an integer in 1..{d}, got {k!r}")
    if isinstance(iters, bool) or not isinstance(iters, numbers.Integral) or not 1 <= iters <= 48:
        raise ValueError(f"iters: expected an integer in 1..48, got {iters!r}")
    s = x.session
    ulp = 2.0 ** -x.frac_bits
    with s.protocol("topk-abs"):
        sgn = MF.drelu(x)
        a = (sgn * 2 - 1) * x
    with s.protocol("topk-max"):
        hi = MF.amax(a, dim=1, keepdim=True) + ulp
    lo = hi * 0.0
    with s.protocol("topk-bisect"):
        for _ in range(int(iters)):
            t = (lo + hi) * 0.5
            count = MF.ge(a, t).sum(dim=1, keepdim=True)
            g = MF.ge(count, int(k))
            lo, hi = MF.where(g, t, lo), MF.where(g, hi, t)
    with s.protocol("topk-mask"):
        mask = MF.ge(a, lo)
        return mask * x, mask


def aggregate_topk(seed_shares: np.ndarray, masked_shares: np.ndarray, ratio: float, *, frac_bits: int = 16,
                   iters: int = 24, seed: int | None = None):
    """Run both aggregators (two threads, ``mpc.run_local``) on n clients' dense shares
    (uint64 (n, d + 1): aggregator 0's expanded seeds and aggregator 1's masked vectors; the last
    column is the weight slot). Prunes each client to its k = d - floor(ratio d) largest
    magnitudes on shares and returns (weighted_sum float64 (d,), total_weight int, stats of party 0).
    ``seed`` makes the dealer deterministic (tests only)."""
    from .. import mpc
    from ..mpc.tensor import SharedTensor

    s0, s1 = np.asarray(seed_shares), np.asarray(masked_shares)
    if s0.dtype != np.uint64 or s1.dtype != np.uint64 or s0.shape != s1.shape or s0.ndim != 2 or s0.shape[1] < 2:
        raise ValueError("seed_shares, masked_shares: expected two uint64 (clients, d + 1) matrices of one shape")
    if not isinstance(ratio, numbers.Real) or not 0.0 <= float(ratio) < 1.0:
        raise ValueError(f"ratio: expected a number in [0, 1), got {ratio!r}")
    d = s0.shape[1] - 1
    k = d - int(np.floor(float(ratio) * d))

    def program(s, own):
        share = torch.from_numpy(own.view(np.int64).copy())
        x = SharedTensor(s, share[:, :-1], frac_bits)
        w = SharedTensor(s, share[:, -1], 0)
        y, _ = topk_mask_shared(x, k, iters)
        return y.sum(0).reveal(), w.sum().reveal(), s.stats()

    kw = {} if seed is None else {"seed": seed}
    # run_local hands both threads the same arguments; each party reads only its own share
    (wsum, total, stats), _ = mpc.run_local(lambda s, pair: program(s, pair[s.party]), (s0, s1), **kw)
    return wsum.numpy().astype(np.float64), int(total), stats
