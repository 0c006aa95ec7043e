"""FrozenLinear, Linear and LoRALinear on shares vs torch float64 autograd (the twin math).
Bounds: outputs and gradients within 2e-3 absolute (truncation: < 1 unit = 1.5e-5 per
product, a few products chained, values O(1))."""
import pytest
import torch

from fsskernels import mpc, nn
from fsskernels.nn import twin
from nn_helpers import fx, randn

IN, OUT, R = 12, 10, 4


def _data():
    return dict(w=randn(OUT, IN, seed=1, scale=0.3), b=randn(OUT, seed=2, scale=0.1), A=randn(R, IN, seed=3, scale=0.3),
                B=randn(OUT, R, seed=4, scale=0.3), x=randn(2, 3, IN, seed=5), g=randn(2, 3, OUT, seed=6, scale=0.5))


def _mine(s, owner, v):
    return v if s.party == owner else None


def _lora_prog(s, d, alpha):
    base = nn.FrozenLinear(s, IN, OUT, _mine(s, 1, d["w"]), _mine(s, 1, d["b"]), owner=1)
    lay = nn.LoRALinear(s, base, R, alpha, 0.0, _mine(s, 0, d["A"]), _mine(s, 0, d["B"]), owner=0)
    X = mpc.share(s, _mine(s, 0, d["x"]), owner=0, shape=d["x"].shape)
    G = mpc.share(s, _mine(s, 0, d["g"]), owner=0, shape=d["g"].shape)
    y = lay(X)
    dx = lay.backward(G)
    names = sorted(lay.parameters())
    return y.reveal(), dx.reveal(), lay.lora_A.grad.reveal(), lay.lora_B.grad.reveal(), names


@pytest.mark.parametrize("alpha", [8.0, 6.0, 4.0])  # scaling 2 (integral, local), 1.5 (truncated), 1
def test_lora_linear_forward_backward(gates_impl, alpha):
    d = _data()
    (y, dx, dA, dB, names), _ = mpc.run_local(_lora_prog, d, alpha, seed=7)
    assert names == ["lora_A", "lora_B"]
    x = fx(d["x"]).requires_grad_(True)
    A, B = fx(d["A"]).requires_grad_(True), fx(d["B"]).requires_grad_(True)
    ref = twin.lora_linear(x, fx(d["w"]), fx(d["b"]), A, B, alpha / R)
    ref.backward(fx(d["g"]))
    for got, want in ((y, ref), (dx, x.grad), (dA, A.grad), (dB, B.grad)):
        assert got.shape == want.shape
        assert (got - want).abs().max().item() < 2e-3


def _linear_prog(s, d, shared_weight):
    if shared_weight:
        W = mpc.share(s, _mine(s, 1, d["w"]), owner=1, shape=d["w"].shape)
        base = nn.FrozenLinear(s, IN, OUT, W, _mine(s, 1, d["b"]), owner=1)
    else:
        base = nn.FrozenLinear(s, IN, OUT, _mine(s, 1, d["w"]), _mine(s, 1, d["b"]), owner=1)
    head = nn.Linear(s, OUT, 3, _mine(s, 0, d["w"][:3, :OUT]), _mine(s, 0, d["b"][:3]), owner=0)
    X = mpc.share(s, _mine(s, 0, d["x"]), owner=0, shape=d["x"].shape)
    G = mpc.share(s, _mine(s, 0, d["g"][..., :3]), owner=0, shape=(2, 3, 3))
    y = head(base(X))
    dx = base.backward(head.backward(G))
    return y.reveal(), dx.reveal(), head.weight.grad.reveal(), head.bias.grad.reveal(), sorted(head.parameters())


