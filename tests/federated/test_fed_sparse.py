"""Pruning before sharing: schedule, pattern codec, byte savings, aggregate == pruned FedAvg."""
import numpy as np
import pytest

from fsskernels.federated import aggregator as agg
from fsskernels.federated.shares import share_update
from fsskernels.federated.sparse import (
    decode_pattern, dense_seed_share, encode_pattern, keep_indices, prune_ratio, share_sparse,
)
from fsskernels.mpc.rng import CtrStream


def test_schedule_rises_from_02_to_05():
    assert prune_ratio(1, 5) == pytest.approx(0.2)
    assert prune_ratio(5, 5) == pytest.approx(0.5)
    assert prune_ratio(3, 5) == pytest.approx(0.35)
    assert prune_ratio(1, 1) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="round_index"):
        prune_ratio(6, 5)


def test_keep_indices_by_magnitude():
    x = np.array([0.1, -3.0, 0.0, 2.0, -0.5, 0.5])
    assert keep_indices(x, 0.5).tolist() == [1, 3, 4]  # tie 0.5/-0.5: lower index
    assert keep_indices(x, 0.0).tolist() == list(range(6))
    with pytest.raises(ValueError, match="ratio"):
        keep_indices(x, 1.0)


@pytest.mark.parametrize("d,k", [(1000, 900), (1000, 10), (13, 5)])
def test_pattern_round_trip(d, k):
    rng = np.random.default_rng(d + k)  # csprng-ok: public test data
    idx = np.sort(rng.choice(d, k, replace=False))
    blob = encode_pattern(idx, d)
    assert len(blob) == 1 + min((d + 7) // 8, 4 * k)
    assert np.array_equal(decode_pattern(blob, d), idx)
    with pytest.raises(ValueError, match="blob"):
        decode_pattern(b"\x07" + blob[1:], d)


def test_sparse_aggregate_and_savings():
    n, d = 4, 73728 // 64
    rng = np.random.default_rng(3)  # csprng-ok: public test data
    x = rng.normal(0, 0.01, size=(n, d))
    w = np.array([10, 20, 30, 40])
    ratio = prune_ratio(5, 5)  # 0.5
    ups = [share_sparse(x[i], int(w[i]), ratio, seed=CtrStream.from_seed(i, "sp").random_seed16()) for i in range(n)]
    dense = share_update(x[0], 10)
    assert ups[0].upload_bytes <= 0.52 * dense.upload_bytes  # about 48% saved at p = 0.5
    a1 = agg.MaskedAggregator(d + 1)
    for i, u in enumerate(ups):
        a1.add(i, u.dense_masked())
    s0 = agg.SeedAggregator(2).aggregate(0, {i: u.seed for i, u in enumerate(ups)}, d + 1,
                                         patterns={i: u.pattern for i, u in enumerate(ups)})
    assert np.array_equal(s0, sum(dense_seed_share(u.seed, u.pattern, d) for u in ups))
    avg = agg.fedavg(s0, a1.total())
    pruned = np.zeros_like(x)
    for i in range(n):
        k = keep_indices(x[i], ratio)
        pruned[i, k] = x[i, k]
    ref = (w[:, None] * pruned).sum(0) / w.sum()
    assert np.max(np.abs(avg - ref)) <= 2.0 ** -17
    assert np.count_nonzero(pruned[0]) == d - int(np.floor(0.5 * d))
