"""Comparison gates against plaintext, bit-exact: drelu, relu (+ backward), lt/gt/le/ge,
where, clamp, amax; bad inputs."""
import pytest
import torch

import fsskernels.mpc.functional as MF
from fsskernels import mpc

from gate_helpers import edge_values, shared
from gate_model import enc


def _x():
    g = torch.Generator().manual_seed(3)  # test data only
    x = torch.cat([torch.randn(3000, generator=g, dtype=torch.float64) * 50, edge_values(-1.0, 1.0)])
    return enc(x).double() / 2 ** 16  # exactly representable


def test_relu_drelu_and_backward_are_exact(run2):
    x = _x()
    g = torch.flip(x, [0])

    def prog(s):
        X, G = shared(s, x), shared(s, g, owner=1)
        ctx = MF.Ctx()
        y = MF.relu(X, ctx=ctx)
        return MF.drelu(X).reveal(), y.reveal(), MF.relu_backward(ctx, G).reveal(), X.relu().reveal()

    b, y, dx, y2 = run2(prog)
    assert torch.equal(b, (x >= 0).to(torch.int64))
    assert torch.equal(y, torch.relu(x)) and torch.equal(y2, y)
    assert torch.equal(dx, g * (x >= 0))


def test_comparisons_where_clamp_are_exact(run2):
    x = _x()
    z = torch.roll(x, 7)

    def prog(s):
        X, Z = shared(s, x), shared(s, z, owner=1)
        return (MF.lt(X, Z).reveal(), MF.gt(X, Z).reveal(), MF.le(X, 0.5).reveal(), MF.ge(X, Z).reveal(),
                (X < 0.25).reveal(), MF.gt(1.5, X).reveal(),
                MF.where(MF.lt(X, Z), X, Z).reveal(), MF.where(MF.lt(X, 0), 1.0, X).reveal(),
                MF.clamp(X, -2.0, 3.0).reveal(), MF.clamp(X, min=1.0).reveal(), X.clamp(max=-1.0).reveal())

    lt, gt, le, ge, lt2, gt2, w1, w2, c1, c2, c3 = run2(prog)
    i64 = lambda b: b.to(torch.int64)  # noqa: E731
    assert torch.equal(lt, i64(x < z)) and torch.equal(gt, i64(x > z)) and torch.equal(ge, i64(x >= z))
    assert torch.equal(le, i64(x <= 0.5)) and torch.equal(lt2, i64(x < 0.25)) and torch.equal(gt2, i64(1.5 > x))
    assert torch.equal(w1, torch.minimum(x, z)) and torch.equal(w2, torch.where(x < 0, torch.ones_like(x), x))
    assert torch.equal(c1, x.clamp(-2, 3)) and torch.equal(c2, x.clamp(min=1)) and torch.equal(c3, x.clamp(max=-1))


def test_relu_shifted_opens_x_once_and_is_exact(run2):
    """k relus of x - t_j under one opening: exact, and the traffic is one 64-bit opening plus
    k masked bits per element each way (relu alone: 64 + 1 per relu)."""
    from fsskernels.mpc.gates.compare import relu_shifted

    x = _x()
    shifts = [-4.0, 4.0 - 2.0 ** -16, 0.0]

    def prog(s):
        X = shared(s, x)
        s.reset_stats()
        ys = relu_shifted(X, shifts)
        sent = s.stats()["total"]["bytes_sent"]
        return [y.reveal() for y in ys], sent, relu_shifted(X, [])

    ys, sent, none = run2(prog)
    for y, t in zip(ys, shifts):
        assert torch.equal(y, torch.relu(x - t))
    n = x.numel()
    assert sent == n * 8 + (len(shifts) * n + 7) // 8 and none == []


@pytest.mark.parametrize("n", [1, 2, 7, 128])
def test_amax_is_exact(run2, n):
    g = torch.Generator().manual_seed(n)  # test data only
    x = enc(torch.randn(3, n, 5, generator=g, dtype=torch.float64) * 10).double() / 2 ** 16

    def prog(s):
        X = shared(s, x)
        return MF.amax(X, 1).reveal(), MF.max(X, -1, keepdim=True).reveal(), X.amax(0).reveal()

    a, b, c = run2(prog)
    assert torch.equal(a, x.amax(1)) and torch.equal(b, x.amax(-1, keepdim=True)) and torch.equal(c, x.amax(0))


def test_bad_inputs_raise_value_error_naming_the_argument():
    s0, s1, _ = mpc.local_sessions(seed=5)
    t = mpc.SharedTensor(s0, torch.zeros(4, dtype=torch.int64), 16)
    other = mpc.SharedTensor(mpc.local_sessions(seed=6)[0], torch.zeros(4, dtype=torch.int64), 16)
    with pytest.raises(ValueError, match="bits"):
        MF.drelu(t, bits=70)
    with pytest.raises(ValueError, match="bits"):
        MF.relu(t, bits=10)                      # narrower than the fixed-point scale
    with pytest.raises(ValueError, match="input"):
        MF.relu(torch.zeros(4))
    with pytest.raises(ValueError, match="condition"):
        MF.where(t, t, t)                        # not a shared bit
    with pytest.raises(ValueError, match="clamp"):
        MF.clamp(t, 2.0, 1.0)
    with pytest.raises(ValueError, match="different sessions"):
        MF.lt(t, other)
    with pytest.raises(ValueError, match="empty"):
        MF.amax(mpc.SharedTensor(s0, torch.zeros(2, 0, dtype=torch.int64), 16), 1)


def test_relu_shifted_low_bits_only_is_exact_mod_2_bits(run2):
    """low_bits_only: C opened at 32 bits (4 bytes + k bits per element each way); the shares
    sum to relu(x - t) mod 2^32 exactly (their high bits are not meaningful)."""
    from fsskernels.mpc.gates.compare import relu_shifted

    x = _x()
    shifts = [-4.0, 4.0 - 2.0 ** -16]

    def prog(s):
        X = shared(s, x)
        s.reset_stats()
        ys = relu_shifted(X, shifts, 32, low_bits_only=True)
        return [y.share for y in ys], s.stats()["total"]["bytes_sent"]

    (s0, sent), (s1, _) = mpc.run_local(prog, seed=11)
    for a, b, t in zip(s0, s1, shifts):
        want = enc(torch.relu(x - t)) & 0xFFFFFFFF
        assert torch.equal((a + b) & 0xFFFFFFFF, want)
    n = x.numel()
    assert sent == n * 4 + (len(shifts) * n + 7) // 8


@pytest.mark.parametrize("gate,open_bytes", [("exp", 4), ("sigmoid", 4), ("tanh", 4), ("gelu", 8)])
def test_smooth_gate_clamps_open_x_at_32_bits_unless_a_tail_needs_64(run2, gate, open_bytes):
    """exp, sigmoid and tanh use their clamped input only through the spline (its low 32 bits):
    x is opened mod 2^32; GeLU adds x itself above the domain, so its clamp opens 64 bits."""
    x = _x()

    def prog(s):
        X = shared(s, x)
        s.reset_stats()
        getattr(MF, gate)(X)
        return s.stats()["protocols"][f"{gate}/relu"]["bytes_sent"]

    n = x.numel()
    assert run2(prog) == n * open_bytes + (2 * n + 7) // 8
