"""``fsskernels bench``: one command that measures everything on this machine and puts our figures
beside real peers measured in the same run (docs/benchmarks.md).

    fsskernels bench [--quick] [--only kernels gates layer finetune agg] [--out DIR] [--reps N]
                     [--no-peers] [--no-peer-install] [--peer-scripts DIR] [--reuse-peers REPORT]
    fsskernels bench --readme-table REPORT.json      # README's benchmark tables, markdown on stdout
    fsskernels bench --render REPORT.json            # rewrite report.md + plots from the JSON
    fsskernels bench kernels [...]                   # the detailed kernel table (1 and all cores)

Writes DIR/report.json (every raw measurement, machine, CPU flags, AES path, threads, git commit,
package versions, load), DIR/report.md and DIR/*.png. Cases come from fsskernels.bench.registry;
peers run from bench/peers in their own virtual environments (fsskernels.bench.peerenv).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Any


def _configs(vals: list[str]) -> list[tuple[int, int]]:
    out = []
    for v in vals:
        b, o = v.split(":")
        out.append((int(b), int(o)))
    return out


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _merge_ceiling(parts: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [p for p in parts if p.get("available")]
    if not ok:
        return parts[0] if parts else {"available": False, "note": "not measured"}
    samples = [s for p in ok for s in p["samples"]]
    keys = set.intersection(*(set(s) for s in samples))
    return {"available": True, "procs": ok[0]["procs"], "runs": len(samples), "note": ok[0]["note"],
            "blocks_per_s": {k: statistics.median(s[k] for s in samples) for k in sorted(keys)},
            "samples": samples}


def cmd_kernels(a: argparse.Namespace) -> int:
    from . import kernels, peers, table

    threads = sorted(set(a.threads or [1, os.cpu_count() or 1]))
    ns = a.n or ([100_000] if a.quick else [100_000, 1_000_000])
    reps = a.reps if a.reps is not None else (3 if a.quick else 5)
    budget = a.budget if a.budget is not None else (5.0 if a.quick else 30.0)
    configs = _configs(a.configs) if a.configs else list(kernels.CONFIGS)
    peer_reps = a.peer_reps if a.peer_reps is not None else min(reps, 3)
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "command": " ".join(["python -m fsskernels.bench", *sys.argv[1:]]),
        "config": {"threads": threads, "n": ns, "reps": reps, "budget_s": budget,
                   "configs": [list(c) for c in configs], "peer_reps": peer_reps},
        "environment": kernels.environment(),
    }
    peers_dir, how = peers.find_peers_dir(a.peers_dir)
    result["peers_dir"] = {"path": str(peers_dir) if peers_dir else None, "found_by": how}
    _log(f"[peers] {how}: {peers_dir}")
    ceiling = peers.AesCeiling(peers_dir)
    if not ceiling.available:
        _log(f"[ceiling] {ceiling.note}")

    if a.wait_quiet > 0:
        kernels.wait_quiet(a.wait_quiet, log=_log)
    idle = kernels.idle_percent(2.0)
    mon = kernels.LoadMonitor().start()
    tall = max(threads)
    c_start = (ceiling.measure(2, 1), ceiling.measure(2, tall) if tall > 1 else None)
    if ceiling.available:
        _log(f"[ceiling] 1 core: {c_start[0]['blocks_per_s']}")
    try:
        result["prg"] = kernels.measure_prg(threads, reps, log=_log)
        during: list[tuple[dict[str, Any], dict[str, Any] | None]] = []

        def sample_ceiling() -> None:
            if ceiling.available:
                during.append((ceiling.measure(1, 1), ceiling.measure(1, tall) if tall > 1 else None))

        result["fss"] = kernels.measure_fss(configs, ns, threads, reps, budget, log=_log, between=sample_ceiling)
        if not a.no_memcheck:
            result["memory"] = kernels.measure_memory(configs, a.mem_n, tall, log=_log)
        if a.no_peers:
            result["sycret"] = {"rows": [], "note": "skipped (--no-peers)"}
        elif peers_dir is None:
            result["sycret"] = {"rows": [], "note": f"skipped: {how}"}
        else:
            py, note = peers.ensure_peers_venv(a.peers_venv, install=not a.no_peer_install, log=_log)
            rows: list[dict[str, Any]] = []
            notes = [note]
            if py:
                for t in threads:
                    _log(f"[sycret] threads={t} N={ns} reps={peer_reps} ...")
                    got, err = peers.run_sycret(peers_dir, py, t, ns, peer_reps)
                    rows += got
                    for g in got:
                        _log(f"[sycret] {g['scheme']} N={g['n']} threads={t}: keygen {g['keygen_keys_per_s']} keys/s, "
                             f"eval {g['eval_per_s']} evals/s, {g['key_bytes_per_party']} B, correct {g['correct']}")
                    if err:
                        notes.append(err)
            result["sycret"] = {"rows": rows, "note": "; ".join(n for n in notes if n), "reps": peer_reps}
    finally:
        c_end = (ceiling.measure(2, 1), ceiling.measure(2, tall) if tall > 1 else None)
        ceiling.close()
    during = locals().get("during", [])
    ones = [c_start[0], *(d[0] for d in during), c_end[0]]
    alls = [c for c in (c_start[1], *(d[1] for d in during), c_end[1]) if c]
    result["ceiling"] = {
        "one_core": _merge_ceiling(ones),
        "all_cores": _merge_ceiling(alls) if tall > 1 else {"available": False},
        "how": "median over runs of aes_ceiling (each best-of-15 inside): 2 at the start, 1 before each "
               "kernel block, 2 at the end; all cores = that many concurrent processes, summed",
    }
    load = mon.stop()
    load["idle_before_pct"] = None if idle is None else round(idle)
    result["load"] = load
    kernels.derive(result)
    result["targets"] = kernels.evaluate_targets(result)

    text = "\n\n".join([table.render_header(result), table.render(result), table.render_notes(result),
                        table.render_targets(result["targets"])])
    result["table"] = text
    print(text)
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1, default=str)
        _log(f"[json] wrote {a.json}")
    return 0


def cmd_memcheck(a: argparse.Namespace) -> int:
    from . import kernels

    print(json.dumps(kernels.memcheck_child(_configs(a.configs), a.n, a.threads)))
    return 0


def cmd_all(argv: list[str]) -> int:
    from . import envinfo, kernels, plots, registry, report, sections

    ap = argparse.ArgumentParser(prog="fsskernels bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes and few repetitions (< 3 minutes on 2 cores "
                                                         "once the peer venvs exist)")
    ap.add_argument("--only", nargs="+", metavar="SECTION", help=f"sections to run: {' '.join(registry.SECTIONS)}")
    ap.add_argument("--cases", nargs="+", default=[], help="only these case names (within the sections)")
    ap.add_argument("--out", default="fsskernels-bench", help="output directory (default ./fsskernels-bench)")
    ap.add_argument("--reps", type=int, help="repetitions of our cases (default 3, quick 1)")
    ap.add_argument("--peer-reps", type=int, help="repetitions of the peers (default 3, quick 1)")
    ap.add_argument("--no-peers", action="store_true", help="measure only our cases")
    ap.add_argument("--peers-only", action="store_true", help="measure only the peers")
    ap.add_argument("--no-peer-install", action="store_true", help="never build a peer venv (use cached ones)")
    ap.add_argument("--peer-scripts", help="directory of the peer scripts (default: bench/peers of the checkout)")
    ap.add_argument("--reuse-peers", metavar="REPORT", help="take the peer measurements of these sections from an "
                                                           "earlier report instead of measuring them again")
    ap.add_argument("--readme-table", metavar="REPORT", help="print README's benchmark tables from a report; "
                                                            "measure nothing")
    ap.add_argument("--render", metavar="REPORT", help="rewrite report.md and the plots beside an existing "
                                                      "report.json; measure nothing")
    a = ap.parse_args(argv)
    if a.render:
        try:
            rep = report.load_report(a.render)
        except ValueError as exc:
            _log(str(exc))
            return 2
        out = os.path.dirname(os.path.abspath(a.render))
        rep["plots"], _ = plots.write_plots(rep, out)
        with open(os.path.join(out, "report.md"), "w") as f:
            f.write(report.render_report(rep))
        _log(f"[bench] rewrote {out}/report.md and {len(rep['plots'])} plot(s)")
        return 0
    if a.readme_table:
        try:
            print(report.readme_tables(report.load_report(a.readme_table)), end="")
        except ValueError as exc:
            _log(str(exc))
            return 2
        return 0
    only = a.only or list(registry.SECTIONS)
    bad = [x for x in only if x not in registry.SECTIONS]
    if bad:
        ap.error(f"--only: unknown section(s) {bad}; expected some of {list(registry.SECTIONS)}")
    for name in ("reps", "peer_reps"):
        v = getattr(a, name)
        if v is not None and v < 1:
            ap.error(f"--{name.replace('_', '-')}: must be >= 1")
    reused = report.load_report(a.reuse_peers) if a.reuse_peers else None
    reps = a.reps or (1 if a.quick else 3)
    opts = sections.Options(quick=a.quick, reps=reps, peer_reps=a.peer_reps or (1 if a.quick else 3),
                            no_peers=a.no_peers or reused is not None, install_peers=not a.no_peer_install,
                            peer_scripts=a.peer_scripts, log=_log, names=a.cases, peers_only=a.peers_only)
    if a.peers_only and (a.no_peers or reused is not None):
        ap.error("--peers-only: cannot be combined with --no-peers or --reuse-peers")
    rep: dict[str, Any] = {"schema": report.SCHEMA, "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                           "command": " ".join(["fsskernels bench", *argv]), "quick": a.quick, "only": only,
                           "reps": reps, "peer_reps": opts.peer_reps, "environment": envinfo.environment(),
                           "sections": {}}
    mon = kernels.LoadMonitor().start()
    os.makedirs(a.out, exist_ok=True)
    for sec in only:
        t0 = time.perf_counter()
        res = sections.run_section(sec, opts)
        if reused is not None:
            res["peers"] = reused["sections"].get(sec, {}).get("peers", {})
            for p in res["peers"].values():
                p["reused_from"] = f"{a.reuse_peers} ({reused.get('date')})"
        res["wall_s"] = round(time.perf_counter() - t0, 1)
        rep["sections"][sec] = res
        with open(os.path.join(a.out, "report.json"), "w") as f:  # partial results survive an interruption
            json.dump(rep, f, indent=1, default=str)
    rep["load"] = mon.stop()
    rep["plots"], note = plots.write_plots(rep, a.out)
    if note:
        rep["plots_note"] = note
    with open(os.path.join(a.out, "report.json"), "w") as f:
        json.dump(rep, f, indent=1, default=str)
    md = report.render_report(rep)
    with open(os.path.join(a.out, "report.md"), "w") as f:
        f.write(md)
    print(md)
    _log(f"[bench] wrote {a.out}/report.json, report.md, {len(rep['plots'])} plot(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("kernels", "_memcheck", "-h", "--help"):
        return cmd_all(argv)
    if argv[0] in ("-h", "--help"):
        return cmd_all(argv)
    ap = argparse.ArgumentParser(prog="python -m fsskernels.bench", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("kernels", help="DPF/DCF keygen and eval throughput, AES ceiling, sycret")
    k.add_argument("--threads", type=int, nargs="+", help="thread counts (default: 1 and all cores)")
    k.add_argument("--n", type=int, nargs="+", help="batch sizes (default 100000 1000000)")
    k.add_argument("--reps", type=int, help="repetitions per case, median reported (default 5)")
    k.add_argument("--budget", type=float, help="seconds per case after which reps stop (>= 3 reps; default 30)")
    k.add_argument("--quick", action="store_true", help="N=1e5, 3 reps, 5 s per case")
    k.add_argument("--configs", nargs="+", help="bits:out_bits pairs (default 32:64 64:64 64:1 32:1)")
    k.add_argument("--json", help="write all measurements to this JSON file")
    k.add_argument("--no-peers", action="store_true", help="skip sycret (the AES ceiling still runs)")
    k.add_argument("--peers-dir", help="directory of the peer scripts (sycret_fss.py, aes_ceiling.c; default "
                                       "$FSS_PEER_SCRIPTS, else bench/peers of the checkout)")
    k.add_argument("--peers-venv", default=os.environ.get("FSS_PEERS_VENV"),
                   help="virtual environment with sycret (default: the cached one, built with pip on first use)")
    k.add_argument("--no-peer-install", action="store_true", help="never create the sycret venv")
    k.add_argument("--peer-reps", type=int, help="sycret repetitions (default min(reps, 3))")
    k.add_argument("--no-memcheck", action="store_true", help="skip the heap-allocation / peak-memory check")
    k.add_argument("--mem-n", type=int, nargs="+", default=[10_000, 100_000],
                   help="batch sizes of the allocation / memory check (default 10000 100000)")
    k.add_argument("--wait-quiet", type=float, default=0.0,
                   help="wait up to this many seconds for the machine to be >= 90%% idle first")
    k.set_defaults(func=cmd_kernels)
    m = sub.add_parser("_memcheck", help=argparse.SUPPRESS)
    m.add_argument("--threads", type=int, required=True)
    m.add_argument("--n", type=int, nargs="+", required=True)
    m.add_argument("--configs", nargs="+", required=True)
    m.set_defaults(func=cmd_memcheck)
    a = ap.parse_args(argv)
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
