"""``fsskernels federated``: federated LoRA fine-tuning of MiniLM on Rotten Tomatoes shards with
secure aggregation (two aggregators, shares over Z_2^64), run in Flower's simulation runtime.

Each round: every sampled client fine-tunes its adapter locally (plaintext), shares the update
(one share as a sealed 16-byte seed), the server and aggregator 0 sum their shares, and only
the weighted sum and the total weight are revealed; the server evaluates the new global adapter
on a held-out set. Prints a progress bar and a summary table; writes a JSON log and a PNG plot.

    fsskernels federated --clients 10 --rounds 5 --split dirichlet --alpha 0.5 --out fed_run

Errors: bad arguments -> message naming the option and exit code 2 (argparse); a missing model
or dataset package -> message with the install command and exit code 1.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import sys
import time

import numpy as np


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="fsskernels federated", description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=10, help="number of simulated clients (SuperNodes)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--split", choices=("iid", "dirichlet"), default="dirichlet")
    ap.add_argument("--alpha", type=float, default=0.5, help="Dirichlet concentration (smaller = more non-IID)")
    ap.add_argument("--train-examples", type=int, default=400, help="training examples over all clients")
    ap.add_argument("--eval-examples", type=int, default=200, help="held-out examples for the server's evaluation")
    ap.add_argument("--epochs", type=int, default=1, help="local epochs per round")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq-len", type=int, default=48)
    ap.add_argument("--layers", type=int, default=None, help="truncate MiniLM to this many layers (default: all 6)")
    ap.add_argument("--prune", action="store_true", help="prune updates before sharing (0.2 -> 0.5 schedule; leaks the pattern)")
    ap.add_argument("--dropout", type=float, default=0.0, help="probability a client drops out of a round (simulated)")
    ap.add_argument("--min-clients", type=int, default=2, help="fewest survivors a round may aggregate")
    ap.add_argument("--parallel", type=int, default=2, help="clients trained at once (Ray CPUs)")
    ap.add_argument("--seed", type=int, default=0, help="public seed for the data split, init and simulated dropout")
    ap.add_argument("--out", default="fed_run", help="directory for federated_log.json and federated.png")
    return ap


def _check(a, ap):
    for name in ("clients", "rounds", "train_examples", "eval_examples", "epochs", "batch", "seq_len", "parallel"):
        if getattr(a, name) < 1:
            ap.error(f"--{name.replace('_', '-')}: must be >= 1")
    if a.clients < 2:
        ap.error("--clients: at least 2 (an aggregate of one client is that client's update)")
    if not 0 <= a.dropout < 1:
        ap.error("--dropout: must be in [0, 1)")
    if a.alpha <= 0:
        ap.error("--alpha: must be > 0")
    if not 1 <= a.min_clients <= a.clients:
        ap.error("--min-clients: must be in 1..--clients")
    if a.train_examples < 2 * a.clients:
        ap.error("--train-examples: need at least 2 per client")


def _table(rows) -> str:
    cols = [("round", "{:>5}"), ("clients", "{:>7}"), ("failed", "{:>6}"), ("weight", "{:>6}"),
            ("accuracy", "{:>8.3f}"), ("train_loss", "{:>10.4f}"), ("upload_kB", "{:>9.1f}"),
            ("share_ms", "{:>8.1f}"), ("server_ms", "{:>9.1f}")]
    head = " ".join(f"{c:>{len(fmt.format(0) if 'f' not in fmt else fmt.format(0.0))}}" for c, fmt in cols)
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(" ".join(fmt.format(r[c]) if r.get(c) is not None else f"{'-':>{len(fmt.format(0.0) if 'f' in fmt else fmt.format(0))}}"
                              for c, fmt in cols))
    return "\n".join(lines)


def _plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
    r = [x["round"] for x in rows]
    ax[0].plot(r, [x["accuracy"] for x in rows], "o-")
    ax[0].set_xlabel("round")
    ax[0].set_ylabel("held-out accuracy")
    ax[0].set_title("global adapter (server evaluation)")
    rr = [x for x in rows if x.get("upload_kB") is not None]
    ax[1].bar([x["round"] for x in rr], [x["upload_kB"] for x in rr])
    ax[1].set_xlabel("round")
    ax[1].set_ylabel("upload per client (kB)")
    ax[1].set_title("client upload (masked share + sealed seed)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    ap = build_parser()
    a = ap.parse_args(argv)
    _check(a, ap)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    try:
        import flwr  # noqa: F401
        from tqdm import tqdm
    except ImportError as e:
        print(f"federated: missing dependency ({e}); pip install 'fsskernels[federated]'", file=sys.stderr)
        return 1
    from flwr.app import MetricRecord
    from flwr.simulation import run_simulation

    from ..demo.data import load_rotten_tomatoes
    from .app import make_client_app, make_server_app
    from .data import dirichlet_split, iid_split
    from .flower import SecureFedAvg
    from .lora import LocalLoRA
    from .service import SealedSeedAggregator
    from .sparse import prune_ratio

    logging.getLogger("flwr").setLevel(logging.WARNING)
    try:
        texts, labels = load_rotten_tomatoes()
        server_model = LocalLoRA(layers=a.layers, seq_len=a.seq_len, seed=a.seed)
    except (FileNotFoundError, ImportError) as e:
        print(f"federated: {e}", file=sys.stderr)
        return 1
    perm = np.random.default_rng(a.seed).permutation(len(labels))  # csprng-ok: public data split
    tr, ev = perm[:a.train_examples], perm[a.train_examples:a.train_examples + a.eval_examples]
    tr_texts, tr_labels = [texts[i] for i in tr], labels[tr].tolist()
    ev_texts, ev_labels = [texts[i] for i in ev], labels[ev]
    shards = (dirichlet_split(tr_labels, a.clients, a.alpha, seed=a.seed) if a.split == "dirichlet"
              else iid_split(tr_labels, a.clients, seed=a.seed))

    agg0 = SealedSeedAggregator(min_clients=a.min_clients)
    bar = tqdm(total=a.rounds, desc="federated rounds", unit="round", file=sys.stderr)
    rows: list[dict] = []

    def on_round(rnd, info):
        skipped = bool(info.get("secagg-skipped"))
        rows.append({"round": rnd, "clients": info["secagg-clients"], "failed": info["secagg-failures"],
                     "weight": info.get("secagg-total-weight"), "train_loss": info.get("train-loss"),
                     "upload_kB": None if skipped else info.get("secagg-upload-bytes", 0) / 1000,
                     "share_ms": None if skipped else 1000 * info.get("secagg-share-s", 0),
                     "server_ms": None if skipped else 1000 * (info["secagg-server-s"] + info["secagg-agg0-s"]),
                     "skipped": skipped})
        bar.update(1)

    def evaluate_fn(rnd, arrays):
        server_model.set_arrays(arrays.to_numpy_ndarrays())
        acc = server_model.accuracy(ev_texts, ev_labels)
        if rnd == 0:
            rows.append({"round": 0, "accuracy": acc})
        else:
            for r in rows:
                if r["round"] == rnd:
                    r["accuracy"] = acc
            bar.set_postfix(acc=f"{acc:.3f}")
        return MetricRecord({"accuracy": acc})

    strategy = SecureFedAvg(agg0, min_clients=a.min_clients, min_available=a.clients, on_round=on_round,
                            prune_schedule=(lambda r: prune_ratio(r, a.rounds)) if a.prune else None)
    opts = {"layers": a.layers, "seq_len": a.seq_len, "epochs": a.epochs, "lr": a.lr, "batch": a.batch,
            "dropout": a.dropout, "seed": a.seed}
    client_app = make_client_app(shards, tr_texts, tr_labels, opts, agg0.public_key)
    server_app = make_server_app(strategy, server_model.get_arrays(), a.rounds, evaluate_fn)
    t0 = time.perf_counter()
    run_simulation(server_app=server_app, client_app=client_app, num_supernodes=a.clients,
                   backend_config={"client_resources": {"num_cpus": 1},
                                   "init_args": {"num_cpus": a.parallel, "include_dashboard": False}})
    wall = time.perf_counter() - t0
    bar.close()
    rows.sort(key=lambda r: r["round"])
    for r in rows:
        r.setdefault("accuracy", None)
    print(_table(rows))
    d = sum(x.size for x in server_model.get_arrays())
    summary = {"clients": a.clients, "rounds": a.rounds, "split": a.split, "alpha": a.alpha,
               "values_per_update": d, "lora_values": server_model.lora_values, "frac_bits": 16,
               "wall_s": wall, "dense_upload_bytes": 8 * (d + 1) + 64,
               "final_accuracy": rows[-1].get("accuracy"), "initial_accuracy": rows[0].get("accuracy"),
               "shard_sizes": [int(len(s)) for s in shards], "args": vars(a), "rounds_log": rows,
               "revealed": "per round: sum_i w_i delta_i and sum_i w_i only"}
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "federated_log.json").write_text(json.dumps(summary, indent=2))
    _plot([r for r in rows if r.get("accuracy") is not None], out / "federated.png")
    print(f"accuracy {summary['initial_accuracy']:.3f} -> {summary['final_accuracy']:.3f} in {wall:.1f} s; "
          f"log {out / 'federated_log.json'}, plot {out / 'federated.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