@pytest.mark.parametrize("shared_weight", [False, True])
def test_frozen_and_trainable_linear(shared_weight):
    d = _data()
    (y, dx, dW, db, names), _ = mpc.run_local(_linear_prog, d, shared_weight, seed=8)
    assert names == ["bias", "weight"]
    x = fx(d["x"]).requires_grad_(True)
    W2, b2 = fx(d["w"][:3, :OUT]).requires_grad_(True), fx(d["b"][:3]).requires_grad_(True)
    ref = twin.linear(twin.linear(x, fx(d["w"]), fx(d["b"])), W2, b2)
    ref.backward(fx(d["g"][..., :3]))
    for got, want in ((y, ref), (dx, x.grad), (dW, W2.grad), (db, b2.grad)):
        assert (got - want).abs().max().item() < 2e-3


def test_bad_arguments():
    def prog(s):
        nn.FrozenLinear(s, IN, OUT, _mine(s, 1, torch.zeros(OUT, IN + 1)), None, owner=1, has_bias=False)

    def prog2(s):
        base = nn.FrozenLinear(s, IN, OUT, _mine(s, 1, torch.zeros(OUT, IN)), None, owner=1, has_bias=False)
        with pytest.raises(ValueError, match="r: must be"):
            nn.LoRALinear(s, base, 0, 1.0)
        with pytest.raises(ValueError, match="x: last dimension"):
            base(mpc.from_public(s, torch.zeros(2, IN + 1)))
        with pytest.raises(RuntimeError, match="no saved forward state"):
            nn.Linear(s, 2, 2, _mine(s, 0, torch.zeros(2, 2)), _mine(s, 0, torch.zeros(2)), owner=0).backward(
                mpc.from_public(s, torch.zeros(1, 2)))
        return True

    # party 1's weight has the wrong shape: it raises before sending, party 0 sees the peer fail
    with pytest.raises(ValueError, match="linear.weight: expected shape"):
        mpc.run_local(prog, seed=1, timeout=5)
    assert mpc.run_local(prog2, seed=1) == (True, True)


def test_fused_frozen_linear_and_slices():
    """[W1; W2] as one frozen matrix: split outputs, the concatenated backward and the
    standalone slices all match autograd; the fused forward is one product."""
    d = _data()
    w2, b2 = randn(4, IN, seed=11, scale=0.3), randn(4, seed=12, scale=0.1)

    def prog(s):
        fused = nn.FusedFrozenLinear(s, IN, (OUT, 4), [d["w"], w2] if s.party == 1 else None,
                                     [d["b"], b2] if s.party == 1 else None, owner=1)
        X = mpc.share(s, _mine(s, 0, d["x"]), owner=0, shape=d["x"].shape)
        G1 = mpc.share(s, _mine(s, 0, d["g"]), owner=0, shape=d["g"].shape)
        G2 = mpc.share(s, _mine(s, 0, d["g"][..., :4]), owner=0, shape=(2, 3, 4))
        s.reset_stats()
        y1, y2 = fused.forward_split(X)
        n_products = s.stats()["protocols"]["matmul_frozen"]["rounds"]  # one product: E, then c in the same round
        dx = fused.backward_cat([G1, G2])
        part = fused.part(1)
        y2s, dx2s = part(X), part.backward(G2)
        return [t.reveal() for t in (y1, y2, dx, y2s, dx2s)] + [n_products]

    (y1, y2, dx, y2s, dx2s, n_products), _ = mpc.run_local(prog, seed=9)
    assert n_products == 1
    x = fx(d["x"])
    assert (y1 - twin.linear(x, fx(d["w"]), fx(d["b"]))).abs().max().item() < 2e-3
    assert (y2 - twin.linear(x, fx(w2), fx(b2))).abs().max().item() < 2e-3
    assert (y2s - y2).abs().max().item() < 2e-3
    g1, g2 = fx(d["g"]), fx(d["g"][..., :4])
    assert (dx - (g1 @ fx(d["w"]) + g2 @ fx(w2))).abs().max().item() < 2e-3
    assert (dx2s - g2 @ fx(w2)).abs().max().item() < 2e-3
