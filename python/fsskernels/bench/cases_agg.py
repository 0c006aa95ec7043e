"""Aggregation cases: secure aggregation of federated LoRA updates (MiniLM adapters, r = 8 on
query and value of 6 layers: 73,728 values per client) for 3 and 10 clients, beside TenSEAL
CKKS at FedShield-LLM's parameters (bench/peers/ckks_agg.py, peer key "tenseal:ckks_agg").

Our side is fsskernels.federated.measure.ours on synthetic updates of MiniLM's shape (or any
callable set as ``ENTRY``: ``measure(params, reps) -> dict`` with client_s, server_s,
bytes_per_value, max_abs_err, includes).
"""
from __future__ import annotations

import importlib
import importlib.util
from typing import Any, Callable

from .registry import Case, register

VALUES = 6 * 2 * 2 * 8 * 384  # 73,728
ENTRY: Callable[[dict[str, Any], int], dict[str, Any]] | None = None


def _ours(params: dict[str, Any], reps: int) -> dict[str, Any]:
    """Our aggregation on synthetic MiniLM-shaped updates (N(0, 0.01), weights in [20, 200))."""
    import numpy as np

    from ..federated.measure import ours

    rng = np.random.default_rng(12345)  # csprng-ok: public benchmark data
    out = {}
    for n in params["clients"]:
        upd = rng.normal(0, 0.01, size=(n, params["values"])).astype(np.float32)
        wts = rng.integers(20, 200, size=n)
        row = ours(upd, wts, reps=max(1, reps))
        row["bytes_per_value"] = row["client_bytes"] / params["values"]
        out[str(n)] = row
    first = out[str(params["clients"][0])]
    return {**first, "by_clients": out,
            "includes": "client sharing + sealing, both aggregators' sums and the reveal; no network"}


def _requires() -> str | None:
    try:
        importlib.import_module("fsskernels.federated")
    except ImportError as exc:
        return f"fsskernels.federated is not available yet ({exc})"
    if ENTRY is None and importlib.util.find_spec("cryptography") is None:
        return "the aggregation needs the cryptography package (pip install '.[federated]')"
    return None


def _measure(params: dict[str, Any], reps: int) -> dict[str, Any]:
    return (ENTRY or _ours)(params, reps)


register(Case("agg", "lora_updates", _measure, params={"values": VALUES, "clients": [3, 10]},
              quick_params={"values": VALUES, "clients": [3]}, requires=_requires, peer="tenseal:ckks_agg",
              description="secure aggregation of 73,728 LoRA values per client"))
