"""The run's report: final table (text), JSON log and PNG plots (matplotlib, Agg backend).

Computes from the twin's and the private run's logs:
  - ``table(summary)``: held-out accuracy (before/after; private beside plaintext), total
    time, bytes, rounds, peak RSS, and the share of time and bytes per phase/layer type;
  - ``by_kind(protocols)``: bytes and rounds grouped by layer type, from the session stats
    labels (nn/ and runtime labels such as "forward/...attention.self.query..."), keyword
    matched in the order of ``KINDS``;
  - ``write_json(path, summary)`` (atomic) and ``plot(out_dir, summary)`` -> [png paths]:
    loss per step of both runs, held-out accuracy of both runs.
"""
from __future__ import annotations

import json
import pathlib

from .checkpoint import atomic_write_bytes

KINDS = [
    ("embedding (once)", ("embedding",)),
    ("attention mask / labels (once)", ("attention mask", "labels")),
    ("LoRA adapters", ("lora",)),
    ("attention (softmax, scores)", ("softmax", "attention", "scores", "context")),
    ("GeLU / FFN", ("gelu", "intermediate")),
    ("LayerNorm", ("layer_norm", "layernorm", "layer norm")),
    ("pooler / classifier", ("pooler", "classifier", "tanh")),
    ("loss (cross-entropy)", ("loss", "cross")),
    ("optimizer", ("optimizer", "rsqrt")),
    ("eval", ("eval",)),
    ("export", ("export",)),
    ("frozen linear (matmul)", ("frozen", "matmul", "dense", "linear")),
]


def kind_of(label: str) -> str:
    low = label.lower()
    for name, keys in KINDS:
        if any(k in low for k in keys):
            return name
    return "other (" + low.split("/")[-1] + ")"


def by_kind(protocols: dict) -> dict:
    out: dict = {}
    for lab, c in protocols.items():
        e = out.setdefault(kind_of(lab), {"bytes": 0, "rounds": 0})
        e["bytes"] += int(c.get("bytes", 0))
        e["rounds"] += int(c.get("rounds", 0))
    return out


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:,.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000.0
    return str(n)


def table(summary: dict) -> str:
    p, t = summary.get("private", {}), summary.get("twin")
    lines = []
    w = 34
    lines.append(f"{'':<{w}} {'private (shares)':>20} {'plaintext twin (peft)':>22}")

    def row(name, a, b=""):
        lines.append(f"{name:<{w}} {a:>20} {b:>22}")

    tw = (lambda k, f: f(t[k]) if t and t.get(k) is not None else "-")
    row("held-out accuracy before", "(same init)" if p.get("acc_before") is None else f"{p['acc_before']:.3f}",
        tw("acc_before", lambda v: f"{v:.3f}"))
    row("held-out accuracy after", "-" if p.get("acc_after") is None else f"{p['acc_after']:.3f}",
        tw("acc_after", lambda v: f"{v:.3f}"))
    row("final training loss (last step)", "-" if not p.get("losses") else f"{p['losses'][-1]:.4f}",
        tw("losses", lambda v: f"{v[-1]:.4f}" if v else "-"))
    row("time (s)", f"{p.get('seconds', 0):.1f}", tw("seconds", lambda v: f"{v:.1f}"))
    row("bytes on the wire (both parties)", _fmt_bytes(p.get("bytes", 0)))
    row("rounds", "-" if p.get("rounds") is None else f"{p['rounds']:,}")
    row("peak RSS of this process", f"{summary.get('peak_rss_mb', 0):,.0f} MB")
    if p.get("agreement") is not None:
        row("exported peft adapter == private", f"{100 * p['agreement']:.1f}% predictions")
    phases = p.get("phases", {})
    tot_s = sum(v["seconds"] for v in phases.values()) or 1.0
    tot_b = sum(v["bytes"] for v in phases.values()) or 1
    if phases:
        lines.append("")
        lines.append(f"{'phase':<{w}} {'time share':>12} {'bytes share':>12} {'bytes':>14}")
        for k, v in sorted(phases.items(), key=lambda kv: -kv[1]["seconds"]):
            lines.append(f"{k:<{w}} {100 * v['seconds'] / tot_s:>11.1f}% {100 * v['bytes'] / tot_b:>11.1f}% "
                         f"{_fmt_bytes(v['bytes']):>14}")
    kinds = p.get("by_kind", {})
    tot_k = sum(v["bytes"] for v in kinds.values()) or 1
    if kinds:
        lines.append("")
        lines.append(f"{'layer type (stats labels)':<{w}} {'bytes share':>12} {'bytes':>14} {'rounds':>10}")
        for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]["bytes"]):
            lines.append(f"{k:<{w}} {100 * v['bytes'] / tot_k:>11.1f}% {_fmt_bytes(v['bytes']):>14} {v['rounds']:>10,}")
    return "\n".join(lines)


def write_json(path, summary: dict) -> pathlib.Path:
    p = pathlib.Path(path)
    atomic_write_bytes(p, json.dumps(summary, indent=2, default=float).encode())
    return p


def plot(out_dir, summary: dict) -> list:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    p, t = summary.get("private", {}), summary.get("twin") or {}
    paths = []
    fig, ax = plt.subplots(figsize=(6, 4))
    if t.get("losses"):
        ax.plot(range(1, len(t["losses"]) + 1), t["losses"], label="plaintext twin (peft)")
    if p.get("losses"):
        ax.plot(range(1, len(p["losses"]) + 1), p["losses"], "--", label="private (shares)")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (batch mean cross-entropy)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "loss.png", dpi=100)
    plt.close(fig)
    paths.append(out / "loss.png")
    fig, ax = plt.subplots(figsize=(6, 4))
    if t.get("eval_acc"):
        ax.plot(range(len(t["eval_acc"])), t["eval_acc"], "o-", label="plaintext twin (per epoch)")
    pa = [v for v in (p.get("acc_before"), p.get("acc_after")) if v is not None]
    if pa:
        xs = [0, len(t.get("eval_acc") or [0, 0]) - 1] if len(pa) == 2 else [len(t.get("eval_acc") or [0, 0]) - 1]
        ax.plot(xs, pa, "s--", label="private (shares)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("held-out accuracy")
    ax.set_ylim(0, 1)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "accuracy.png", dpi=100)
    plt.close(fig)
    paths.append(out / "accuracy.png")
    return paths
