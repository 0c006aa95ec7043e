"""Flower (flwr 1.42 Message API) integration: a client mod that shares updates and a Strategy
that aggregates them on shares.

Client side, ``secure_share_mod(agg0_public_key, ...)`` wraps a ClientApp's train function. The
train function replies as usual (``ArrayRecord`` "arrays" with the locally trained adapter,
``MetricRecord`` "metrics" with the integer weight under "num-examples"); the mod replaces that
reply with

    "secagg"      ArrayRecord {"masked": uint64 (d + 1,) or (k + 1,) when pruned}
    "secagg-meta" ConfigRecord {"sealed-seed": 64 B, "d": d, ["pattern": bytes]}
    "metrics"     the other metrics, without the weight (the weight is shared, not sent)

where the shared vector is the UPDATE (local - global adapter, weighted by num-examples, see
``shares``), the seed is sealed to aggregator 0 (``sealing``), bound to the round context the
strategy sends ("secagg-context"), and pruned by the round's "prune-ratio" when it is > 0.

Server side, ``SecureFedAvg`` (a ``flwr.serverapp.strategy.Strategy``) is aggregator 1: it sums
the masked vectors of the replies that arrived, asks aggregator 0 (a ``SealedSeedAggregator``
or any object with its ``aggregate`` method) for the seed sum over the same clients, and
reveals only sum_i w_i delta_i and W; the new global adapter is global + sum / W. Failed or
missing replies (dropped clients) are simply not in either sum.

Heterogeneous ranks: with ``secure_share_mod(..., share="values")`` and
``SecureFedAvg(mode="values", downlink=hetero.factor_downlink(r_max))`` clients share their dense
LoRA products, the server reveals the weighted average product, and sends rank-r_max SVD factors
that each client truncates to its own rank (``hetero.client_factors``). The content a client sends
is built by the pure function ``share_reply_content`` (the mod is a thin wrapper).

Security: semi-honest, aggregator 0 and the server do not collude; the public key is pinned on
the client (never taken from the server's message). Sizes, the participant set, the per-client
sparsity patterns (when pruning) and the non-weight metrics are public to the server.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterable
from logging import INFO

import numpy as np

from .aggregator import reveal
from .sealing import seal_seed
from .service import masked_sum
from .shares import check_weight, share_update
from .sparse import decode_pattern, scatter, share_sparse

WEIGHT_KEY = "num-examples"


def flatten_record(record) -> np.ndarray:
    """An ArrayRecord's arrays concatenated in key order (float64)."""
    return np.concatenate([np.asarray(a.numpy(), np.float64).reshape(-1) for a in record.values()])


def unflatten_like(vec: np.ndarray, record):
    """An ArrayRecord with record's keys, shapes and dtypes holding vec."""
    from flwr.app import Array, ArrayRecord

    out, o = {}, 0
    for k, a in record.items():
        arr = a.numpy()
        out[k] = Array(np.asarray(vec[o:o + arr.size]).reshape(arr.shape).astype(arr.dtype))
        o += arr.size
    if o != vec.size:
        raise ValueError("vec: length does not match the record")
    return ArrayRecord(out)


def share_reply_content(arrays, metrics: dict, *, global_arrays=None, context: str, agg0_public_key: bytes,
                        ratio: float = 0.0, frac_bits: int = 16, weight_key: str = WEIGHT_KEY):
    """The RecordDict a client sends instead of its train reply (pure function, used by the mod).

    arrays: the reply's ArrayRecord; global_arrays: the ArrayRecord the server sent (share the
    update arrays - global) or None (share the arrays themselves, "values" mode, e.g. the dense
    LoRA products of ``hetero``); metrics: the reply's metrics with the integer weight under
    ``weight_key`` (removed: the weight is shared, not sent)."""
    from flwr.app import Array, ArrayRecord, ConfigRecord, MetricRecord, RecordDict

    t0 = time.perf_counter()
    vec = flatten_record(arrays)
    if global_arrays is not None:
        g = flatten_record(global_arrays)
        if vec.size != g.size:
            raise ValueError("arrays: the trained adapter's size differs from the global one")
        vec = vec - g
    metrics = dict(metrics)
    if weight_key not in metrics:
        raise ValueError(f"metrics: the train reply has no '{weight_key}' weight")
    weight = check_weight(int(metrics.pop(weight_key)), weight_key)
    meta = {"d": int(vec.size)}
    if ratio > 0:
        sh = share_sparse(vec, weight, ratio, frac_bits)
        meta["pattern"] = sh.pattern
    else:
        sh = share_update(vec, weight, frac_bits)
    meta["sealed-seed"] = seal_seed(sh.seed, agg0_public_key, context)
    metrics["secagg-share-s"] = time.perf_counter() - t0
    metrics["secagg-upload-bytes"] = int(sh.upload_bytes + len(meta["sealed-seed"]) - 16)
    return RecordDict({"secagg": ArrayRecord({"masked": Array(sh.masked)}), "secagg-meta": ConfigRecord(meta),
                       "metrics": MetricRecord(metrics)})


