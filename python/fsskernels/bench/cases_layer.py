"""Layer cases: one MiniLM-size BERT encoder layer (hidden 384, 12 heads, FFN 1536) with LoRA
(r = 8 on query and value) forward + backward on shares at batch 8 x seq 64 (``--quick``:
batch 1 x seq 16), beside CrypTen 0.4.1 on the same layer (bench/peers/crypten_layer.py,
peer key "crypten:encoder_layer_lora").

Our side needs ``fsskernels.nn`` (being written). To add it, give ``ENTRY`` a callable
``measure(batch, seq, reps) -> dict`` of raw measurements (use mpcmeasure.measure_two_party;
keys: online, end_to_end, traffic, max_abs_err, includes) - one line here. Until then the case
is skipped with the reason and the peer is still measured.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

from .registry import Case, Skip, register

# Set by the nn/ author: a function measure(batch, seq, reps) -> dict (see the docstring).
ENTRY: Callable[[int, int, int], dict[str, Any]] | None = None


def _requires() -> str | None:
    try:
        importlib.import_module("fsskernels.nn")
    except ImportError as exc:
        return f"fsskernels.nn is not available yet ({exc})"
    if ENTRY is None:
        return "fsskernels.nn exists but no encoder-layer benchmark entry is registered (cases_layer.ENTRY)"
    return None


def _measure(params: dict[str, Any], reps: int) -> dict[str, Any]:
    if ENTRY is None:
        raise Skip("no encoder-layer benchmark entry")
    return ENTRY(int(params["batch"]), int(params["seq"]), reps)


register(Case("layer", "encoder_layer_lora", _measure, params={"batch": 8, "seq": 64},
              quick_params={"batch": 1, "seq": 16}, requires=_requires, peer="crypten:encoder_layer_lora",
              description="MiniLM encoder layer + LoRA r8 (q, v): forward + backward"))
