#!/usr/bin/env python3
"""Flower's built-in SecAgg+ (flwr 1.42: SecAggPlusWorkflow + secaggplus_mod) on the same client
updates as bench_agg.py, in Flower's simulation runtime (Ray), one process per client count:

    python bench/bench_agg_secaggplus.py --npz updates.npz --n 10 --out result.json

The server runs DefaultWorkflow(fit_workflow=SecAggPlusWorkflow(num_shares=n-1 (min 3),
reconstruction_threshold=ceil(2/3 * num_shares), clipping_range=8, quantization_range=2^22,
modulus_range=2^32, max_weight=max w_i)) around a FedAvg strategy; each client's NumPyClient.fit
returns its update with num_examples = its weight. Measured: per client, the bytes of every
message it sends in the four SecAgg+ stages and the time spent inside secaggplus_mod (a wrapping
mod appends one JSON line per stage to a file); on the server, the workflow's wall time minus the
time blocked in grid.send_and_receive (= server compute); the error of the aggregate vs float64
weighted FedAvg.
"""
import argparse
import json
import math
import os
import sys
import tempfile
import time


def main(argv=None):
    import numpy as np

    ap = argparse.ArgumentParser()
    ap.add_argument("--npz", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--parallel", type=int, default=2)
    a = ap.parse_args(argv)
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    import logging

    from flwr.app import Context
    from flwr.client import NumPyClient
    from flwr.client.mod import secaggplus_mod
    from flwr.clientapp import ClientApp
    from flwr.common import parameters_to_ndarrays
    from flwr.server import LegacyContext, ServerApp, ServerConfig
    from flwr.server.strategy import FedAvg
    from flwr.server.workflow import DefaultWorkflow, SecAggPlusWorkflow
    from flwr.simulation import run_simulation

    logging.getLogger("flwr").setLevel(logging.WARNING)
    z = np.load(a.npz)
    upd, wts = z["updates"][:a.n], z["weights"][:a.n].astype(np.int64)
    d = upd.shape[1]
    log_path = tempfile.mktemp(prefix="secaggplus_", suffix=".jsonl")
    npz_path = os.path.abspath(a.npz)

    class C(NumPyClient):
        def __init__(self, pid):
            self.pid = pid

        def fit(self, parameters, config):
            zz = np.load(npz_path)
            return [zz["updates"][self.pid].astype(np.float32)], int(zz["weights"][self.pid]), {}

    def client_fn(context: Context):
        return C(int(context.node_config["partition-id"])).to_client()

    def measure_mod(msg, ctxt, call_next):
        t0 = time.process_time()
        reply = call_next(msg, ctxt)
        dt = time.process_time() - t0
        nbytes = sum(r.count_bytes() for r in reply.content.values()) if not reply.has_error() else 0
        with open(log_path, "a") as fh:
            fh.write(json.dumps({"node": int(ctxt.node_id), "type": msg.metadata.message_type,
                                 "bytes": nbytes, "cpu_s": dt}) + "\n")
        return reply

    client = ClientApp(client_fn=client_fn, mods=[measure_mod, secaggplus_mod])
    out = {}

    class Capture(FedAvg):
        def aggregate_fit(self, server_round, results, failures):
            params, m = super().aggregate_fit(server_round, results, failures)
            out["agg"] = parameters_to_ndarrays(params)[0] if params is not None else None
            return params, m

    server = ServerApp()
    num_shares = max(3, a.n - 1)

    @server.main()
    def main_(grid, context):
        waited = [0.0]
        orig = grid.send_and_receive

        def timed(*args, **kw):
            t0 = time.perf_counter()
            r = orig(*args, **kw)
            waited[0] += time.perf_counter() - t0
            return r

        grid.send_and_receive = timed
        strategy = Capture(fraction_fit=1.0, fraction_evaluate=0.0, min_fit_clients=a.n, min_available_clients=a.n)
        ctx = LegacyContext(context=context, config=ServerConfig(num_rounds=1), strategy=strategy)
        wf = DefaultWorkflow(fit_workflow=SecAggPlusWorkflow(
            num_shares=num_shares, reconstruction_threshold=math.ceil(2 * num_shares / 3),
            max_weight=float(wts.max())))
        t0 = time.perf_counter()
        wf(grid, ctx)
        out["server_wall_s"] = time.perf_counter() - t0
        out["server_wait_s"] = waited[0]

    t0 = time.perf_counter()
    run_simulation(server_app=server, client_app=client, num_supernodes=a.n,
                   backend_config={"client_resources": {"num_cpus": 1},
                                   "init_args": {"num_cpus": a.parallel, "include_dashboard": False}})
    wall = time.perf_counter() - t0
    rows = [json.loads(line) for line in open(log_path)] if os.path.exists(log_path) else []
    per_node = {}
    for r in rows:
        p = per_node.setdefault(r["node"], {"bytes": 0, "cpu_s": 0.0})
        p["bytes"] += r["bytes"]
        p["cpu_s"] += r["cpu_s"]
    x = upd.astype(np.float64)
    ref = (wts[:, None] * x).sum(0) / wts.sum()
    agg = out.get("agg")
    res = {"method": "flower_secaggplus", "n": a.n, "values": d, "num_shares": num_shares,
           "client_bytes": float(np.median([p["bytes"] for p in per_node.values()])) if per_node else None,
           "client_s": float(np.median([p["cpu_s"] for p in per_node.values()])) if per_node else None,
           "server_s": out.get("server_wall_s", math.nan) - out.get("server_wait_s", 0.0),
           "round_wall_s": out.get("server_wall_s"), "sim_wall_s": wall,
           "max_abs_err": float(np.max(np.abs(agg - ref))) if agg is not None else None,
           "note": "client_s = CPU time in the fit stages incl. NumPyClient.fit (loads the update from disk)"}
    with open(a.out, "w") as fh:
        json.dump(res, fh)
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
