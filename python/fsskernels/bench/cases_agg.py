"""Aggregation cases: secure aggregation of federated LoRA updates (MiniLM adapters, r = 8 on
query and value of 6 layers: 73,728 values per client) for 3 and 10 clients, beside TenSEAL
CKKS at FedShield-LLM's parameters (bench/peers/ckks_agg.py, peer key "tenseal:ckks_agg").

Our side needs ``fsskernels.federated`` (being written). To add it, give ``ENTRY`` a callable
``measure(params, reps) -> dict`` (keys: client_s, server_s, bytes_per_value, max_abs_err,
includes). Until then the case is skipped with the reason and the peer is still measured.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

from .registry import Case, Skip, register

VALUES = 6 * 2 * 2 * 8 * 384  # 73,728
ENTRY: Callable[[dict[str, Any], int], dict[str, Any]] | None = None


def _requires() -> str | None:
    try:
        importlib.import_module("fsskernels.federated")
    except ImportError as exc:
        return f"fsskernels.federated is not available yet ({exc})"
    if ENTRY is None:
        return "fsskernels.federated exists but no aggregation benchmark entry is registered (cases_agg.ENTRY)"
    return None


def _measure(params: dict[str, Any], reps: int) -> dict[str, Any]:
    if ENTRY is None:
        raise Skip("no aggregation benchmark entry")
    return ENTRY(params, reps)


register(Case("agg", "lora_updates", _measure, params={"values": VALUES, "clients": [3, 10]},
              quick_params={"values": VALUES, "clients": [3]}, requires=_requires, peer="tenseal:ckks_agg",
              description="secure aggregation of 73,728 LoRA values per client"))
