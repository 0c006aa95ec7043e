"""Aggregator 0 behind a socket gives the same sums as in process and keeps its policy."""
import threading

import numpy as np
import pytest

pytest.importorskip("cryptography")
from fsskernels.federated.aggregator import AggregationError, fedavg  # noqa: E402
from fsskernels.federated.remote import RemoteSeedAggregator, serve  # noqa: E402
from fsskernels.federated.sealing import seal_seed  # noqa: E402
from fsskernels.federated.service import masked_sum  # noqa: E402
from fsskernels.federated.shares import share_update  # noqa: E402
from fsskernels.federated.sparse import share_sparse  # noqa: E402


def test_remote_aggregator_round_trip(tmp_path):
    key = b"k" * 32
    box, ready = {}, threading.Event()

    def on_ready(lst, agg):
        box["addr"], box["agg"] = lst.address, agg
        ready.set()

    th = threading.Thread(target=serve, args=(("127.0.0.1", 0), key),
                          kwargs={"max_requests": 3, "ready": on_ready, "key_file": tmp_path / "agg0.key"}, daemon=True)
    th.start()
    assert ready.wait(10)
    remote = RemoteSeedAggregator(box["addr"], key)
    pk = remote.public_key()
    assert pk == box["agg"].public_key and (tmp_path / "agg0.key").stat().st_mode & 0o777 == 0o600
    rng = np.random.default_rng(2)  # csprng-ok: public test data
    x, w = rng.normal(0, 0.01, (3, 50)), [2, 3, 4]
    ups = [share_update(x[0], 2), share_sparse(x[1], 3, 0.5), share_update(x[2], 4)]
    sealed = {i: seal_seed(u.seed, pk, "r1") for i, u in enumerate(ups)}
    sealed[7] = seal_seed(ups[0].seed, pk, "another round")  # fails authentication: left out
    total, inc = remote.aggregate("r1", sealed, 51, patterns={1: ups[1].pattern})
    assert inc == [0, 1, 2]
    masked = {0: ups[0].masked, 1: ups[1].dense_masked(), 2: ups[2].masked}
    avg = fedavg(total, masked_sum(masked, inc, 51))
    xp = x.copy()
    drop = np.setdiff1d(np.arange(50), ups[1].indices)
    xp[1, drop] = 0
    assert np.max(np.abs(avg - (np.array(w)[:, None] * xp).sum(0) / 9)) <= 2.0 ** -17
    with pytest.raises(AggregationError, match="already"):
        remote.aggregate("r1", {0: sealed[0], 2: sealed[2]}, 51)
    with pytest.raises(ValueError):
        RemoteSeedAggregator(box["addr"], b"short")
    th.join(10)
    assert not th.is_alive()