def secure_share_mod(agg0_public_key: bytes, frac_bits: int = 16, weight_key: str = WEIGHT_KEY, share: str = "delta"):
    """A Flower mod (msg, context, call_next) -> Message that shares the train reply:
    share="delta" (default) the update (reply arrays - received arrays), share="values" the
    reply arrays themselves (heterogeneous ranks: dense products)."""
    if not isinstance(agg0_public_key, (bytes, bytearray)) or len(agg0_public_key) != 32:
        raise ValueError("agg0_public_key: expected the 32-byte X25519 key of aggregator 0")
    if share not in ("delta", "values"):
        raise ValueError(f"share: expected 'delta' or 'values', got {share!r}")
    pk = bytes(agg0_public_key)

    def mod(msg, ctxt, call_next):
        from flwr.app import ConfigRecord, Message, MessageType, MetricRecord

        if msg.metadata.message_type.split(".")[0] != MessageType.TRAIN:
            return call_next(msg, ctxt)
        config = msg.content.config_records.get("config", ConfigRecord())
        if "secagg-context" not in config:
            raise ValueError("message: no 'secagg-context' in the train config (is the server SecureFedAvg?)")
        received = msg.content["arrays"] if share == "delta" else None
        reply = call_next(msg, ctxt)
        if reply.has_error():
            return reply
        content = share_reply_content(reply.content["arrays"], reply.content.metric_records.get("metrics", MetricRecord()),
                                      global_arrays=received, context=str(config["secagg-context"]),
                                      agg0_public_key=pk, ratio=float(config.get("prune-ratio", 0.0)),
                                      frac_bits=frac_bits, weight_key=weight_key)
        return Message(content, reply_to=msg)

    return mod


def _strategy_base():
    from flwr.serverapp.strategy import Strategy

    return Strategy


