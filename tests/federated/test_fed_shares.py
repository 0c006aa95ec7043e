"""Aggregation on shares against plaintext float64 weighted FedAvg."""
import numpy as np
import pytest

from fsskernels.federated import aggregator as agg
from fsskernels.federated.shares import encode_weighted, expand_seed, share_update, share_vector
from fsskernels.mpc.rng import CtrStream


def _updates(n, d, seed=0):
    rng = np.random.default_rng(seed)  # csprng-ok: public test data
    return rng.normal(0, 0.02, size=(n, d)), rng.integers(1, 500, size=n)


def _seed(i):
    return CtrStream.from_seed(i, "fed-test").random_seed16()


@pytest.mark.parametrize("n", [1, 3, 17])
def test_aggregate_equals_weighted_fedavg(n):
    x, w = _updates(n, 257, seed=n)
    shares = {i: share_update(x[i], int(w[i]), seed=_seed(i)) for i in range(n)}
    s, W = agg.aggregate_round(shares)
    ref = (w[:, None] * x).sum(0) / w.sum()
    assert W == int(w.sum())
    # bound from the module doc: n * 2^-17 / W <= 2^-17
    assert np.max(np.abs(s / W - ref)) <= n * 2.0 ** -17 / w.sum() + 1e-15
    assert np.max(np.abs(s - (w[:, None] * x).sum(0))) <= n * 2.0 ** -17 + 1e-12


def test_each_share_alone_is_not_the_update():
    x, w = _updates(1, 64)
    sh = share_update(x[0], int(w[0]), seed=_seed(1))
    v = encode_weighted(x[0], int(w[0]))
    r = expand_seed(sh.seed, v.size)
    assert np.array_equal(r + sh.masked, v)
    # the masked vector is full-range garbage, not the small encoded values
    assert np.mean(np.abs(sh.masked.view(np.int64)) > 2 ** 40) > 0.9
    assert sh.upload_bytes == 16 + 8 * 65


def test_seed_expansion_is_aes_ctr():
    from Crypto.Cipher import AES

    seed = bytes(range(16))
    r = expand_seed(seed, 5)
    blocks = b"".join(AES.new(seed, AES.MODE_ECB).encrypt(i.to_bytes(16, "little")) for i in range(3))
    assert np.array_equal(r, np.frombuffer(blocks, np.uint64)[:5])


def test_fresh_seeds_differ():
    v = np.arange(1, 9, dtype=np.uint64)
    a, b = share_vector(v), share_vector(v)
    assert a.seed != b.seed and not np.array_equal(a.masked, b.masked)


def test_dropout_leaves_exact_aggregate_of_survivors():
    n, d = 6, 100
    x, w = _updates(n, d, seed=7)
    shares = {i: share_update(x[i], int(w[i]), seed=_seed(i)) for i in range(n)}
    a1 = agg.MaskedAggregator(d + 1)
    survivors = [0, 2, 3, 5]  # 1 and 4 never uploaded
    for i in survivors:
        a1.add(i, shares[i].masked)
    a0 = agg.SeedAggregator(min_clients=3)
    s0 = a0.aggregate(1, {i: shares[i].seed for i in a1.clients}, d + 1)
    avg = agg.fedavg(s0, a1.total())
    ws = w[survivors]
    ref = (ws[:, None] * x[survivors]).sum(0) / ws.sum()
    assert np.max(np.abs(avg - ref)) <= 2.0 ** -17
    with pytest.raises(agg.AggregationError, match="already"):
        a0.aggregate(1, {i: shares[i].seed for i in survivors[:3]}, d + 1)
    with pytest.raises(agg.AggregationError, match="min_clients"):
        a0.aggregate(2, {0: shares[0].seed}, d + 1)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="weight"):
        share_update([0.1], 0)
    with pytest.raises(ValueError, match="weight"):
        share_update([0.1], 2.5)
    with pytest.raises(ValueError, match="update"):
        share_update([np.nan], 1)
    with pytest.raises(ValueError, match="update"):
        share_update([], 1)
    with pytest.raises(ValueError, match="update"):
        share_update([1e14], 10)
    with pytest.raises(ValueError, match="seed"):
        expand_seed(b"short", 3)
    a1 = agg.MaskedAggregator(4)
    with pytest.raises(ValueError, match="masked"):
        a1.add(0, np.zeros(3, np.uint64))
    a1.add(0, np.zeros(4, np.uint64))
    with pytest.raises(ValueError, match="client_id"):
        a1.add(0, np.zeros(4, np.uint64))
    with pytest.raises(ValueError, match="sum0"):
        agg.reveal(np.zeros(3, np.uint64), np.zeros(4, np.uint64))
