"""Formatting of ``python -m fsskernels.bench kernels`` results as one Markdown table."""
from __future__ import annotations

from typing import Any

DASH = "-"


def fmt_rate(v: float | None) -> str:
    """3 significant digits with k / M / G."""
    if v is None:
        return DASH
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= scale:
            x = v / scale
            return f"{x:.3g} {unit}" if x < 100 else f"{x:.0f} {unit}"
    return f"{v:.3g}"


def fmt_pct(v: float | None) -> str:
    return DASH if v is None else f"{100 * v:.0f}%"


def fmt_x(v: float | None) -> str:
    if v is None:
        return DASH
    return f"{v:.2f}x" if v < 10 else f"{v:.0f}x"


def _pair(a: str, b: str) -> str:
    return DASH if a == DASH and b == DASH else f"{a} / {b}"


def _md(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def render(result: dict[str, Any]) -> str:
    cfg = result["config"]
    t1, tall = min(cfg["threads"]), max(cfg["threads"])
    t1l, tl = f"{t1}c", f"{tall}c"
    header = ["kernel", "bits->out", "N", "key B", f"keygen/s {t1l}", f"keygen/s {tl}", f"eval/s {t1l}",
              f"eval/s {tl}", f"{tl}/{t1l} gen / eval", "AES blk/eval", f"% ceiling {t1l} gen / eval",
              f"x sycret {t1l} gen / eval", "published, other machine: gen / eval 1c"]
    rows: list[list[str]] = []
    ceil = result.get("ceiling", {})
    one, allc = ceil.get("one_core", {}), ceil.get("all_cores", {})
    if one.get("available"):
        b1 = one["blocks_per_s"]
        ba = allc.get("blocks_per_s", {}) if allc.get("available") else {}
        rows.append(["AES ceiling: fixed-key ECB (aes_ceiling.c)", DASH, DASH, DASH, DASH, DASH,
                     fmt_rate(b1.get("ecb")) + " blk", fmt_rate(ba.get("ecb")) + " blk" if ba else DASH,
                     fmt_x(ba["ecb"] / b1["ecb"]) if ba.get("ecb") and b1.get("ecb") else DASH,
                     "1", "100%", DASH, DASH])
        rows.append(["AES ceiling: AES-NI xmm 8-way", DASH, DASH, DASH, DASH, DASH,
                     fmt_rate(b1.get("aesni")) + " blk", fmt_rate(ba.get("aesni")) + " blk" if ba.get("aesni") else DASH,
                     DASH, "1", fmt_pct(b1["aesni"] / b1["ecb"]) if b1.get("aesni") else DASH, DASH, DASH])
    prg = result.get("prg", [])
    if prg:
        def best(t: int) -> dict[str, Any] | None:
            rs = [r for r in prg if r["threads"] == t]
            return max(rs, key=lambda r: r["blocks_per_s"]) if rs else None

        p1, pa = best(t1), best(tall)
        rows.append([f"AES hash H(x,j) prg_hash, {p1['blocks']}-block buffer" if p1 else "prg_hash", DASH, DASH, DASH,
                     DASH, DASH, fmt_rate(p1 and p1["blocks_per_s"]) + " blk",
                     (fmt_rate(pa["blocks_per_s"]) + " blk") if pa and tall != t1 else DASH,
                     fmt_x(pa["blocks_per_s"] / p1["blocks_per_s"]) if pa and p1 and tall != t1 else DASH,
                     "1", DASH + " / " + fmt_pct(p1 and p1.get("frac_ceiling")), DASH, DASH])
    for r in result["fss"]:
        th, d = r["threads"], r["derived"]
        a, b = th.get(t1, {}), th.get(tall, {}) if tall != t1 else {}
        name = "DPF" if r["scheme"] == "dpf" else ("DCF (1-bit, DPF tree)" if r["out_bits"] == 1 else "DCF (BCG)")
        pub = d.get("published")
        rows.append([
            name, f"{r['bits']}->{r['out_bits']}", fmt_rate(r["n"]), str(r.get("key_bytes", DASH)),
            fmt_rate(a.get("keygen_keys_per_s")), fmt_rate(b.get("keygen_keys_per_s")),
            fmt_rate(a.get("eval_per_s")), fmt_rate(b.get("eval_per_s")),
            _pair(fmt_x(d.get("keygen_scaling")), fmt_x(d.get("eval_scaling"))),
            str(r["aes_blocks_per_eval"]),
            _pair(fmt_pct(d.get(f"keygen_frac_ceiling_{t1}t")), fmt_pct(d.get(f"eval_frac_ceiling_{t1}t"))),
            _pair(fmt_x(d.get(f"vs_sycret_keygen_{t1}t")), fmt_x(d.get(f"vs_sycret_eval_{t1}t"))),
            f"{pub['label']}: {fmt_rate(pub['keygen_keys_per_s'])} / {fmt_rate(pub['eval_per_s_1c'])}, "
            f"{pub['key_bytes']} B" if pub else DASH,
        ])
    syc = result.get("sycret", {})
    srows = syc.get("rows", [])
    for scheme, label in (("eq", "sycret 0.2.8 DPF (eq)"), ("le", "sycret 0.2.8 DIF (le)")):
        for n in sorted({s["n"] for s in srows if s["scheme"] == scheme}):
            by_t = {s["threads"]: s for s in srows if s["scheme"] == scheme and s["n"] == n}
            a, b = by_t.get(t1), by_t.get(tall) if tall != t1 else None
            first = a or b
            rows.append([
                label, "32->32", fmt_rate(n), str(first["key_bytes_per_party"]) if first else DASH,
                fmt_rate(a and a["keygen_keys_per_s"]), fmt_rate(b and b["keygen_keys_per_s"]),
                fmt_rate(a and a["eval_per_s"]), fmt_rate(b and b["eval_per_s"]),
                _pair(fmt_x(b["keygen_keys_per_s"] / a["keygen_keys_per_s"]) if a and b else DASH,
                      fmt_x(b["eval_per_s"] / a["eval_per_s"]) if a and b else DASH),
                DASH, DASH, "1.00x / 1.00x", DASH,
            ])
    return _md(header, rows)


def render_header(result: dict[str, Any]) -> str:
    env, cfg, load = result["environment"], result["config"], result.get("load", {})
    ceil = result.get("ceiling", {})
    one = ceil.get("one_core", {})
    lines = [
        f"machine: {env['cpu_model']}, {env['cpu_count']} CPUs; fsskernels {env['fsskernels']} "
        f"(AES path {env['build_info'].get('cpu_aes_path')}); python {env['python']}, numpy {env['numpy']}",
        f"run: {result['date']}; N {cfg['n']}; threads {cfg['threads']}; reps {cfg['reps']} (medians; "
        f"<= {cfg['budget_s']:g} s per case, >= 3 reps)",
    ]
    if one.get("available"):
        b = one["blocks_per_s"]
        lines.append(f"AES ceiling, 1 core (median of {one['runs']} runs spread over this run): VAES ECB "
                     f"{fmt_rate(b.get('vaes'))} blocks/s, AES-NI {fmt_rate(b.get('aesni'))}, one dependent chain "
                     f"{fmt_rate(b.get('chain'))}, re-keyed {fmt_rate(b.get('rekeyed'))} nodes/s")
    else:
        lines.append(f"AES ceiling: unavailable ({one.get('note', ceil.get('note', 'not measured'))})")
    if load:
        lines.append(f"load: loadavg {load.get('loadavg_start')} -> {load.get('loadavg_end')}; idle before start "
                     f"{load.get('idle_before_pct', DASH)}%; other processes used "
                     f"{load.get('other_busy_cores_avg', DASH)} cores on average during the run "
                     f"({load.get('wall_s', DASH)} s)")
    syc = result.get("sycret", {})
    if syc.get("note"):
        lines.append(f"sycret: {syc['note']}")
    return "\n".join(lines)


def render_notes(result: dict[str, Any]) -> str:
    cfg = result["config"]
    t1, tall = min(cfg["threads"]), max(cfg["threads"])
    return "\n".join([
        f"{t1}c = {t1} thread(s)" + (f", {tall}c = {tall} threads" if tall != t1 else "") +
        " (fsskernels.set_num_threads; sycret --threads). keygen/s counts "
        "key pairs (both parties' keys); eval/s is one party's evaluation. key B = bytes per key of one party "
        "(the batch adds a 32-byte header).",
        "AES blk/eval: fixed-key AES blocks per evaluation (DPF L+1, BCG DCF 2n+1, 1-bit DCF 2L+1); "
        "% ceiling = throughput x AES blocks per op / the same-run 1-core ECB ceiling (keygen: 4L+2 DPF and "
        "1-bit DCF, 6n+2 BCG DCF blocks per key pair).",
        "x sycret: same run, same N and thread count; only for bits = 32 (sycret is 32-bit only: eq = DPF, "
        "le = DIF x <= alpha, outputs in Z_2^32).",
        f"published: {PUBLISHED_SOURCE_REF}; not comparable with same-run ratios.",
    ])


def render_targets(targets: list[dict[str, Any]]) -> str:
    lines = ["targets (1 core unless stated):"]
    for t in targets:
        mark = {True: "MET   ", False: "MISSED", None: "n/a   "}[t["met"]]
        lines.append(f"  [{mark}] {t['target']}: {t['shown']} (goal {t['goal']})")
    return "\n".join(lines)


PUBLISHED_SOURCE_REF = "EzPC LLAMA figures from ANCHORS.md, 2-core AMD EPYC (Zen 4 class)"
