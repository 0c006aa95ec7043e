"""Client shards: a partition of all examples; Dirichlet skew grows as alpha shrinks."""
import numpy as np
import pytest

from fsskernels.federated.data import dirichlet_split, iid_split


def _is_partition(parts, n):
    allidx = np.concatenate(parts)
    return allidx.size == n and np.array_equal(np.sort(allidx), np.arange(n))


def test_splits_partition_and_skew():
    y = np.repeat([0, 1], 300)
    assert _is_partition(iid_split(y, 7), 600)
    skewed = dirichlet_split(y, 10, 0.1, seed=1)
    flat = dirichlet_split(y, 10, 1000.0, seed=1)
    assert _is_partition(skewed, 600) and _is_partition(flat, 600)
    assert min(len(p) for p in skewed) >= 2

    def spread(parts):  # mean |fraction of class 1 - 0.5| over clients
        return np.mean([abs(y[p].mean() - 0.5) for p in parts])

    assert spread(skewed) > 0.2 > 0.05 > spread(flat)
    assert [p.tolist() for p in dirichlet_split(y, 10, 0.1, seed=1)] == [p.tolist() for p in skewed]


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_clients"):
        iid_split([0, 1], 0)
    with pytest.raises(ValueError, match="alpha"):
        dirichlet_split([0, 1, 0, 1], 2, 0.0)
    with pytest.raises(ValueError, match="labels"):
        dirichlet_split([0, 1, 0], 2, 1.0)
