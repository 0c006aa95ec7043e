"""Heterogeneous ranks: shared sum of products == plaintext; per-client factors == numpy SVD."""
import numpy as np
import pytest

from fsskernels.federated import aggregator as agg
from fsskernels.federated.hetero import factorize, flatten_products, lora_product, redistribute, unflatten
from fsskernels.federated.shares import share_update


def test_products_aggregated_and_refactored():
    rng = np.random.default_rng(11)  # csprng-ok: public test data
    out_f, in_f = 24, 16
    ranks, w = [2, 4, 8], [5, 7, 11]
    prods = []
    for r in ranks:
        B, A = rng.normal(0, 0.1, (out_f, r)), rng.normal(0, 0.1, (r, in_f))
        prods.append({"q": lora_product(B, A, 16 / r), "v": lora_product(2 * B, A, 16 / r)})
    shares = {}
    for i, p in enumerate(prods):
        vec, layout = flatten_products(p)
        shares[i] = share_update(vec, w[i])
    s, W = agg.aggregate_round(shares)
    avg = unflatten(s / W, layout)
    ref = {k: sum(wi * p[k] for wi, p in zip(w, prods)) / sum(w) for k in ("q", "v")}
    for k in ref:
        assert np.max(np.abs(avg[k] - ref[k])) <= 2.0 ** -17
    for r in ranks:
        fac = redistribute(avg, r, scaling=16 / r)
        for k in ref:
            B, A = fac[k]
            assert B.shape == (out_f, r) and A.shape == (r, in_f)
            U, S, Vt = np.linalg.svd(ref[k])
            best = (U[:, :r] * S[:r]) @ Vt[:r]
            assert np.allclose((16 / r) * B @ A, best, atol=1e-4)
            # Eckart-Young: the residual is the tail of the singular values
            assert np.linalg.norm(ref[k] - (16 / r) * B @ A) == pytest.approx(np.sqrt((S[r:] ** 2).sum()), abs=1e-4)


def test_factorize_bad_input():
    with pytest.raises(ValueError, match="rank"):
        factorize(np.eye(3), 4)
    with pytest.raises(ValueError, match="B, A"):
        lora_product(np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="vec"):
        unflatten(np.zeros(5), [("a", (2, 2))])


def test_hetero_ranks_through_the_flower_strategy():
    """Clients of ranks 2/4/8 share dense products ("values" mode) via the mod's content builder;
    SecureFedAvg's aggregate_train reveals the weighted average product; the downlink sends
    rank-8 factors and each client truncates to its rank == numpy's truncated SVD."""
    pytest.importorskip("flwr")
    from types import SimpleNamespace

    from flwr.app import Array, ArrayRecord

    from fsskernels.federated.flower import SecureFedAvg, share_reply_content
    from fsskernels.federated.hetero import client_factors, factor_downlink
    from fsskernels.federated.service import SealedSeedAggregator

    rng = np.random.default_rng(4)  # csprng-ok: public test data
    shapes = {"layer0.query": (12, 10), "layer0.value": (12, 10)}
    ranks, w = [2, 4, 8], [6, 2, 9]
    agg0 = SealedSeedAggregator(min_clients=2)
    strat = SecureFedAvg(agg0, mode="values", downlink=factor_downlink(8))
    strat._global = ArrayRecord({k: Array(np.zeros(s)) for k, s in shapes.items()})  # set by configure_train in a run
    prods, replies = [], []
    for i, r in enumerate(ranks):
        p = {k: lora_product(rng.normal(0, 0.2, (s[0], r)), rng.normal(0, 0.2, (r, s[1])), 16 / r)
             for k, s in shapes.items()}
        prods.append(p)
        content = share_reply_content(ArrayRecord({k: Array(v) for k, v in p.items()}), {"num-examples": w[i]},
                                      context=strat.context(1), agg0_public_key=agg0.public_key)
        replies.append(SimpleNamespace(content=content, metadata=SimpleNamespace(src_node_id=100 + i),
                                       has_error=lambda: False))
    avg_rec, metrics = strat.aggregate_train(1, replies)
    assert metrics["secagg-total-weight"] == sum(w) and metrics["secagg-clients"] == 3
    ref = {k: sum(wi * p[k] for wi, p in zip(w, prods)) / sum(w) for k in shapes}
    got = {k: a.numpy() for k, a in avg_rec.items()}
    for k in shapes:
        assert np.max(np.abs(got[k] - ref[k])) <= 2.0 ** -17
    down = factor_downlink(8)(avg_rec)
    assert sum(a.numpy().size for a in down.values()) == 2 * 8 * (12 + 10)  # r_max (out + in) per module
    for r in ranks:
        fac = client_factors(down, r, scaling=16 / r)
        for k in shapes:
            U, S, Vt = np.linalg.svd(ref[k])
            B, A = fac[k]
            assert np.allclose((16 / r) * B @ A, (U[:, :r] * S[:r]) @ Vt[:r], atol=1e-4)
