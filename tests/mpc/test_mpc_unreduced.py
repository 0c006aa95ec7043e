"""Unreduced products summed with a frozen product before its one truncation: exact against
Python-integer arithmetic on the same fixed-point inputs (floor((x W + h B) / 2^16)), in the
owner and the shared frozen modes; the LoRA layer's fused and unfused paths against each
other and against float math; bad terms refused with the argument named."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from fsskernels import mpc
from fsskernels.mpc.beaver import matmul_unreduced
from fsskernels.mpc.unreduced import Unreduced
from fsskernels.nn.linear import FrozenLinear, LoRALinear

F = 16
G = torch.Generator().manual_seed(5)  # test data only
X = torch.randn(2, 6, 12, generator=G, dtype=torch.float64)
W = torch.randn(12, 10, generator=G, dtype=torch.float64) * 0.3
H = torch.randn(2, 6, 4, generator=G, dtype=torch.float64)
B = torch.randn(4, 10, generator=G, dtype=torch.float64) * 0.5


def _enc(t):
    return np.array(torch.round(t * 2.0 ** F).to(torch.int64).tolist(), dtype=object)


def _exact_floor():
    """floor((X W + H B) / 2^16) in Python integers from the encoded inputs."""
    z = np.einsum("btk,kn->btn", _enc(X), _enc(W)) + np.einsum("btk,kn->btn", _enc(H), _enc(B))
    return torch.tensor([[[v >> F for v in row] for row in m] for m in z.tolist()], dtype=torch.int64)


def _share(s, t, owner):
    return mpc.share(s, t if s.party == owner else None, owner=owner, shape=t.shape)


@pytest.mark.parametrize("mode", ["owner", "shared"])
def test_frozen_product_plus_unreduced_term_is_one_exact_floor(mode):
    def prog(s):
        if mode == "owner":
            Fm = mpc.freeze_owned(s, W if s.party == 1 else None, owner=1, shape=W.shape)
        else:
            Fm = mpc.freeze(_share(s, W, 1))
        x, h, b = _share(s, X, 0), _share(s, H, 0), _share(s, B, 1)
        add = matmul_unreduced(h, b)
        y = Fm.rmatmul(x, add=add)
        return y.frac_bits, y.reveal()

    (frac, y), _ = mpc.run_local(prog, seed=3)
    assert frac == F
    assert torch.equal(torch.round(y * 2.0 ** F).to(torch.int64), _exact_floor())
    assert (y - (X @ W + H @ B)).abs().max().item() < 1e-4


def test_unreduced_sum_truncated():
    def prog(s):
        h, b, x = _share(s, H, 0), _share(s, B, 1), _share(s, X, 0)
        w = _share(s, W, 1)
        u = matmul_unreduced(h, b) + matmul_unreduced(x, w)
        return u.truncated(F).reveal()

    y, _ = mpc.run_local(prog, seed=4)
    assert torch.equal(torch.round(y * 2.0 ** F).to(torch.int64), _exact_floor())


def test_bad_unreduced_terms_are_refused():
    def prog(s):
        Fm = mpc.freeze_owned(s, W if s.party == 1 else None, owner=1, shape=W.shape)
        x, h, b = _share(s, X, 0), _share(s, H, 0), _share(s, B, 1)
        good = matmul_unreduced(h, b)
        bad = [
            (good.share, "Unreduced"),                                                  # not an Unreduced
            (Unreduced(s, good.share[:, :3], good.bits, good.frac_bits), "shape"),     # wrong shape
            (Unreduced(s, good.share, good.bits, F), "scale"),                         # wrong scale
            (Unreduced(s, good.share, 40, good.frac_bits), "narrower"),                # narrower ring
        ]
        for add, msg in bad:
            with pytest.raises(ValueError, match=msg):
                Fm.rmatmul(x, add=add)
        with pytest.raises(ValueError, match="scales differ"):
            good + Unreduced(s, good.share, good.bits, F)
        with pytest.raises(ValueError, match="shift"):
            good.truncated(0)
        ints = mpc.share(s, torch.ones(2, 2, dtype=torch.int64) if s.party == 0 else None, owner=0,
                         shape=(2, 2), frac_bits=0)
        with pytest.raises(ValueError, match="fixed-point"):
            matmul_unreduced(ints, ints)
        return True

    ok, _ = mpc.run_local(prog, seed=5)
    assert ok


def test_lora_layer_fused_truncation():
    """The LoRA layer over a FrozenLinear, forward and backward, with the adapter's products
    fused into the base's truncation and not: both close to float math; the fused one sends
    exactly one truncation per output element less (2 * (54 + 1) bits each)."""
    w = torch.randn(10, 12, generator=torch.Generator().manual_seed(6), dtype=torch.float64) * 0.3  # test data only
    A = torch.randn(4, 12, generator=torch.Generator().manual_seed(7), dtype=torch.float64) * 0.3  # test data only
    Bm = torch.randn(10, 4, generator=torch.Generator().manual_seed(8), dtype=torch.float64) * 0.3  # test data only
    g = torch.randn(2, 6, 10, generator=torch.Generator().manual_seed(9), dtype=torch.float64)  # test data only

    def prog(s, fuse):
        base = FrozenLinear(s, 12, 10, w if s.party == 1 else None, torch.zeros(10) if s.party == 1 else None, owner=1)
        lora = LoRALinear(s, base, 4, 8.0, A=A if s.party == 0 else None, B=Bm if s.party == 0 else None, owner=0)
        lora.fuses_truncation = fuse
        x, gs = _share(s, X, 0), _share(s, g, 0)
        s.reset_stats()
        y = lora(x)
        dx = lora.backward(gs)
        return y.reveal(), dx.reveal(), s.stats()["total"]["bytes"]

    xv = X.clone().requires_grad_()
    ref = xv @ w.T + 2.0 * (xv @ A.T) @ Bm.T
    ref.backward(g)
    sent = {}
    for fuse in (True, False):
        (y, dx, sent[fuse]), _ = mpc.run_local(prog, fuse, seed=6)
        assert (y - ref.detach()).abs().max().item() < 1e-3
        assert (dx - xv.grad).abs().max().item() < 1e-3
    n_out = 2 * 6 * 10 + 2 * 6 * 12          # forward outputs + input-gradient outputs
    assert sent[False] - sent[True] == pytest.approx(n_out * 2 * (54 + 1) / 8, rel=0.02)
