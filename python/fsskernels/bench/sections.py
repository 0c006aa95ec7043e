"""Runs one section of ``fsskernels bench``: our registered cases, then the peers measured in the
same run for that section (each in its own virtual environment, one thread per party):

  kernels   AES ceiling (aes_ceiling.c, compiled here) and sycret 0.2.8 (DPF eq / DIF le, 32 bit)
  gates     CrypTen 0.4.1: the same gates on the same shapes and input ranges (crypten_gates.py)
  layer     CrypTen 0.4.1: the MiniLM encoder layer + LoRA forward + backward (crypten_layer.py)
  finetune  (no peer)
  agg       TenSEAL CKKS aggregation (ckks_agg.py)

A peer that cannot run (no scripts, no network to build its venv, no compiler, a failing script)
is recorded as {"status": "skipped", "reason": ...}; a section never raises for a peer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from . import peerenv, peers, registry


@dataclass
class Options:
    quick: bool = False
    reps: int = 3
    peer_reps: int = 3
    no_peers: bool = False
    install_peers: bool = True
    peer_scripts: str | None = None
    log: Callable[[str], None] = print
    peer_timeout_s: float = 3600.0
    names: list[str] = field(default_factory=list)  # only these case names (all when empty)
    peers_only: bool = False  # measure the peers only (our cases are listed as skipped)


def _skipped(reason: str) -> dict[str, Any]:
    return {"status": "skipped", "reason": reason}


def _peer_python(name: str, o: Options) -> tuple[str | None, Any, str]:
    """(python, scripts dir, note); python None when the peer cannot run."""
    sdir, how = peerenv.scripts_dir(o.peer_scripts)
    if sdir is None:
        return None, None, how
    py, note = peerenv.ensure(name, install=o.install_peers, log=o.log)
    return py, sdir, note


def peers_kernels(cases: list[registry.Case], o: Options) -> dict[str, Any]:
    out: dict[str, Any] = {}
    sdir, how = peerenv.scripts_dir(o.peer_scripts)
    ceiling = peers.AesCeiling(sdir)
    try:
        if ceiling.available:
            o.log("[peers] AES ceiling (1 core) ...")
            out["aes_ceiling"] = {"status": "ok", **ceiling.measure(3 if not o.quick else 2, 1),
                                  "includes": "fixed-key AES-128 ECB on one core, best of 15 passes per run, "
                                              "median of runs; ecb = faster of VAES and AES-NI"}
        else:
            out["aes_ceiling"] = _skipped(ceiling.note if sdir else how)
    finally:
        ceiling.close()
    ns = sorted({n for c in cases if c.peer == "sycret" for n in c.params_for(o.quick)["n"] if n <= 1_000_000})
    if not ns:
        out["sycret"] = _skipped("no 32-bit kernel case selected")
        return out
    py, sdir, note = _peer_python("sycret", o)
    if py is None:
        out["sycret"] = _skipped(note)
        return out
    o.log(f"[peers] sycret 0.2.8, N={ns}, 1 thread ...")
    rows, err = peers.run_sycret(sdir, py, 1, ns, o.peer_reps, timeout=o.peer_timeout_s)
    out["sycret"] = {"status": "ok" if rows and not err else ("partial" if rows else "skipped"),
                     "reason": err or None, "note": note, "rows": rows, "threads": 1,
                     "includes": "keygen: both parties' keys, sycret chooses alpha; eval: one party; "
                                 "32-bit domain and output; 1e7 not run (time)"}
    return out


def _peer_result(rows, err, note) -> dict[str, Any]:
    """A peer's status record: ok, partial (some rows and an error) or skipped."""
    return {"status": "ok" if rows and not err else ("partial" if rows else "skipped"),
            "reason": err or None, "note": note, "rows": rows}


