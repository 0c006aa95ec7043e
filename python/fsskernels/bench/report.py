"""Markdown from a ``fsskernels bench`` report (the JSON dict the command writes): the full report
(``render_report``) and the README's benchmark tables (``readme_tables``, printed by
``fsskernels bench --readme-table report.json``).

Figures are medians with their [min-max] spread over the repetitions; every table says what its
timed region includes; skipped cases and peers are listed with their reasons. Ratios are only
formed between figures of the same run. ``load_report`` raises ValueError naming the file when it
is not a report.
"""
from __future__ import annotations

import json
from typing import Any

from .table import DASH, _md, fmt_pct, fmt_rate, fmt_x

SCHEMA = 1


def load_report(path: str) -> dict[str, Any]:
    try:
        with open(path) as f:
            rep = json.load(f)
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"report: cannot read {path}: {exc}") from None
    if not isinstance(rep, dict) or rep.get("schema") != SCHEMA or "sections" not in rep:
        raise ValueError(f"report: {path} is not a fsskernels bench report (schema {SCHEMA})")
    return rep


# ----------------------------------------------------------------------------- formatting
def fmt_s(v: float | None) -> str:
    """Seconds as us / ms / s with 3 significant digits."""
    if v is None:
        return DASH
    if v < 1e-3:
        return f"{v * 1e6:.3g} us"
    if v < 1:
        return f"{v * 1e3:.3g} ms"
    return f"{v:.3g} s"


def fmt_spread(d: dict[str, Any] | None) -> str:
    """'median [min-max]' of an mpcmeasure.spread dict."""
    if not d:
        return DASH
    if d["min_s"] == d["max_s"]:
        return fmt_s(d["median_s"])
    return f"{fmt_s(d['median_s'])} [{fmt_s(d['min_s'])}-{fmt_s(d['max_s'])}]"


def fmt_bytes(v: float | None) -> str:
    if v is None:
        return DASH
    for scale, unit in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if v >= scale:
            return f"{v / scale:.3g} {unit}"
    return f"{v:.0f} B"


