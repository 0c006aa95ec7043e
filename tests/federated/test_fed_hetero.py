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
