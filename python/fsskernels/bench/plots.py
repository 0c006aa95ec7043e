"""PNG plots of a ``fsskernels bench`` report (matplotlib, Agg backend; nothing is shown):

  kernels.png   keygen and eval throughput against the batch size (log-log), one line per
                (scheme, bits->out), the AES ceiling divided by AES blocks per evaluation drawn as a
                dashed line of the same colour, sycret as markers
  gates.png     time / bytes / rounds per gate, ours (online, end-to-end) beside CrypTen
  projected.png projected LAN / WAN seconds per gate (mpc.project_time), ours beside CrypTen
                (CrypTen: its measured time + the same link terms for its bytes and rounds)
  finetune.png  a fine-tuning step's time and bytes per layer type
  layer.png     the encoder layer's time and bytes, ours beside CrypTen

A plot is written only when its data exist; ``write_plots`` returns the file names written and,
without matplotlib, an empty list and a note.
"""
from __future__ import annotations

import os
from typing import Any

from .report import ceiling_ecb, kernel_rows, sycret_rows


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_kernels(rep: dict[str, Any], path: str) -> bool:
    rows = kernel_rows(rep)
    if not rows:
        return False
    plt = _plt()
    ceil = ceiling_ecb(rep)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    series: dict[tuple, list] = {}
    for r in rows:
        series.setdefault((r["scheme"], r["bits"], r["out_bits"], r["aes_blocks_per_eval"],
                           r["aes_blocks_per_keygen"]), []).append(r)
    for i, (key, rs) in enumerate(sorted(series.items())):
        scheme, bits, ob, blk_e, blk_g = key
        rs = sorted(rs, key=lambda r: r["n"])
        ns = [r["n"] for r in rs]
        th = [r["threads"].get("1") or r["threads"].get(1) for r in rs]
        color = f"C{i}"
        label = f"{scheme.upper()} {bits}->{ob}"
        axes[0].plot(ns, [t["keygen_keys_per_s"] for t in th], "o-", color=color, label=label)
        axes[1].plot(ns, [t["eval_per_s"] for t in th], "o-", color=color, label=label)
        if ceil:
            axes[0].axhline(ceil / blk_g, color=color, ls="--", lw=0.8)
            axes[1].axhline(ceil / blk_e, color=color, ls="--", lw=0.8)
    syc = sycret_rows(rep)
    for scheme, mk in (("eq", "s"), ("le", "^")):
        pts = sorted((r["n"], r["keygen_keys_per_s"], r["eval_per_s"]) for r in syc if r["scheme"] == scheme)
        if pts:
            axes[0].plot([p[0] for p in pts], [p[1] for p in pts], mk + ":", color="k", label=f"sycret 0.2.8 {scheme}")
            axes[1].plot([p[0] for p in pts], [p[2] for p in pts], mk + ":", color="k", label=f"sycret 0.2.8 {scheme}")
    for ax, what in zip(axes, ("keygen: key pairs / s", "eval: evaluations / s (one party)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("batch size N")
        ax.set_ylabel(what)
        ax.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize=7)
    fig.suptitle("Kernels, 1 thread; dashed: AES ceiling / AES blocks per operation" if ceil else "Kernels, 1 thread")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _gate_pairs(rep: dict[str, Any]) -> list[tuple[str, dict | None, dict | None]]:
    sec = rep["sections"].get("gates", {})
    cr = {r.get("case"): r for r in sec.get("peers", {}).get("crypten", {}).get("rows", []) or []}
    out = []
    for c in sec.get("cases", []):
        ours = c if c.get("status") == "ok" else None
        peer = cr.get((c.get("peer") or ":").split(":", 1)[1])
        if ours or peer:
            out.append((c["case"], ours, peer))
    return out


def plot_gates(rep: dict[str, Any], path: str) -> bool:
    pairs = _gate_pairs(rep)
    if not pairs:
        return False
    plt = _plt()
    names = [p[0] for p in pairs]
    x = range(len(names))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    w = 0.27
    on = [p[1]["online"]["median_s"] if p[1] else 0 for p in pairs]
    e2e = [p[1]["end_to_end"]["median_s"] if p[1] else 0 for p in pairs]
    cr = [p[2]["s_median"] if p[2] else 0 for p in pairs]
    axes[0].bar([i - w for i in x], on, w, label="ours online")
    axes[0].bar(list(x), e2e, w, label="ours end-to-end")
    axes[0].bar([i + w for i in x], cr, w, label="CrypTen 0.4.1 (triples inside)")
    axes[0].set_ylabel("seconds (median)")
    axes[1].bar([i - w / 2 for i in x], [p[1]["traffic"]["bytes"] if p[1] else 0 for p in pairs], w, label="ours")
    axes[1].bar([i + w / 2 for i in x], [p[2]["comm_bytes"] if p[2] else 0 for p in pairs], w, label="CrypTen")
    axes[1].set_ylabel("bytes, both directions")
    axes[2].bar([i - w / 2 for i in x], [p[1]["traffic"]["rounds"] if p[1] else 0 for p in pairs], w, label="ours")
    axes[2].bar([i + w / 2 for i in x], [p[2]["comm_rounds"] if p[2] else 0 for p in pairs], w, label="CrypTen")
    axes[2].set_ylabel("rounds")
    for ax in axes:
        ax.set_xticks(list(x))
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    fig.suptitle("Gates, two parties, 1 thread each (missing bars: not measured / skipped)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_projected(rep: dict[str, Any], path: str) -> bool:
    from ..mpc.stats import LINKS

    pairs = _gate_pairs(rep)
    if not pairs:
        return False
    plt = _plt()
    links = list(LINKS)
    fig, axes = plt.subplots(1, len(links), figsize=(5 * len(links), 4.5))
    for ax, link in zip(axes, links):
        L = LINKS[link]
        names = [p[0] for p in pairs]
        ours = [p[1]["projected_s"][link] if p[1] else 0 for p in pairs]
        # CrypTen's rounds/bytes under the same model; its bytes are both directions (half each way, full duplex).
        crv = [p[2]["s_median"] + p[2]["comm_rounds"] * L.latency_s + p[2]["comm_bytes"] / 2 * 8 / L.bandwidth_bps
               if p[2] else 0 for p in pairs]
        x = range(len(names))
        ax.bar([i - 0.2 for i in x], ours, 0.4, label="ours (online + link)")
        ax.bar([i + 0.2 for i in x], crv, 0.4, label="CrypTen (measured + link)")
        ax.set_xticks(list(x))
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
        ax.set_yscale("log")
        ax.set_title(L.name if hasattr(L, "name") else link, fontsize=9)
        ax.set_ylabel("projected seconds")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_finetune(rep: dict[str, Any], path: str) -> bool:
    cases = [c for c in rep["sections"].get("finetune", {}).get("cases", [])
             if c.get("status") == "ok" and c.get("per_layer_type")]
    if not cases:
        return False
    plt = _plt()
    per = cases[0]["per_layer_type"]
    names = sorted(per)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    axes[0].bar(names, [per[n].get("s", 0) for n in names])
    axes[0].set_ylabel("seconds per step")
    axes[1].bar(names, [per[n].get("bytes", 0) for n in names])
    axes[1].set_ylabel("bytes per step")
    for ax in axes:
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle("One private LoRA fine-tuning step, per layer type")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plot_layer(rep: dict[str, Any], path: str) -> bool:
    sec = rep["sections"].get("layer", {})
    cr = next(iter(sec.get("peers", {}).get("crypten", {}).get("rows", []) or []), None)
    ours = next((c for c in sec.get("cases", []) if c.get("status") == "ok"), None)
    if not (cr or ours):
        return False
    plt = _plt()
    labels, secs, byts = [], [], []
    if ours:
        labels.append("ours")
        secs.append(ours["end_to_end"]["median_s"])
        byts.append(ours["traffic"]["bytes"])
    if cr:
        labels.append("CrypTen 0.4.1")
        secs.append(cr["s_median"])
        byts.append(cr["comm_bytes"])
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    axes[0].bar(labels, secs)
    axes[0].set_ylabel("seconds, forward + backward")
    axes[1].bar(labels, byts)
    axes[1].set_ylabel("bytes, both directions")
    fig.suptitle("MiniLM encoder layer + LoRA, forward + backward")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


PLOTS = (("kernels.png", plot_kernels), ("gates.png", plot_gates), ("projected.png", plot_projected),
         ("layer.png", plot_layer), ("finetune.png", plot_finetune))


def write_plots(rep: dict[str, Any], outdir: str) -> tuple[list[str], str]:
    """(file names written under outdir, note)."""
    try:
        _plt()
    except ImportError as exc:
        return [], f"no plots: matplotlib is not installed ({exc})"
    os.makedirs(outdir, exist_ok=True)
    written = []
    for name, fn in PLOTS:
        if fn(rep, os.path.join(outdir, name)):
            written.append(name)
    return written, ""


__all__ = ["PLOTS", "write_plots"]