def peer_spread(row: dict[str, Any], key: str = "s_all") -> dict[str, Any] | None:
    xs = row.get(key)
    if not xs:
        return None
    xs = sorted(xs)
    med = row.get("s_median", xs[len(xs) // 2])
    return {"median_s": med, "min_s": xs[0], "max_s": xs[-1]}


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


# ----------------------------------------------------------------------------- sections
def kernel_rows(rep: dict[str, Any]) -> list[dict[str, Any]]:
    sec = rep["sections"].get("kernels", {})
    out = []
    for c in sec.get("cases", []):
        if c.get("status") == "ok":
            out.extend(c.get("rows", []))
    return out


def ceiling_ecb(rep: dict[str, Any]) -> float | None:
    ce = rep["sections"].get("kernels", {}).get("peers", {}).get("aes_ceiling", {})
    return ce.get("blocks_per_s", {}).get("ecb") if ce.get("status") == "ok" else None


def sycret_rows(rep: dict[str, Any]) -> list[dict[str, Any]]:
    sy = rep["sections"].get("kernels", {}).get("peers", {}).get("sycret", {})
    return sy.get("rows", []) or []


def render_kernels(rep: dict[str, Any]) -> str:
    rows = kernel_rows(rep)
    if not rows:
        return ""
    ceil = ceiling_ecb(rep)
    syc = {(r["scheme"], r["n"]): r for r in sycret_rows(rep)}
    header = ["kernel", "bits->out", "N", "key B", "keygen/s", "eval/s", "eval % AES ceiling", "correct",
              "sycret keygen/s / eval/s", "x sycret gen / eval"]
    body = []
    for r in rows:
        t = r["threads"].get("1") or r["threads"].get(1) or {}
        ev, kg = t.get("eval_per_s"), t.get("keygen_keys_per_s")
        frac = ev * r["aes_blocks_per_eval"] / ceil if ev and ceil else None
        s = syc.get(("eq" if r["scheme"] == "dpf" else "le", r["n"])) if r["bits"] == 32 and r["out_bits"] > 1 else None
        body.append([r["scheme"].upper(), f"{r['bits']}->{r['out_bits']}", fmt_rate(r["n"]), str(r.get("key_bytes", DASH)),
                     fmt_rate(kg), fmt_rate(ev), fmt_pct(frac), r.get("correct", DASH),
                     f"{fmt_rate(s['keygen_keys_per_s'])} / {fmt_rate(s['eval_per_s'])}" if s else DASH,
                     f"{fmt_x(_ratio(kg, s['keygen_keys_per_s']))} / {fmt_x(_ratio(ev, s['eval_per_s']))}" if s else DASH])
    note = ("One thread. keygen/s: key pairs per second (both parties' keys in one call); eval/s: one party. "
            f"AES ceiling (same run, one core, fixed-key ECB): {fmt_rate(ceil)} blocks/s. "
            "sycret 0.2.8 (same run, 1 thread) is 32-bit only: eq = DPF, le = DIF (x <= alpha), Z_2^32 outputs, "
            "compared with our DPF / DCF 32->64.")
    skipped = [w for c in rep["sections"]["kernels"].get("cases", []) for w in c.get("skipped_n", [])]
    if skipped:
        note += " Not measured (memory): " + "; ".join(skipped) + "."
    return "### Kernels\n\n" + _md(header, body) + "\n\n" + note


def _crypten_rows(rep: dict[str, Any], section: str) -> dict[str, dict[str, Any]]:
    cr = rep["sections"].get(section, {}).get("peers", {}).get("crypten", {})
    return {r.get("case"): r for r in cr.get("rows", []) or []}


def gate_table(rep: dict[str, Any], readme: bool = False) -> str:
    sec = rep["sections"].get("gates", {})
    cr = _crypten_rows(rep, "gates")
    header = ["gate", "shape", "ours online", "ours end-to-end", "ours bytes / rounds", "ours max err",
              "CrypTen 0.4.1 (triples inside)", "CrypTen bytes / rounds", "CrypTen max err",
              "time CrypTen / ours e2e", "bytes CrypTen / ours"]
    body = []
    for c in sec.get("cases", []):
        peer = cr.get((c.get("peer") or ":").split(":", 1)[1])
        shape = "x".join(map(str, c["params"].get("shape", [])))
        ok = c.get("status") == "ok"
        tr = c.get("traffic", {}) if ok else {}
        body.append([
            c["case"], shape,
            fmt_spread(c.get("online")) if ok else f"skipped: {c.get('reason', '')}"[: 60 if readme else 200],
            fmt_spread(c.get("end_to_end")) if ok else DASH,
            f"{fmt_bytes(tr.get('bytes'))} / {tr.get('rounds', DASH)}" if ok else DASH,
            f"{c['max_abs_err']:.2g}" if ok and "max_abs_err" in c else DASH,
            fmt_spread(peer_spread(peer)) if peer else DASH,
            f"{fmt_bytes(peer['comm_bytes'])} / {peer['comm_rounds']}" if peer else DASH,
            f"{peer['max_abs_err']:.2g}" if peer else DASH,
            fmt_x(_ratio(peer and peer["s_median"], ok and c["end_to_end"]["median_s"])) if peer and ok else DASH,
            fmt_x(_ratio(peer and peer["comm_bytes"], tr.get("bytes"))) if peer and ok else DASH,
        ])
    if not body:
        return ""
    return _md(header, body)


def render_gates(rep: dict[str, Any]) -> str:
    t = gate_table(rep)
    if not t:
        return ""
    note = ("Two parties, one thread each. Ours: `mpc.run_local` (two threads, in-memory channel); online = dealer "
            "material prefetched before the timer, end-to-end = in-process dealer makes it inside the timer; slower "
            "party's time. CrypTen 0.4.1: two processes over loopback Gloo, its trusted-first-party provider makes all "
            "triples inside the timer. Bytes: both directions. Medians [min-max] of the repetitions; errors against "
            "float64 torch on the same inputs. CrypTen's GeLU (tanh form) and LayerNorm are composed from its ops.")
    proj = []
    for c in rep["sections"]["gates"].get("cases", []):
        if c.get("status") == "ok":
            p = c["projected_s"]
            proj.append([c["case"], fmt_s(p.get("lan")), fmt_s(p.get("wan200")), fmt_s(p.get("wan100"))])
    out = "### Gates\n\n" + t + "\n\n" + note
    if proj:
        out += ("\n\nProjected with `mpc.project_time` (online compute + rounds x latency + critical bytes / "
                "bandwidth):\n\n" + _md(["gate", "LAN 3 Gbps / 0.8 ms", "WAN 200 Mbps / 40 ms", "WAN 100 Mbps / 80 ms"],
                                        proj))
    return out


def layer_table(rep: dict[str, Any]) -> str:
    sec = rep["sections"].get("layer", {})
    cr = _crypten_rows(rep, "layer").get("encoder_layer_lora")
    c = next(iter(sec.get("cases", [])), None)
    if c is None and cr is None:
        return ""
    header = ["setting", "batch x seq", "fwd + bwd time", "forward / backward", "bytes (both ways)", "rounds",
              "max abs err (Y, dX)", "includes"]
    body = []
    if c is not None:
        ok = c.get("status") == "ok"
        tr = c.get("traffic", {}) if ok else {}
        body.append(["ours (fsskernels.nn)", f"{c['params'].get('batch')} x {c['params'].get('seq')}",
                     f"{fmt_spread(c.get('end_to_end'))} end-to-end, {fmt_spread(c.get('online'))} online" if ok
                     else f"skipped: {c.get('reason', '')}",
                     DASH, fmt_bytes(tr.get("bytes")) if ok else DASH, str(tr.get("rounds", DASH)) if ok else DASH,
                     f"{c.get('max_abs_err', float('nan')):.2g}" if ok else DASH, c.get("includes", DASH) if ok else DASH])
    if cr is not None:
        e = cr.get("max_abs_err", {})
        body.append(["CrypTen 0.4.1", f"{cr['batch']} x {cr['seq']}", fmt_spread(peer_spread(cr)),
                     f"{fmt_s(cr['fwd_s_median'])} / {fmt_s(cr['bwd_s_median'])}", fmt_bytes(cr["comm_bytes"]),
                     str(cr["comm_rounds"]), f"{e.get('Y', float('nan')):.2g}, {e.get('dX', float('nan')):.2g}",
                     cr.get("includes", DASH)])
    return _md(header, body)


def render_layer(rep: dict[str, Any]) -> str:
    t = layer_table(rep)
    return "### Encoder layer with LoRA, forward + backward\n\n" + t if t else ""


def render_finetune(rep: dict[str, Any]) -> str:
    sec = rep["sections"].get("finetune", {})
    rows = []
    for c in sec.get("cases", []):
        if c.get("status") != "ok":
            continue
        for typ, v in sorted(c.get("per_layer_type", {}).items()):
            rows.append([c["case"], typ, fmt_s(v.get("s")), fmt_bytes(v.get("bytes")), str(v.get("rounds", DASH))])
    return "### Fine-tuning step, per layer type\n\n" + _md(["case", "layer type", "time", "bytes", "rounds"], rows) \
        if rows else ""


def agg_table(rep: dict[str, Any]) -> str:
    sec = rep["sections"].get("agg", {})
    rows = []
    for c in sec.get("cases", []):
        if c.get("status") == "ok":
            rows.append(["ours", str(c["params"].get("clients")), fmt_s(c.get("client_s")), fmt_s(c.get("server_s")),
                         f"{c.get('bytes_per_value', float('nan')):.3g}", f"{c.get('max_abs_err', float('nan')):.2g}",
                         c.get("includes", DASH)])
    ts = sec.get("peers", {}).get("tenseal", {})
    for r in ts.get("rows", []) or []:
        rows.append([f"TenSEAL CKKS {r.get('version', '')}", str(r["clients"]), fmt_s(r["client_s_median"]),
                     fmt_s(r["server_s_median"]), f"{r['bytes_per_value']:.3g}", f"{r['max_abs_err']:.2g}",
                     r.get("includes", DASH)])
    if not rows:
        return ""
    return _md(["setting", "clients", "per client", "server", "bytes per value", "max abs err", "includes"], rows)


def render_agg(rep: dict[str, Any]) -> str:
    t = agg_table(rep)
    return "### Secure aggregation of LoRA updates\n\n" + t if t else ""


def skipped_list(rep: dict[str, Any]) -> list[str]:
    out = []
    for name, sec in rep["sections"].items():
        for c in sec.get("cases", []):
            if c.get("status") != "ok":
                out.append(f"{name}/{c['case']} ({c['status']}): {c.get('reason')}")
            for w in c.get("skipped_n", []):
                out.append(f"{name}/{c['case']} batch size {w}")
        for pname, p in (sec.get("peers") or {}).items():
            if p.get("status") not in ("ok",):
                out.append(f"{name} peer {pname} ({p.get('status')}): {p.get('reason')}")
    return out


def render_header(rep: dict[str, Any]) -> str:
    e = rep.get("environment", {})
    load = rep.get("load", {})
    v = e.get("versions", {})
    lines = [
        f"# fsskernels bench report ({rep.get('date', '?')})", "",
        f"- Command: `{rep.get('command', '?')}`" + (" (quick)" if rep.get("quick") else ""),
        f"- Machine: {e.get('cpu_model')}, {e.get('cpu_count')} cores, flags {' '.join(e.get('cpu_flags', []))}, "
        f"{(e.get('mem_total_bytes') or 0) / 2**30:.0f} GiB; {e.get('platform')}",
        f"- fsskernels {v.get('fsskernels')} (AES path {e.get('aes_path')}), commit {e.get('git_commit')}; "
        f"python {e.get('python')}, torch {v.get('torch')}, numpy {v.get('numpy')}",
        f"- Threads: {e.get('threads')}; one thread per party in every two-party figure",
        f"- Load average at start {load.get('loadavg_start')}, at end {load.get('loadavg_end')}; other processes used "
        f"{load.get('other_busy_cores_avg', '?')} cores on average during the run"
        + (" (the machine was shared and loaded: compare ratios within this run only)"
           if (load.get("other_busy_cores_avg") or 0) > 0.2 else ""),
    ]
    reused = sorted({f"{name} {pn}: {p['reused_from']}" for name, sec in rep.get("sections", {}).items()
                     for pn, p in (sec.get("peers") or {}).items() if p.get("reused_from")})
    if reused:
        lines.append("- Peer figures reused from an earlier report of this session (not re-measured in this run): "
                     + "; ".join(reused))
    return "\n".join(lines)


def render_report(rep: dict[str, Any]) -> str:
    parts = [render_header(rep)]
    from .cases_forward import render as render_forward

    for fn in (render_kernels, render_gates, render_layer, render_finetune, render_agg, render_forward):
        t = fn(rep)
        if t:
            parts.append(t)
    sk = skipped_list(rep)
    if sk:
        parts.append("### Skipped\n\n" + "\n".join(f"- {s}" for s in sk))
    plots = rep.get("plots", [])
    if plots:
        parts.append("### Plots\n\n" + "\n".join(f"![{p}]({p})" for p in plots))
    return "\n\n".join(parts) + "\n"


def readme_tables(rep: dict[str, Any]) -> str:
    """The README's benchmark tables, from one report: kernels at N = 1e5 beside sycret and the AES
    ceiling, gates beside CrypTen, the layer beside CrypTen, aggregation beside CKKS."""
    parts = []
    e = rep.get("environment", {})
    parts.append(f"Same-run figures, {e.get('cpu_model')} ({e.get('cpu_count')} cores, AES path "
                 f"{e.get('aes_path')}), {rep.get('date', '?')}, commit {str(e.get('git_commit'))[:12]}; "
                 f"regenerate with `fsskernels bench` then `fsskernels bench --readme-table <report.json>`.")
    rows = [r for r in kernel_rows(rep) if r["n"] == 100_000]
    if rows:
        ceil = ceiling_ecb(rep)
        syc = {(r["scheme"], r["n"]): r for r in sycret_rows(rep)}
        body = []
        for r in rows:
            t = r["threads"].get("1") or r["threads"].get(1) or {}
            ev, kg = t.get("eval_per_s"), t.get("keygen_keys_per_s")
            s = syc.get(("eq" if r["scheme"] == "dpf" else "le", r["n"])) if r["bits"] == 32 and r["out_bits"] > 1 else None
            body.append([f"{r['scheme'].upper()} {r['bits']} -> {r['out_bits']} bits", str(r.get("key_bytes")),
                         fmt_rate(kg), fmt_rate(ev), fmt_pct(ev * r["aes_blocks_per_eval"] / ceil if ev and ceil else None),
                         f"{fmt_x(_ratio(kg, s['keygen_keys_per_s']))} keygen, {fmt_x(_ratio(ev, s['eval_per_s']))} eval"
                         if s else DASH])
        parts.append(_md(["kernel (N = 1e5 keys, 1 core)", "key bytes", "keygen/s", "eval/s", "eval, % of AES ceiling",
                          "vs sycret 0.2.8 (same run)"], body))
    g = gate_table(rep, readme=True)
    if g:
        parts.append(g)
    lt = layer_table(rep)
    if lt:
        parts.append(lt)
    at = agg_table(rep)
    if at:
        parts.append(at)
    return "\n\n".join(parts) + "\n"


__all__ = ["SCHEMA", "fmt_bytes", "fmt_s", "fmt_spread", "load_report", "readme_tables", "render_report"]
