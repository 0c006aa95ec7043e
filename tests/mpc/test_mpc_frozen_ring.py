"""freeze_owned(bits=L'): a frozen product in a narrower ring than mul_bits. Against float64
x @ W: exact for one-hot rows at one fractional bit (the embedding lookup's use), L' bits
per opened element on the wire, and bad widths refused."""
from __future__ import annotations

import math

import pytest
import torch

from fsskernels import mpc

W = torch.tensor([[0.5, -1.25, 3.0], [-7.0, 2.0, 0.0078125], [1.5, 0.25, -0.75], [63.0, -63.5, 1.0]],
                 dtype=torch.float64)


def _prog(s, bits):
    F = mpc.freeze_owned(s, W if s.party == 1 else None, owner=1, shape=W.shape, bits=bits)
    hot = torch.eye(4, dtype=torch.float64)[[3, 0, 2, 1, 3]]
    x = mpc.share(s, hot if s.party == 0 else None, owner=0, shape=hot.shape, frac_bits=1)
    s.reset_stats()
    y = x @ F
    return y.reveal(to=0), s.stats()["protocols"]["matmul_frozen"]["bytes_sent"]


@pytest.mark.parametrize("bits", [26, 30, 54])
def test_narrow_ring_frozen_product_is_exact(bits):
    (y, sent), _ = mpc.run_local(_prog, bits, seed=2)
    want = W[[3, 0, 2, 1, 3]]
    assert torch.equal(y, want)  # one-hot rows: the product is one table row, exactly
    n_x, n_z = 5 * 4, 5 * 3
    assert sent == math.ceil(n_x * bits / 8) + math.ceil(n_z * bits / 8)


@pytest.mark.parametrize("bits", [7, 55, 65, "26", True])
def test_bad_ring_width(bits):
    def prog(s):
        mpc.freeze_owned(s, W if s.party == 1 else None, owner=1, shape=W.shape, bits=bits)

    with pytest.raises(ValueError, match="bits"):
        mpc.run_local(prog, seed=1)
