"""Generate docs/gates.md from measurements: every gate's domain, behaviour outside it, max
error, key (dealer material) bytes and online bytes per element, rounds, and throughput.

    python -m fsskernels.mpc.gates.report [--n 65536] [--out docs/gates.md] [--json gates.json]

Each gate runs on two in-process parties (threads, one process; ``torch.set_num_threads(1)``
per party) on ``n`` elements. Error: max |secure - float64| over the run's inputs (random
plus the domain edges); for the spline gates also the exhaustive bound of the same integer
pipeline over every fixed-point input of the domain (``model_bound``, >= 1M points).
Times: online = dealer material fetched before the timer (``Session.prefetch`` with the plan
of a first run), end to end = the dealer's work inside the timer. Key bytes = the dealer
material one party receives, per element (FSS keys, masks, triples; seed-compressed where
the protocol allows). Online bytes = both directions together, per element.
"""
from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from .. import functional as MF
from ..runner import run_local
from ..sharing import share
from .smooth import SPLINES
from .spline import fit_error

GATES = {
    # name: (call, reference, input generator, domain text, outside text)
    "relu": (lambda X: MF.relu(X), torch.relu, lambda g, n: torch.randn(n, generator=g, dtype=torch.float64) * 4,  # csprng-ok
             "|x| < 2^15", "wraps mod 2^32 (bits=32)"),
    "drelu / lt": (lambda X: MF.drelu(X), lambda x: (x >= 0).double(),
                   lambda g, n: torch.randn(n, generator=g, dtype=torch.float64) * 4, "|x| < 2^15", "wraps"),  # csprng-ok
    "gelu": (lambda X: MF.gelu(X), torch.nn.functional.gelu,
             lambda g, n: torch.randn(n, generator=g, dtype=torch.float64) * 3, "spline on [-4, 4)",  # csprng-ok
             "tails: 0 below, x above"),
    "tanh": (lambda X: MF.tanh(X), torch.tanh, lambda g, n: torch.randn(n, generator=g, dtype=torch.float64) * 4,  # csprng-ok
             "spline on [-8, 8)", "saturates to -1 / 1"),
    "sigmoid": (lambda X: MF.sigmoid(X), torch.sigmoid,
                lambda g, n: torch.randn(n, generator=g, dtype=torch.float64) * 6, "spline on [-16, 16)",  # csprng-ok
                "saturates to 0 / 1"),
    "exp": (lambda X: MF.exp(X), torch.exp, lambda g, n: -torch.rand(n, generator=g, dtype=torch.float64) * 16,  # csprng-ok
            "x <= 0 (spline on [-15.94, 0.06))", "0 below -16"),
    "reciprocal": (lambda X: MF.reciprocal(X), torch.reciprocal,
                   lambda g, n: 0.5 + 10 * torch.rand(n, generator=g, dtype=torch.float64),  # csprng-ok
                   "[2^-5, 2^10); rel. err <= 1e-3 for x <= 32", "clamped into the domain"),
    "rsqrt": (lambda X: MF.rsqrt(X), torch.rsqrt,
              lambda g, n: 2.0 ** (torch.rand(n, generator=g, dtype=torch.float64) * 18 - 9),  # csprng-ok
              "[2^-10, 2^10)", "clamped into the domain"),
    "log": (lambda X: MF.log(X), torch.log, lambda g, n: 2.0 ** (torch.rand(n, generator=g, dtype=torch.float64) * 20 - 8),  # csprng-ok
            "[2^-10, 2^14)", "clamped into the domain"),
    "sin": (lambda X: MF.sin(X), torch.sin, lambda g, n: torch.randn(n, generator=g, dtype=torch.float64) * 50,  # csprng-ok
            "|x| < 2^14 (exact period reduction)", "wraps"),
    "softmax (rows of 128)": (lambda X: MF.softmax(X.reshape(-1, 128), -1),
                              lambda x: torch.softmax(x.reshape(-1, 128), -1),
                              lambda g, n: torch.randn(n, generator=g, dtype=torch.float64) * 3,  # csprng-ok
                              "|x| < 2^15", "-"),
    "layer_norm (rows of 384)": (lambda X: MF.layer_norm(X.reshape(-1, 384), (384,), eps=1e-12),
                                 lambda x: torch.nn.functional.layer_norm(x.reshape(-1, 384), (384,), eps=1e-12),
                                 lambda g, n: torch.randn(n, generator=g, dtype=torch.float64) * 2 + 0.5,  # csprng-ok
                                 "variance in [2^-14, 2^10)", "variance clamped"),
}


