"""pytest-benchmark view of the registered ``fsskernels bench`` cases (fsskernels.bench.registry):
the same cases as the command, one test per (section, case), at the ``--quick`` sizes.

    pytest bench/bench_cases.py --benchmark-only                        # every section
    pytest bench/bench_cases.py --benchmark-only -k gates               # one section
    FSS_BENCH_FULL=1 pytest bench/bench_cases.py --benchmark-only       # the full sizes

pytest-benchmark times one whole ``measure`` call (set-up included, one round); the case's own
figures (online / end-to-end medians, traffic, errors, rows) are in ``extra_info``, which is what
to compare. A case that cannot run here (a module not written yet) is skipped with its reason.
Peers are not run here: ``fsskernels bench`` runs them.
"""
from __future__ import annotations

import os

import pytest

from fsskernels.bench import registry

FULL = os.environ.get("FSS_BENCH_FULL") == "1"
CASES = registry.cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.section}-{c.name}" for c in CASES])
def test_case(benchmark, case):
    reason = case.skip_reason()
    if reason:
        pytest.skip(reason)
    benchmark.group = case.section
    rec = benchmark.pedantic(case.run, args=(not FULL, 1), rounds=1, iterations=1)
    if rec["status"] == "skipped":
        pytest.skip(rec["reason"])
    assert rec["status"] == "ok", rec.get("reason")
    benchmark.extra_info.update({k: v for k, v in rec.items() if k not in ("description",)})
