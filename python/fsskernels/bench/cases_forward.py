"""Forward-only cases (issue 19, SecP-Tuning): one forward-only generation against one
gradient-based private LoRA step on the same model, batch and sequence length; and softmax
against random-feature attention (one MiniLM self-attention, 12 heads x 32) at sequence
lengths 64 and 128: time, bytes, rounds, error against float64 softmax attention.
Measured by ``fsskernels.finetune.forward_only.measure``; run with ``fsskernels bench --only forward``.
"""
from __future__ import annotations

import importlib
from typing import Any

from .registry import Case, register


def _requires() -> str | None:
    for mod in ("fsskernels.finetune.forward_only.measure", "cma"):
        try:
            importlib.import_module(mod)
        except ImportError as exc:
            return f"{mod} is not available ({exc})"
    return None


def _gen(params: dict[str, Any], reps: int) -> dict[str, Any]:
    return importlib.import_module("fsskernels.finetune.forward_only.measure").generation_vs_gradient(params, reps)


def _att(params: dict[str, Any], reps: int) -> dict[str, Any]:
    return importlib.import_module("fsskernels.finetune.forward_only.measure").attention_softmax_vs_rfa(params, reps)


register(Case("forward", "generation_vs_gradient_step", _gen,
              params={"layers": 1, "batch": 4, "seq": 16, "population": 4},
              quick_params={"layers": 1, "batch": 2, "seq": 8, "population": 2}, requires=_requires,
              description="one forward-only generation (population x batch rows) vs one private LoRA step"))
register(Case("forward", "attention_softmax_vs_rfa", _att,
              params={"seqs": [64, 128], "features": 32},
              quick_params={"seqs": [64], "features": 16}, requires=_requires,
              description="softmax vs random-feature attention core on shares, seq 64 and 128"))


def render(rep: dict[str, Any]) -> str:
    """Markdown for report.md: the forward section's two tables (empty when it did not run)."""
    from .report import _md, fmt_bytes, fmt_s

    sec = rep.get("sections", {}).get("forward", {})
    parts = []
    for c in sec.get("cases", []):
        if c.get("status") != "ok":
            continue
        if c["case"] == "generation_vs_gradient_step":
            p = c.get("params", {})
            rows = [[name, fmt_s(v["seconds"]), fmt_bytes(v["bytes"]), str(v["rounds"])]
                    for name, v in (("forward-only generation", c["forward_only_step"]),
                                    ("gradient LoRA step", c["gradient_step"]))]
            r = c["ratio_gradient_over_forward_only"]
            rows.append(["gradient / forward-only", f"{r['seconds']:.2f}x", f"{r['bytes']:.2f}x", f"{r['rounds']:.2f}x"])
            parts.append(f"### Forward-only generation vs gradient LoRA step ({p.get('layers')} layer(s), population "
                         f"{p.get('population')} x batch {p.get('batch')}, seq {p.get('seq')})\n\n"
                         + _md(["per step", "time", "bytes", "rounds"], rows))
        elif c["case"] == "attention_softmax_vs_rfa":
            rows = [[str(x["seq"]), x["attention"] + (f" (m = {x['features']})" if x.get("features") else ""),
                     fmt_s(x["seconds"]), fmt_bytes(x["bytes"]), str(x["rounds"]),
                     f"{x['mean_err_vs_softmax']:.2g} / {x['max_err_vs_softmax']:.2g}"] for x in c.get("rows", [])]
            parts.append("### Softmax vs random-feature attention (one MiniLM attention, 12 x 32, batch 1)\n\n"
                         + _md(["seq", "attention", "time", "bytes", "rounds", "mean / max err vs softmax"], rows))
    return "\n\n".join(parts)
