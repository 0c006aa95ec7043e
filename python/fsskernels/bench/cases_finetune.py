"""Fine-tuning cases: one private LoRA fine-tuning step (forward, loss, backward, optimizer update
on shares) of a truncated MiniLM, with time and bytes per layer type (embedding, attention,
LoRA linear, LayerNorm, GeLU, softmax, cross-entropy, optimizer).

Our side is ``fsskernels.finetune.benchstep.measure`` (or any callable set as ``ENTRY``):
``measure(params, reps) -> dict`` returning at least ``online``/``end_to_end`` (mpcmeasure.spread
dicts), ``traffic`` and ``per_layer_type: {type: {"s": seconds, "bytes": bytes, "rounds": n}}``
(the report draws that as the fine-tuning plot). Until then the case is skipped with the reason.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

from .registry import Case, Skip, register

ENTRY: Callable[[dict[str, Any], int], dict[str, Any]] | None = None


def _entry():
    """The registered entry, or fsskernels.finetune.benchstep.measure (imported lazily)."""
    global ENTRY
    if ENTRY is None:
        try:
            ENTRY = importlib.import_module("fsskernels.finetune.benchstep").measure
        except ImportError:
            return None
    return ENTRY


def _requires() -> str | None:
    try:
        importlib.import_module("fsskernels.finetune")
    except ImportError as exc:
        return f"fsskernels.finetune is not available yet ({exc})"
    if _entry() is None:
        return "fsskernels.finetune exists but no step benchmark entry is registered (cases_finetune.ENTRY)"
    return None


def _measure(params: dict[str, Any], reps: int) -> dict[str, Any]:
    entry = _entry()
    if entry is None:
        raise Skip("no fine-tuning benchmark entry")
    return entry(params, reps)


register(Case("finetune", "lora_step", _measure, params={"layers": 2, "batch": 8, "seq": 64},
              quick_params={"layers": 1, "batch": 2, "seq": 16}, requires=_requires,
              description="one private LoRA fine-tuning step, per layer type"))
