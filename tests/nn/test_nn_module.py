"""The module system (names, train/eval, zero_grad, one backward per forward) and dropout in
training mode (LoRA dropout: the adapters see dropout(x), the frozen base sees x)."""
import pytest
import torch

import oracle_gates
from fsskernels import mpc, nn
from fsskernels.nn import twin
from fsskernels.nn.gates import use_gates
from nn_helpers import fx, randn


def test_names_modes_and_state():
    def prog(s):
        base = nn.FrozenLinear(s, 4, 4, torch.eye(4) if s.party == 1 else None, None, owner=1, has_bias=False)
        lora = nn.LoRALinear(s, base, 2, 2.0, 0.1, torch.ones(2, 4) if s.party == 0 else None,
                             torch.zeros(4, 2) if s.party == 0 else None)
        head = nn.Linear(s, 4, 2, torch.ones(2, 4) if s.party == 0 else None, torch.zeros(2) if s.party == 0 else None)
        seq = nn.Sequence(lora, nn.Dropout(0.5), head)
        names = sorted(seq.parameters())
        seq.eval()
        modes = [m.training for _, m in seq.named_modules()]
        x = mpc.from_public(s, torch.ones(3, 4))
        y = x
        for m in seq:
            y = m(y)
        g = mpc.from_public(s, torch.ones(3, 2))
        for m in reversed(list(seq)):
            g = m.backward(g)
        with_grad = sorted(n for n, p in seq.parameters().items() if p.grad is not None)
        seq.zero_grad()
        cleared = all(p.grad is None for p in seq.parameters().values())
        with pytest.raises(RuntimeError, match="Linear.backward: no saved forward state"):
            head.backward(mpc.from_public(s, torch.ones(3, 2)))
        return names, modes, with_grad, cleared

    with use_gates(oracle_gates):
        (names, modes, with_grad, cleared), _ = mpc.run_local(prog, seed=2)
    assert names == ["0.lora_A", "0.lora_B", "2.bias", "2.weight"]
    assert not any(modes)
    assert with_grad == names and cleared


def test_lora_dropout_in_training_mode():
    IN, OUT, R, P = 6, 5, 2, 0.5
    w, A, B = randn(OUT, IN, seed=1, scale=0.3), randn(R, IN, seed=2), randn(OUT, R, seed=3)
    x, g = randn(4, IN, seed=4), randn(4, OUT, seed=5)

    def prog(s):
        base = nn.FrozenLinear(s, IN, OUT, w if s.party == 1 else None, None, owner=1, has_bias=False)
        lay = nn.LoRALinear(s, base, R, 2.0 * R, P, A if s.party == 0 else None, B if s.party == 0 else None)
        X = mpc.share(s, x if s.party == 0 else None, owner=0, shape=x.shape)
        y = lay(X)
        dx = lay.backward(mpc.share(s, g if s.party == 0 else None, owner=0, shape=g.shape))
        return y.reveal(), dx.reveal(), lay.lora_A.grad.reveal()

    with use_gates(oracle_gates):
        (y, dx, dA), _ = mpc.run_local(prog, seed=3)
    # the oracle's public test mask (see oracle_gates.dropout)
    gen = torch.Generator().manual_seed(oracle_gates._DROP_SEED[0] + x.numel())  # csprng-ok: test
    keep = (torch.rand(tuple(x.shape), generator=gen, dtype=torch.float64) >= P).to(torch.float64) / (1 - P)
    assert 0 < (keep == 0).sum() < keep.numel()
    xr, Ar = fx(x).requires_grad_(True), fx(A).requires_grad_(True)
    ref = twin.linear(xr, fx(w)) + ((xr * keep) @ Ar.T * 2.0) @ fx(B).T
    ref.backward(fx(g))
    assert (y - ref).abs().max().item() < 2e-3
    assert (dx - xr.grad).abs().max().item() < 2e-3
    assert (dA - Ar.grad).abs().max().item() < 2e-3


def test_dropout_layer_uses_one_mask(gates_impl):
    """Dropout(0.5) on ones: every output is 0 or 2, both occur, and the backward of ones
    applies the same mask (dx == y); eval mode is the identity."""
    def prog(s):
        d = nn.Dropout(0.5)
        x = mpc.from_public(s, torch.ones(8, 16))
        y = d(x)
        dx = d.backward(mpc.from_public(s, torch.ones(8, 16)))
        d.eval()
        z = d(x)
        return y.reveal(), dx.reveal(), z.reveal()

    (y, dx, z), _ = mpc.run_local(prog, seed=5)
    assert torch.allclose(dx, y, atol=1e-3)
    assert bool(((y - 0).abs() < 1e-3).any()) and bool(((y - 2).abs() < 1e-3).any())
    assert bool((((y - 0).abs() < 1e-3) | ((y - 2).abs() < 1e-3)).all())
    assert torch.equal(z, torch.ones(8, 16, dtype=torch.float64))
