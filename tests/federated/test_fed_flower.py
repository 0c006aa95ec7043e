"""SecureFedAvg + secure_share_mod in Flower's simulation runtime: 3 tiny clients, 2 rounds,
round 2 pruned (ratio 0.5) with client 2 dropping out; the result equals plaintext weighted
FedAvg of the (pruned) updates of the survivors, within the fixed-point bound 2^-17."""
import numpy as np
import pytest

pytest.importorskip("flwr")
pytest.importorskip("ray")

from fsskernels.federated.sparse import keep_indices  # noqa: E402

SHAPES = [(4, 6), (6, 4)]  # a tiny "adapter": B and A of rank 4 on a 6x6 layer
WEIGHTS = [3, 5, 8]


def _delta(pid, rnd):
    rng = np.random.default_rng(100 * pid + rnd)  # csprng-ok: public test data
    return rng.normal(0, 0.05, size=sum(a * b for a, b in SHAPES))


def _ratio(rnd):
    return 0.0 if rnd == 1 else 0.5


def _reference(rounds=2):
    g = np.zeros(sum(a * b for a, b in SHAPES))
    for rnd in range(1, rounds + 1):
        alive = [0, 1, 2] if rnd == 1 else [0, 1]
        acc, W = np.zeros_like(g), 0
        for pid in alive:
            d = _delta(pid, rnd)
            if _ratio(rnd) > 0:
                k = keep_indices(d, _ratio(rnd))
                p = np.zeros_like(d)
                p[k] = d[k]
                d = p
            acc += WEIGHTS[pid] * d
            W += WEIGHTS[pid]
        g = g + acc / W
    return g


def test_secure_fedavg_in_flower_simulation():
    from flwr.app import ArrayRecord, Message, MetricRecord, RecordDict
    from flwr.clientapp import ClientApp
    from flwr.serverapp import ServerApp
    from flwr.simulation import run_simulation

    from fsskernels.federated.flower import SecureFedAvg, flatten_record, secure_share_mod
    from fsskernels.federated.service import SealedSeedAggregator

    agg0 = SealedSeedAggregator(min_clients=2)
    client = ClientApp(mods=[secure_share_mod(agg0.public_key)])

    @client.train()
    def train(msg, ctx):
        pid = int(ctx.node_config["partition-id"])
        rnd = int(msg.content["config"]["server-round"])
        if rnd == 2 and pid == 2:
            raise RuntimeError("client 2 drops out")
        rec = msg.content["arrays"]
        local = flatten_record(rec) + _delta(pid, rnd)
        arrs, o = [], 0
        for a, b in SHAPES:
            arrs.append(local[o:o + a * b].reshape(a, b).astype(np.float64))
            o += a * b
        return Message(RecordDict({"arrays": ArrayRecord(arrs),
                                   "metrics": MetricRecord({"num-examples": WEIGHTS[pid], "train-loss": 1.0})}),
                       reply_to=msg)

    out = {}
    server = ServerApp()

    @server.main()
    def main(grid, context):
        strat = SecureFedAvg(agg0, min_clients=2, min_available=3, prune_schedule=_ratio)
        init = ArrayRecord([np.zeros(s, np.float64) for s in SHAPES])
        out["result"] = strat.start(grid=grid, initial_arrays=init, num_rounds=2, timeout=900)  # a bound, not a timing: Ray starts slowly on a loaded machine
        out["history"] = strat.history

    run_simulation(server_app=server, client_app=client, num_supernodes=3,
                   backend_config={"client_resources": {"num_cpus": 1}, "init_args": {"num_cpus": 1}})
    got = flatten_record(out["result"].arrays)
    assert np.max(np.abs(got - _reference())) <= 2 * 2.0 ** -17
    h = out["history"]
    assert [r["secagg-clients"] for r in h] == [3, 2]
    assert [r["secagg-total-weight"] for r in h] == [16, 8]
    assert h[1]["secagg-failures"] == 1
    d = sum(a * b for a, b in SHAPES)
    assert h[0]["secagg-upload-bytes"] == 8 * (d + 1) + 64  # masked vector + sealed seed
    assert h[1]["secagg-upload-bytes"] < h[0]["secagg-upload-bytes"]  # pruned


def test_malformed_replies_are_rejected():
    from types import SimpleNamespace

    from flwr.app import Array, ArrayRecord, ConfigRecord, RecordDict

    from fsskernels.federated.flower import SecureFedAvg
    from fsskernels.federated.shares import share_update
    from fsskernels.federated.sparse import share_sparse

    d = 8
    x = np.linspace(-1, 1, d)
    good = share_update(x, 3)

    def reply(masked, meta):
        return SimpleNamespace(content=RecordDict({"secagg": ArrayRecord({"masked": Array(masked)}),
                                                   "secagg-meta": ConfigRecord(meta)}))

    v, s, p = SecureFedAvg._parse_reply(reply(good.masked, {"d": d, "sealed-seed": b"x" * 64}), d)
    assert np.array_equal(v, good.masked) and s == b"x" * 64 and p is None
    sp = share_sparse(x, 3, 0.5)
    v, _, p = SecureFedAvg._parse_reply(reply(sp.masked, {"d": d, "sealed-seed": b"x" * 64, "pattern": sp.pattern}), d)
    assert np.array_equal(v, sp.dense_masked()) and p == sp.pattern
    bad = [reply(good.masked, {"d": d + 1, "sealed-seed": b"x" * 64}),          # wrong size
           reply(good.masked[:-1], {"d": d, "sealed-seed": b"x" * 64}),        # truncated vector
           reply(good.masked.view(np.int64), {"d": d, "sealed-seed": b"x"}),   # wrong dtype
           reply(good.masked, {"d": d})]                                        # no sealed seed
    for r in bad:
        with pytest.raises((KeyError, ValueError)):
            SecureFedAvg._parse_reply(r, d)
    with pytest.raises(ValueError, match="aggregator0"):
        SecureFedAvg(object())
