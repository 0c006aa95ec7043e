"""Flower apps for federated LoRA on Rotten Tomatoes with secure aggregation.

What is built: ``make_client_app(shards, texts, labels, opts, agg0_public_key)`` -> a
``flwr.clientapp.ClientApp`` whose train function fine-tunes the local MiniLM adapter
(``lora.LocalLoRA``) on the node's shard (``node_config["partition-id"]``) and whose reply is
shared by ``flower.secure_share_mod``; ``make_server_app(strategy, init_arrays, rounds,
evaluate_fn)`` -> a ``flwr.serverapp.ServerApp`` running ``SecureFedAvg``. The CLI runs both with
Flower's simulation runtime; docs/federated.md shows the same apps deployed with SuperLink /
SuperNodes.

Simulated dropout: ``opts["dropout"]`` = p makes each client fail its train call with
probability p per round (a public, seeded coin: csprng-ok), which Flower reports as an error
reply; the strategy aggregates the survivors.
"""
from __future__ import annotations

import numpy as np

_MODEL = {}


def _local_model(opts):
    key = (opts.get("layers"), opts.get("seq_len", 48))
    if key not in _MODEL:
        from .lora import LocalLoRA

        _MODEL.clear()
        _MODEL[key] = LocalLoRA(layers=opts.get("layers"), seq_len=opts.get("seq_len", 48), threads=1)
    return _MODEL[key]


def make_client_app(shards, texts, labels, opts, agg0_public_key):
    from flwr.app import ArrayRecord, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp

    from .flower import secure_share_mod

    app = ClientApp(mods=[secure_share_mod(agg0_public_key, frac_bits=opts.get("frac_bits", 16))])

    @app.train()
    def train(msg, context):
        pid = int(context.node_config["partition-id"])
        rnd = int(msg.content["config"]["server-round"])
        p = float(opts.get("dropout", 0.0))
        if p > 0 and np.random.default_rng([opts.get("seed", 0), rnd, pid]).random() < p:  # csprng-ok: simulated dropout
            raise RuntimeError(f"client {pid} dropped out in round {rnd} (simulated)")
        m = _local_model(opts)
        m.set_arrays(msg.content["arrays"].to_numpy_ndarrays())
        idx = shards[pid]
        loss = m.train([texts[i] for i in idx], [labels[i] for i in idx], epochs=opts.get("epochs", 1),
                       lr=opts.get("lr", 5e-4), batch=opts.get("batch", 16), seed=1000 * rnd + pid)
        rec = RecordDict({"arrays": ArrayRecord(m.get_arrays()),
                          "metrics": MetricRecord({"num-examples": int(len(idx)), "train-loss": float(loss)})})
        return Message(rec, reply_to=msg)

    return app


def make_server_app(strategy, init_arrays, rounds: int, evaluate_fn=None, result: dict | None = None):
    from flwr.app import ArrayRecord
    from flwr.serverapp import ServerApp

    app = ServerApp()

    @app.main()
    def main(grid, context):
        res = strategy.start(grid=grid, initial_arrays=ArrayRecord(init_arrays), num_rounds=int(rounds),
                             timeout=3600, evaluate_fn=evaluate_fn)
        if result is not None:
            result["result"] = res

    return app
