"""Hidden-pattern top-k on shares (MF comparison gates) == plaintext top-k pruned FedAvg."""
import numpy as np
import pytest

from fsskernels.federated.shares import expand_seed, share_update
from fsskernels.federated.sparse import keep_indices
from fsskernels.mpc.rng import CtrStream

MF = pytest.importorskip("fsskernels.mpc.functional")


def test_topk_on_shares_matches_plaintext():
    from fsskernels.federated.topk_shares import aggregate_topk

    n, d, ratio = 3, 40, 0.5
    rng = np.random.default_rng(5)  # csprng-ok: public test data
    x = rng.normal(0, 0.05, size=(n, d))
    w = np.array([3, 4, 9])
    sh = [share_update(x[i], int(w[i]), seed=CtrStream.from_seed(i, "topk").random_seed16()) for i in range(n)]
    s0 = np.stack([expand_seed(h.seed, d + 1) for h in sh])
    s1 = np.stack([h.masked for h in sh])
    wsum, total, stats = aggregate_topk(s0, s1, ratio, iters=22, seed=1)
    assert total == w.sum()
    ref = np.zeros(d)
    for i in range(n):
        k = keep_indices(w[i] * x[i], ratio)  # magnitude order of w x == that of x (w > 0)
        ref[k] += w[i] * x[i, k]
    assert np.max(np.abs(wsum - ref)) <= n * 2.0 ** -17
    assert stats  # the session's byte/round accounting is returned
    with pytest.raises(ValueError, match="ratio"):
        aggregate_topk(s0, s1, 1.0)
