#!/usr/bin/env python3
"""Secure aggregation of LoRA updates, three ways, on the SAME client updates (one run):

  (a) ours: shares over Z_2^64 to two aggregators, one share as a sealed 16-byte seed
      (fsskernels.federated), dense and pruned (p = 0.5, public pattern);
  (b) CKKS with TenSEAL at FedShield-LLM's parameters (N 8192, moduli [60,40,40,60], scale
      2^40), run by bench_agg_ckks.py in a throwaway venv given by --ckks-python;
  (c) Flower's built-in SecAgg+ in Flower's simulation runtime (bench_agg_secaggplus.py).

Updates: MiniLM adapters, LoRA r = 8 on query/value = 73,728 values per client, drawn
N(0, 0.01) as float32 (--sigma) with integer weights (examples) uniform in [20, 200), seed 12345.
Reported per client count: client upload bytes, client time (median over clients), server
time (both aggregators for (a); server compute for (c)), and the max abs error of the revealed
weighted average vs float64 weighted FedAvg.

    python bench/bench_agg.py --clients 3 10 50 --ckks-python /tmp/ckksvenv/bin/python \
        --secaggplus --json bench/results/agg.json
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

from fsskernels.federated.measure import ours  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
VALUES = 6 * 2 * 2 * 8 * 384  # 6 layers x {query, value} x {A, B} x r x hidden = 73,728


def main(argv=None):
    import numpy as np

    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, nargs="+", default=[3, 10, 50])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--sigma", type=float, default=0.01)
    ap.add_argument("--ckks-python", default=None, help="python of a venv with tenseal==0.3.18 (skip CKKS if absent)")
    ap.add_argument("--secaggplus", action="store_true", help="also run Flower's SecAgg+ in simulation")
    ap.add_argument("--error-sweep", action="store_true", help="also: error of ours at frac_bits 16/24/32/40")
    ap.add_argument("--topk-hidden", action="store_true", help="also: hidden-pattern top-k on shares (2 x 4096 values)")
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    rng = np.random.default_rng(12345)  # csprng-ok: public benchmark data
    nmax = max(a.clients)
    upd = rng.normal(0.0, a.sigma, size=(nmax, VALUES)).astype(np.float32)
    wts = rng.integers(20, 200, size=nmax)
    tmp = tempfile.mkdtemp(prefix="bench_agg_")
    npz = os.path.join(tmp, "updates.npz")
    np.savez(npz, updates=upd, weights=wts)
    meta = {"kind": "meta", "values": VALUES, "sigma": a.sigma, "clients": a.clients, "python": sys.version.split()[0],
            "machine": platform.machine(), "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d")}
    rows = [meta]
    for n in a.clients:
        x, w = upd[:n], wts[:n]
        rows.append({"method": "ours_dense", "n": n, **ours(x, w, a.reps)})
        rows.append({"method": "ours_pruned_p0.5", "n": n, **ours(x, w, a.reps, prune=0.5)})
        print(json.dumps(rows[-2]), json.dumps(rows[-1]), sep="\n", flush=True)
    if a.error_sweep:  # accuracy of ours vs the fixed-point precision (bytes and time do not change)
        from fsskernels.federated.aggregator import aggregate_round
        from fsskernels.federated.shares import share_update

        for f in (16, 24, 32, 40):
            for n in a.clients:
                x, w = upd[:n].astype(np.float64), wts[:n]
                s, W = aggregate_round({i: share_update(x[i], int(w[i]), f) for i in range(n)}, frac_bits=f)
                err = float(np.max(np.abs(s / W - (w[:, None] * x).sum(0) / w.sum())))
                rows.append({"method": "ours_error_sweep", "frac_bits": f, "n": n, "max_abs_err": err})
                print(json.dumps(rows[-1]), flush=True)
    if a.topk_hidden:  # top-k with a hidden pattern, on shares (small: it costs ~iters comparisons per value)
        from fsskernels.federated.shares import expand_seed, share_update
        from fsskernels.federated.topk_shares import aggregate_topk

        n_t, d_t = 2, 4096
        sh = [share_update(upd[i, :d_t].astype(np.float64), int(wts[i])) for i in range(n_t)]
        s0 = np.stack([expand_seed(h.seed, d_t + 1) for h in sh])
        t0 = time.perf_counter()
        wsum, W, st = aggregate_topk(s0, np.stack([h.masked for h in sh]), 0.5, iters=24)
        dt = time.perf_counter() - t0
        tot = st["total"]
        rows.append({"method": "ours_topk_hidden_p0.5", "n": n_t, "values": d_t, "iters": 24, "wall_s": dt,
                     "online_bytes_both_ways": tot.get("bytes"), "rounds": tot.get("rounds"),
                     "bytes_per_value": tot.get("bytes", 0) / (n_t * d_t)})
        print(json.dumps(rows[-1]), flush=True)
    if a.ckks_python:
        p = subprocess.run([a.ckks_python, os.path.join(HERE, "bench_agg_ckks.py"), "--npz", npz, "--clients",
                            *map(str, a.clients)], capture_output=True, text=True)
        if p.returncode:
            print(p.stderr[-2000:], file=sys.stderr)
        for line in p.stdout.splitlines():
            rows.append(json.loads(line))
            print(line, flush=True)
    if a.secaggplus:
        for n in a.clients:
            out = os.path.join(tmp, f"sa{n}.json")
            p = subprocess.run([sys.executable, os.path.join(HERE, "bench_agg_secaggplus.py"), "--npz", npz,
                                "--n", str(n), "--out", out], capture_output=True, text=True)
            if p.returncode or not os.path.exists(out):
                rows.append({"method": "flower_secaggplus", "n": n, "error": p.stderr[-500:]})
            else:
                rows.append(json.load(open(out)))
            print(json.dumps(rows[-1]), flush=True)
    print("\n method                  n   upload/client   client ms   server ms   max abs err")
    for r in rows[1:]:
        if r["method"] in ("ours_error_sweep", "ours_topk_hidden_p0.5"):
            continue
        if "error" in r:
            print(f" {r['method']:<22} {r['n']:>3}   failed")
            continue
        print(f" {r['method']:<22} {r['n']:>3} {r['client_bytes'] / 1000:>12.1f} kB {1000 * r['client_s']:>10.1f} "
              f"{1000 * r['server_s']:>11.1f} {r['max_abs_err']:>13.2e}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
