"""Issue 16 item 13: key parsing under a fixed, deterministic fuzz budget (the corpus in
tests/fuzz/corpus/keys and 1500 structured mutants). Every input must be rejected with
ValueError("keys: ...") or evaluate exactly like the pure-Python reference evaluator
(tests/fuzz/key_target.py). The coverage-guided atheris / libFuzzer runs are in
scripts/check_cpp.sh and .ci/run (docs/kernels.md section 8)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "fuzz"))

import key_target  # noqa: E402


def test_seed_corpus_is_accepted_and_matches_reference():
    seeds = key_target.corpus()
    assert len(seeds) >= 20
    assert all(key_target.check_one(s) == "accepted" for s in seeds)


def test_mutants_are_rejected_cleanly_or_evaluate_like_the_reference():
    stats = key_target.run_mutations(1500, seed=16)
    # both outcomes must occur, or the mutator is not reaching the evaluation paths
    assert stats["rejected"] > 100 and stats["accepted"] > 50, stats