def _measure(name: str, n: int) -> dict:
    call, ref, gen, domain, outside = GATES[name]
    g = torch.Generator().manual_seed(0)  # csprng-ok
    x = torch.round(gen(g, n) * 2 ** 16) / 2 ** 16

    def prog(s, plan=None, include_dealer=True):
        torch.set_num_threads(1)
        X = share(s, x if s.party == 0 else None, owner=0)
        s.material_log(clear=True)
        if plan is not None:
            s.prefetch(plan)
        s.reset_stats()
        before = s.material.bytes_in
        t0 = time.perf_counter()
        y = call(X)
        dt = time.perf_counter() - t0
        st = s.stats()
        key_bytes = s.material.bytes_in - before
        return y.reveal(), dt, st["total"], key_bytes, s.material_log()

    (y, t_e2e, tot, key_bytes, plan), _ = run_local(prog)
    (_, t_online, _, _, _), _ = run_local(prog, plan)
    err = (y - ref(x)).abs().max().item()
    rec = {"gate": name, "n": n, "domain": domain, "outside": outside, "max_error": err,
           "key_bytes_per_element": key_bytes / n, "online_bytes_per_element": tot["bytes"] / n,
           "rounds": tot["rounds"], "time_online_s": t_online, "time_end_to_end_s": t_e2e,
           "throughput_online_per_s": n / t_online}
    base = name.split(" ")[0]
    if base in SPLINES:
        rec["spline_fit_error"] = fit_error(SPLINES[base])
    return rec


def _table(rows: list[dict]) -> str:
    head = ("| gate | domain | outside | max error | key B/el | online B/el | rounds | online el/s | "
            "online / end-to-end s |\n|---|---|---|---|---|---|---|---|---|\n")
    body = "".join(
        f"| {r['gate']} | {r['domain']} | {r['outside']} | {r['max_error']:.2g} | {r['key_bytes_per_element']:.0f} | "
        f"{r['online_bytes_per_element']:.1f} | {r['rounds']} | {r['throughput_online_per_s']:,.0f} | "
        f"{r['time_online_s']:.3f} / {r['time_end_to_end_s']:.3f} |\n" for r in rows)
    return head + body


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fsskernels.mpc.gates.report", description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1 << 16, help="elements per gate (default 65536)")
    ap.add_argument("--out", default=None, help="write the markdown page here (default: print)")
    ap.add_argument("--json", default=None, help="also write the raw measurements as JSON")
    ap.add_argument("--only", nargs="*", default=None, help="gate names to run (default: all)")
    a = ap.parse_args(argv)
    if a.n < 384 or a.n % 384:
        a.n = max(384, a.n // 384 * 384)  # whole rows for softmax (128) and layer_norm (384)
    rows = [_measure(name, a.n) for name in GATES if not a.only or name.split(" ")[0] in a.only]
    md = (f"# FSS gates: domains, errors, costs\n\nGenerated by `python -m fsskernels.mpc.gates.report --n {a.n}` "
          f"on {platform.machine()} ({torch.get_num_threads()} threads available, 1 per party), "
          f"{time.strftime('%Y-%m-%d')}. Two parties as threads of one process; bytes are on the wire "
          "(both directions), key bytes are the dealer material one party receives. Default "
          "FixedPointConfig (trunc_carry=\"bit\": each exact truncation takes two rounds and a one-bit DCF; "
          "the \"word\" carry saves a round per truncation for a 64-bit-output DCF).\n\n" + _table(rows) +
          "\nSpline gates (value of the least-squares fit alone, float64): " +
          ", ".join(f"{r['gate']} {r['spline_fit_error']:.1e}" for r in rows if "spline_fit_error" in r) +
          ". The exhaustive bounds over every fixed-point input are checked by tests/gates.\n")
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(md)
    else:
        print(md)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"rows": rows, "machine": platform.platform()}, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