def peers_gates(cases: list[registry.Case], o: Options) -> dict[str, Any]:
    wanted = [c.peer.split(":", 1)[1] for c in cases if c.peer and c.peer.startswith("crypten:")]
    if not wanted:
        return {"crypten": _skipped("no gate case selected")}
    py, sdir, note = _peer_python("crypten", o)
    if py is None:
        return {"crypten": _skipped(note)}
    shapes: list[str] = []
    for c in cases:
        if c.peer and c.peer.startswith("crypten:"):
            shapes += ["--shape", f"{c.peer.split(':', 1)[1]}={'x'.join(map(str, c.params_for(o.quick)['shape']))}"]
    args = ["--reps", str(o.peer_reps), "--threads-per-party", "1", *shapes, "--only", *wanted]
    o.log(f"[peers] CrypTen 0.4.1 gates {wanted} ({o.peer_reps} reps) ...")
    rows, err = peerenv.run_script(py, sdir / "crypten_gates.py", args, o.peer_timeout_s)
    return {"crypten": _peer_result(rows, err, note)}


def peers_layer(cases: list[registry.Case], o: Options) -> dict[str, Any]:
    sel = [c for c in cases if c.peer == "crypten:encoder_layer_lora"]
    if not sel:
        return {"crypten": _skipped("no layer case selected")}
    py, sdir, note = _peer_python("crypten", o)
    if py is None:
        return {"crypten": _skipped(note)}
    p = sel[0].params_for(o.quick)
    reps, warm = (1, 0) if o.quick else (max(1, min(o.peer_reps, 2)), 1)
    args = ["--batch", str(p["batch"]), "--seq", str(p["seq"]), "--reps", str(reps), "--warmup", str(warm)]
    o.log(f"[peers] CrypTen 0.4.1 encoder layer batch {p['batch']} x seq {p['seq']} ({reps} reps) ...")
    rows, err = peerenv.run_script(py, sdir / "crypten_layer.py", args, o.peer_timeout_s)
    return {"crypten": _peer_result(rows, err, note)}


def peers_agg(cases: list[registry.Case], o: Options) -> dict[str, Any]:
    sel = [c for c in cases if c.peer == "tenseal:ckks_agg"]
    if not sel:
        return {"tenseal": _skipped("no aggregation case selected")}
    py, sdir, note = _peer_python("tenseal", o)
    if py is None:
        return {"tenseal": _skipped(note)}
    p = sel[0].params_for(o.quick)
    args = ["--clients", *map(str, p["clients"]), "--values", str(p["values"]), "--reps", str(o.peer_reps)]
    o.log(f"[peers] TenSEAL CKKS aggregation, clients {p['clients']} ...")
    rows, err = peerenv.run_script(py, sdir / "ckks_agg.py", args, o.peer_timeout_s)
    return {"tenseal": _peer_result(rows, err, note)}


PEER_RUNNERS: dict[str, Callable[[list[registry.Case], Options], dict[str, Any]]] = {
    "kernels": peers_kernels, "gates": peers_gates, "layer": peers_layer,
    "finetune": lambda cases, o: {}, "agg": peers_agg, "forward": lambda cases, o: {},
}


def run_section(section: str, o: Options) -> dict[str, Any]:
    """{"cases": [case records], "peers": {peer: record}}."""
    cases = [c for c in registry.cases(section) if not o.names or c.name in o.names]
    recs = []
    for c in cases:
        if o.peers_only:
            recs.append({"case": c.name, "section": section, "params": c.params_for(o.quick), "peer": c.peer,
                         "status": "skipped", "reason": "--peers-only"})
            continue
        o.log(f"[{section}] {c.name} ...")
        r = c.run(o.quick, o.reps)
        o.log(f"[{section}] {c.name}: {r['status']}" + (f" ({r['reason']})" if r.get("reason") else ""))
        recs.append(r)
    prs = _skipped_all(section, "--no-peers") if o.no_peers else PEER_RUNNERS[section](cases, o)
    return {"cases": recs, "peers": prs}


def _skipped_all(section: str, reason: str) -> dict[str, Any]:
    names = {"kernels": ["aes_ceiling", "sycret"], "gates": ["crypten"], "layer": ["crypten"], "finetune": [],
             "agg": ["tenseal"], "forward": []}[section]
    return {n: _skipped(reason) for n in names}


__all__ = ["Options", "PEER_RUNNERS", "run_section"]
