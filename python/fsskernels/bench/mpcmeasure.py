"""Timing a two-party computation under ``mpc.run_local`` (two threads, in-process dealer), the
way every gate / layer case of ``fsskernels bench`` measures it.

``measure_two_party(setup, compute, reps)``:
  * a plan run: ``setup(s)`` makes the inputs (shares), then ``compute(s, inputs)`` runs once and
    ``s.material_log()`` gives the dealer plan of ``compute`` alone (its result is also revealed
    to party 0 to check the error);
  * ``reps`` online runs: fresh sessions, ``setup``, ``s.prefetch(plan)`` (the offline phase,
    outside the timer), a one-round barrier, then the timer around ``compute``;
  * ``reps`` end-to-end runs: the same without prefetch, so the dealer makes the material on
    demand inside the timer (the same 2 cores; CrypTen's setting makes its triples inside too).
Times are the slower party's (max over the two threads), in seconds; traffic is party 0's
``stats()["total"]`` of ``compute`` (bytes both ways, rounds, critical-path bytes), identical in
every run. Projected LAN/WAN times: ``mpc.project_time(traffic, link, compute_s=online median)``.
"""
from __future__ import annotations

import statistics
import time
from typing import Any, Callable

import torch

from .. import set_num_threads


def _barrier(s) -> None:
    """One round: both parties exchange an 8-byte value, so the timer starts together."""
    from .. import mpc

    z = mpc.share(s, torch.zeros(1) if s.party == 0 else None, owner=0, shape=(1,))
    z.reveal()


def spread(xs: list[float]) -> dict[str, Any]:
    """Median, min, max and all samples (rounded) of a list of seconds."""
    return {"median_s": statistics.median(xs), "min_s": min(xs), "max_s": max(xs),
            "samples_s": [round(x, 6) for x in xs]}


def measure_two_party(setup: Callable, compute: Callable, reps: int, *, reference: torch.Tensor | None = None,
                      threads_per_party: int = 1, seed: int = 0, timeout: float = 600.0) -> dict[str, Any]:
    """Raw measurements of ``compute`` (see the module docstring). ``compute(s, inputs)`` returns
    a SharedTensor (or a tuple whose first item is one); ``reference``, if given, is the float64
    plaintext it should reveal to."""
    from .. import mpc
    from ..mpc.stats import LINKS

    if reps < 1:
        raise ValueError(f"reps: must be >= 1, got {reps}")
    set_num_threads(threads_per_party)
    torch.set_num_threads(threads_per_party)

    def first(y):
        return y[0] if isinstance(y, tuple) else y

    def plan_prog(s):
        inputs = setup(s)
        s.material_log(clear=True)
        s.reset_stats()
        y = first(compute(s, inputs))
        plan = s.material_log()
        traffic = s.stats()["total"]
        out = y.reveal(to=0)
        return plan, traffic, out

    (plan, traffic, out), _ = mpc.run_local(plan_prog, seed=seed, timeout=timeout)
    rec: dict[str, Any] = {"traffic": traffic, "dealer_pieces": len(plan), "threads_per_party": threads_per_party}
    if reference is not None and out is not None:
        rec["max_abs_err"] = float((out.double() - reference.double()).abs().max())
        rec["ref_max_abs"] = float(reference.double().abs().max())

    def timed_prog(s, prefetch: bool):
        inputs = setup(s)
        if prefetch:
            s.prefetch(plan)
        _barrier(s)
        t0 = time.perf_counter()
        first(compute(s, inputs))
        return time.perf_counter() - t0

    online, e2e = [], []
    for r in range(reps):
        a, b = mpc.run_local(timed_prog, True, seed=seed + 1 + r, timeout=timeout)
        online.append(max(a, b))
        a, b = mpc.run_local(timed_prog, False, seed=seed + 101 + r, timeout=timeout)
        e2e.append(max(a, b))
    rec["online"] = spread(online)
    rec["end_to_end"] = spread(e2e)
    rec["projected_s"] = {k: mpc.project_time(traffic, k, compute_s=rec["online"]["median_s"]) for k in LINKS}
    rec["includes"] = ("online: dealer material prefetched before the timer; end_to_end: in-process dealer makes "
                       "it inside the timer; 2 threads of one process, in-memory channel, "
                       f"{threads_per_party} kernel/torch thread(s) per party; slower party's time")
    return rec


__all__ = ["measure_two_party", "spread"]
