"""Flower apps for a real deployment (SuperLink + SuperNodes, ``flwr run``), see docs/federated.md.

``server_app`` runs ``SecureFedAvg`` with aggregator 0 reached over a socket
(``remote.RemoteSeedAggregator``); run config keys: ``num-rounds`` (5), ``min-clients`` (2),
``agg0-host`` ("127.0.0.1"), ``agg0-port`` (9091), ``prune`` (false), ``layers`` (6),
``seq-len`` (48); the socket's authkey comes from the environment variable FSS_AGG0_AUTHKEY.

``client_app`` trains the node's shard and shares its update; node config keys:
``partition-id``, ``num-partitions`` (the node's Dirichlet shard of the Rotten Tomatoes training
pool, alpha from ``alpha``, default 0.5: stand-in for the node's own data) and
``agg0-public-key`` (hex; the PINNED key of aggregator 0, provisioned out of band, never taken
from the server). Errors: missing keys raise ValueError naming the key.
"""
from __future__ import annotations

import os

import numpy as np

_POOL = 2000  # training pool size split across the partitions
_EVAL = 200


def _data(seed=0):
    from ..demo.data import load_rotten_tomatoes

    texts, labels = load_rotten_tomatoes()
    perm = np.random.default_rng(seed).permutation(len(labels))  # csprng-ok: public data split
    return texts, labels, perm[:_POOL], perm[_POOL:_POOL + _EVAL]


def _cfg(cfg, key, default=None):
    if key in cfg:
        return cfg[key]
    if default is None:
        raise ValueError(f"config: missing '{key}'")
    return default


def _pinned_key_mod(msg, ctxt, call_next):
    from .flower import secure_share_mod

    key = bytes.fromhex(str(_cfg(ctxt.node_config, "agg0-public-key")))
    return secure_share_mod(key)(msg, ctxt, call_next)


def _build_client_app():
    from flwr.app import ArrayRecord, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp

    from .data import dirichlet_split
    from .lora import LocalLoRA

    app = ClientApp(mods=[_pinned_key_mod])
    state = {}

    @app.train()
    def train(msg, context):
        nc, rc = context.node_config, context.run_config
        if "model" not in state:
            texts, labels, pool, _ = _data()
            parts = dirichlet_split(labels[pool], int(_cfg(nc, "num-partitions")), float(_cfg(nc, "alpha", 0.5)))
            idx = pool[parts[int(_cfg(nc, "partition-id"))]]
            state["data"] = ([texts[i] for i in idx], labels[idx].tolist())
            state["model"] = LocalLoRA(layers=int(_cfg(rc, "layers", 6)), seq_len=int(_cfg(rc, "seq-len", 48)))
        m = state["model"]
        m.set_arrays(msg.content["arrays"].to_numpy_ndarrays())
        tx, ty = state["data"]
        loss = m.train(tx, ty, epochs=1, seed=int(msg.content["config"]["server-round"]))
        return Message(RecordDict({"arrays": ArrayRecord(m.get_arrays()),
                                   "metrics": MetricRecord({"num-examples": len(ty), "train-loss": loss})}),
                       reply_to=msg)

    return app


def _build_server_app():
    from flwr.app import ArrayRecord, MetricRecord
    from flwr.serverapp import ServerApp

    from .flower import SecureFedAvg
    from .lora import LocalLoRA
    from .remote import RemoteSeedAggregator
    from .sparse import prune_ratio

    app = ServerApp()

    @app.main()
    def main(grid, context):
        rc = context.run_config
        rounds = int(_cfg(rc, "num-rounds", 5))
        agg0 = RemoteSeedAggregator((str(_cfg(rc, "agg0-host", "127.0.0.1")), int(_cfg(rc, "agg0-port", 9091))),
                                    os.environ.get("FSS_AGG0_AUTHKEY", "").encode())
        model = LocalLoRA(layers=int(_cfg(rc, "layers", 6)), seq_len=int(_cfg(rc, "seq-len", 48)))
        texts, labels, _, ev = _data()

        def evaluate(rnd, arrays):
            model.set_arrays(arrays.to_numpy_ndarrays())
            return MetricRecord({"accuracy": model.accuracy([texts[i] for i in ev], labels[ev])})

        strat = SecureFedAvg(agg0, min_clients=int(_cfg(rc, "min-clients", 2)),
                             prune_schedule=(lambda r: prune_ratio(r, rounds)) if bool(_cfg(rc, "prune", False)) else None)
        strat.start(grid=grid, initial_arrays=ArrayRecord(model.get_arrays()), num_rounds=rounds, evaluate_fn=evaluate)

    return app


try:  # module-level apps for `flwr run` (absent if flwr is not installed)
    client_app = _build_client_app()
    server_app = _build_server_app()
except ImportError:  # pragma: no cover
    client_app = server_app = None