class SecureFedAvg(_strategy_base()):
    """Weighted FedAvg of adapter updates on shares (see module doc).

    aggregator0: a ``SealedSeedAggregator`` (or proxy with the same ``aggregate``).
    min_clients: fewest surviving clients a round may aggregate; min_available: wait until this
    many nodes are connected before sampling (default min_clients).
    prune_schedule: None, or a callable round -> ratio in [0, 1) (e.g. ``sparse.prune_ratio``
    with total rounds bound), sent to clients each round.
    mode: "delta" (clients share updates; new global = global + average update) or "values"
    (clients share values laid out like the global arrays, e.g. dense LoRA products; new
    global = their weighted average); pair it with the mod's ``share``.
    downlink: optional callable ArrayRecord -> ArrayRecord applied to the global arrays before
    they are sent (e.g. ``hetero.factor_downlink``: products -> rank-r_max factors).
    """

    def __init__(self, aggregator0, *, min_clients: int = 2, min_available: int | None = None,
                 fraction_train: float = 1.0, frac_bits: int = 16, prune_schedule=None, on_round=None,
                 mode: str = "delta", downlink=None) -> None:
        if not hasattr(aggregator0, "aggregate"):
            raise ValueError("aggregator0: expected an object with aggregate(context, sealed, n, patterns)")
        if not 0.0 < float(fraction_train) <= 1.0:
            raise ValueError("fraction_train: expected a number in (0, 1]")
        if mode not in ("delta", "values"):
            raise ValueError(f"mode: expected 'delta' or 'values', got {mode!r}")
        self.aggregator0 = aggregator0
        self.mode = mode
        self.downlink = downlink
        self.min_clients = int(min_clients)
        self.min_available = max(self.min_clients, int(min_available or 0))  # wait for this many nodes
        self.fraction_train = float(fraction_train)
        self.frac_bits = int(frac_bits)
        self.prune_schedule = prune_schedule
        self.on_round = on_round  # optional callback(round, info dict) for progress/logging
        self._run_tag = os.urandom(8).hex()
        self._global = None
        self.history: list[dict] = []

    def context(self, server_round: int) -> str:
        return f"fsskernels.secagg;run={self._run_tag};round={server_round}"

    def summary(self) -> None:
        from flwr.supercore import log

        log(INFO, "\t├──> SecureFedAvg: shares over Z_2^64, frac_bits=%d, min_clients=%d, pruning=%s",
            self.frac_bits, self.min_clients, self.prune_schedule is not None)

    def configure_train(self, server_round, arrays, config, grid) -> Iterable:
        from flwr.app import ConfigRecord, Message, MessageType, RecordDict
        from flwr.serverapp.strategy.strategy_utils import sample_nodes

        _, nodes = sample_nodes(grid, self.min_available, 0)  # waits until min_available are online
        size = max(int(len(nodes) * self.fraction_train), self.min_clients)
        node_ids, _ = sample_nodes(grid, self.min_available, size)
        self._global = arrays
        sent = self.downlink(arrays) if self.downlink else arrays
        cfg = ConfigRecord(dict(config))
        cfg["server-round"] = server_round
        cfg["secagg-context"] = self.context(server_round)
        cfg["prune-ratio"] = float(self.prune_schedule(server_round)) if self.prune_schedule else 0.0
        rec = RecordDict({"arrays": sent, "config": cfg})
        return [Message(content=rec, message_type=MessageType.TRAIN, dst_node_id=n) for n in node_ids]

    def aggregate_train(self, server_round, replies):
        from flwr.app import MetricRecord

        t0 = time.perf_counter()
        d = flatten_record(self._global).size
        masked, sealed, patterns, mets = {}, {}, {}, []
        failures = 0
        for msg in replies:
            if msg.has_error():
                failures += 1
                continue
            cid = int(msg.metadata.src_node_id)
            try:
                parsed = self._parse_reply(msg, d)
            except (KeyError, ValueError, TypeError):  # malformed reply: counted as a failed client
                failures += 1
                continue
            masked[cid], sealed[cid] = parsed[0], parsed[1]
            if parsed[2] is not None:
                patterns[cid] = parsed[2]
            mets.append(dict(msg.content.metric_records.get("metrics", {})))
        if len(masked) < self.min_clients:  # too few survivors: keep the global adapter, reveal nothing
            info = {"secagg-clients": len(masked), "secagg-failures": failures, "secagg-skipped": 1}
            self.history.append({"round": server_round, **info})
            if self.on_round:
                self.on_round(server_round, dict(info))
            return None, MetricRecord(info)
        t1 = time.perf_counter()
        s0, included = self.aggregator0.aggregate(self.context(server_round), sealed, d + 1, patterns)
        t2 = time.perf_counter()
        s1 = masked_sum(masked, included, d + 1)
        wsum, total = reveal(s0, s1, self.frac_bits)
        new = wsum / total if self.mode == "values" else flatten_record(self._global) + wsum / total
        t3 = time.perf_counter()
        out = {"secagg-clients": len(included), "secagg-failures": failures, "secagg-total-weight": total,
               "secagg-server-s": (t1 - t0) + (t3 - t2), "secagg-agg0-s": t2 - t1}
        for key in ("secagg-upload-bytes", "secagg-share-s", "train-loss"):
            vals = [m[key] for m in mets if key in m]
            if vals:
                out[key] = float(np.mean(vals))
        self.history.append({"round": server_round, **out})
        if self.on_round:
            self.on_round(server_round, dict(out))
        return unflatten_like(new, self._global), MetricRecord(out)

    @staticmethod
    def _parse_reply(msg, d: int):
        """(dense masked vector (d + 1,), sealed seed, pattern or None); ValueError/KeyError if malformed."""
        meta = msg.content.config_records["secagg-meta"]
        if int(meta["d"]) != d:
            raise ValueError("d: differs from the global adapter's size")
        vals = np.asarray(msg.content["secagg"]["masked"].numpy())
        if vals.dtype != np.uint64:
            raise ValueError("masked: expected uint64")
        sealed = bytes(meta["sealed-seed"])
        if "pattern" in meta:
            pattern = bytes(meta["pattern"])
            return scatter(vals, decode_pattern(pattern, d), d), sealed, pattern
        if vals.shape != (d + 1,):
            raise ValueError("masked: wrong length")
        return vals, sealed, None

    def configure_evaluate(self, server_round, arrays, config, grid):
        return []

    def aggregate_evaluate(self, server_round, replies):
        return None
