#!/usr/bin/env python3
"""sycret 0.2.8 peer (OpenMined's Rust FSS library with AES-NI, used by AriaNN/PySyft): key
generation and one party's evaluation throughput of its DPF (``eq``: x == alpha) and DIF (``le``:
x <= alpha) on 32-bit inputs, with a correctness check of both parties' shares.

    python sycret_fss.py --threads 1 --n 1000 100000 --reps 3 [--schemes eq le]

One JSON line per (scheme, n). Run one process per thread count: sycret sizes rayon's global
thread pool on its first call, so a second count in the same process would be ignored.
Includes: keygen makes both parties' keys in one call (sycret chooses alpha itself; beta = 1);
eval is party 0 alone on a batch of uniformly random public inputs; shares live in Z_2^32.
Inputs are public benchmark data (numpy's default generator, fixed seed).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np
import sycret


def timed(fn, reps: int):
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def correct_count(scheme: str, factory, k0, k1, threads: int) -> tuple[int, int]:
    """Shares reconstruct [x == alpha] / [x <= alpha] at x = alpha - 1, alpha, alpha + 1."""
    n = k0.shape[0]
    alpha = factory.alpha(k0, k1).astype(np.int64)
    x = (alpha + (np.arange(n) % 3) - 1) & 0xFFFFFFFF
    y = (factory.eval(0, x, k0, n_threads=threads) + factory.eval(1, x, k1, n_threads=threads)) & 0xFFFFFFFF
    want = (x == alpha) if scheme == "eq" else (x.astype(np.uint32) <= alpha.astype(np.uint32))
    return int(np.count_nonzero(y == want.astype(np.int64))), n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n", type=int, nargs="+", default=[100_000])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--schemes", nargs="+", default=["eq", "le"], choices=["eq", "le"])
    a = ap.parse_args()
    if a.threads < 1 or a.reps < 1 or min(a.n) < 1:
        ap.error("--threads, --reps and --n must be >= 1")
    rng = np.random.default_rng(1)  # csprng-ok: public benchmark inputs
    for scheme in a.schemes:
        factory = (sycret.EqFactory if scheme == "eq" else sycret.LeFactory)(n_threads=a.threads)
        for n in a.n:
            tk, (k0, k1) = timed(lambda: factory.keygen(n), a.reps)
            x = rng.integers(0, 2**32, size=n, dtype=np.int64)
            te, _ = timed(lambda: factory.eval(0, x, k0, n_threads=a.threads), a.reps)
            ok, tot = correct_count(scheme, factory, k0, k1, a.threads)
            mk, me = statistics.median(tk), statistics.median(te)
            print(json.dumps({
                "lib": "sycret", "peer": "sycret", "version": "0.2.8", "scheme": scheme, "n": n,
                "threads": a.threads, "key_bytes_per_party": int(k0.shape[1]),
                "keygen_s_all": [round(t, 6) for t in tk], "keygen_s_median": round(mk, 6),
                "keygen_keys_per_s": round(n / mk), "eval_s_all": [round(t, 6) for t in te],
                "eval1party_s_median": round(me, 6), "eval_per_s": round(n / me), "correct": f"{ok}/{tot}",
                "includes": "keygen: both parties' keys, alpha chosen by sycret; eval: one party, public x",
            }), flush=True)
            del k0, k1
    return 0


if __name__ == "__main__":
    sys.exit(main())
