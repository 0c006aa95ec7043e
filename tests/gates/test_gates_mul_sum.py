"""mul_sum_to: sums of products truncated once, against exact integer arithmetic on the same
fixed-point inputs (Python ints: floor(sum a_i b_i / 2^shift)), and its traffic against
mul_to's (one truncation per output element, not per product)."""
import numpy as np
import pytest
import torch

from fsskernels.mpc.gates.spline import mul_sum_to, mul_to, mul_unreduced

from gate_helpers import shared
from gate_model import enc


def _floor_sum(a_int, b_int, dims, shift):
    """floor(sum(a * b) / 2^shift) over dims (keepdim) in Python integers (no wrap-around)."""
    a = np.array(a_int.tolist(), dtype=object)
    b = np.array(b_int.tolist(), dtype=object)
    tot = (a * b).sum(axis=dims, keepdims=True)
    return torch.tensor([v >> shift for v in tot.reshape(-1)], dtype=torch.int64).reshape(tot.shape)


@pytest.mark.parametrize("shape_a,shape_b,dims,ring", [
    ((4, 3, 16), (4, 3, 16), (2,), None),       # softmax backward: row sums
    ((4, 3, 16), (1, 1, 16), (2,), None),       # broadcast weight
    ((2, 5, 8), (2, 5, 8), (1, 2), 64),         # several dims, 64-bit ring
])
def test_mul_sum_to_is_the_exact_floor_of_the_sum(run2, shape_a, shape_b, dims, ring):
    g = torch.Generator().manual_seed(7)  # test data only
    a = torch.randn(shape_a, generator=g, dtype=torch.float64) * 3
    b = torch.randn(shape_b, generator=g, dtype=torch.float64)

    def prog_reveal(s):
        y = mul_sum_to(shared(s, a), shared(s, b, owner=1), dims, 16, ring_bits=ring)
        return y.frac_bits, y.reveal()

    frac, y = run2(prog_reveal)
    ref = _floor_sum(enc(a), enc(b), dims, 16)
    assert frac == 16
    assert torch.equal(torch.round(y * 2.0 ** 16).to(torch.int64), ref)
    assert (y - (a * b).sum(dim=dims, keepdim=True)).abs().max().item() < 1e-3


def test_mul_sum_to_truncates_once_per_output(run2):
    rows, n = 32, 64
    g = torch.Generator().manual_seed(8)  # test data only
    a = torch.randn(rows, n, generator=g, dtype=torch.float64)
    b = torch.randn(rows, n, generator=g, dtype=torch.float64)

    def trunc_bytes(s, fn):
        A, B = shared(s, a), shared(s, b, owner=1)
        s.reset_stats()
        fn(A, B)
        return s.stats()["protocols"]["mul/trunc"]["bytes"]

    def prog(s):
        summed = trunc_bytes(s, lambda A, B: mul_sum_to(A, B, -1, 16))
        per_row = trunc_bytes(s, lambda A, B: mul_to(A[:, :1], B[:, :1], 16))
        per_elem = trunc_bytes(s, lambda A, B: mul_to(A, B, 16))
        return summed, per_row, per_elem

    summed, per_row, per_elem = run2(prog)
    assert summed == per_row            # rows truncations, as a product of rows elements
    assert per_elem > 32 * summed       # rows * n truncations before


def test_mul_sum_to_bad_dims(run2):
    def prog(s):
        x = shared(s, torch.ones(2, 3, dtype=torch.float64))
        with pytest.raises(ValueError, match="dims"):
            mul_sum_to(x, x, (), 16)
        return True

    assert run2(prog)


def test_mul_unreduced_terms_summed_then_truncated(run2):
    """u = a * b - c * d (broadcast rows) truncated once equals the floor of the exact sum."""
    g = torch.Generator().manual_seed(9)  # test data only
    a, b = torch.randn(3, 8, generator=g, dtype=torch.float64), torch.randn(3, 1, generator=g, dtype=torch.float64)
    c, d = torch.randn(3, 8, generator=g, dtype=torch.float64), torch.randn(1, 8, generator=g, dtype=torch.float64)

    def prog(s):
        u = mul_unreduced(shared(s, a), shared(s, b, owner=1)) - mul_unreduced(shared(s, c), shared(s, d, owner=1))
        return u.truncated(16).reveal()

    y = run2(prog)
    ea, eb, ec, ed = (np.array(enc(t).tolist(), dtype=object) for t in (a, b, c, d))
    exact = ea * eb - ec * ed
    want = torch.tensor([[v >> 16 for v in row] for row in exact.tolist()], dtype=torch.int64)
    assert torch.equal(torch.round(y * 2.0 ** 16).to(torch.int64), want)


def test_layer_norm_ring_width():
    from types import SimpleNamespace

    from fsskernels.mpc import FixedPointConfig
    from fsskernels.mpc.gates.composite import _layer_norm_ring

    s = SimpleNamespace(frac_bits=16, config=FixedPointConfig())
    assert _layer_norm_ring(s, 384, (-14, 10)) == 54      # 9 + 10 + 32 + 2 = 53 -> mul_bits
    assert _layer_norm_ring(s, 4096, (-14, 10)) == 56     # 12 + 10 + 32 + 2
    assert _layer_norm_ring(s, 4096, (-14, 40)) == 64     # capped
    with pytest.raises(ValueError, match="var_domain"):
        _layer_norm_ring(s, 384, None)


def test_layer_norm_backward_sends_two_openings_and_one_truncation_per_element(run2):
    """Per element and direction: grad and g = grad * weight opened (54 bits each), g's
    truncation and dx's one truncation (54 + 1 bits each); everything else is per row (the
    unfused backward sent 402 bits per element: two more truncations and x-hat's 64-bit term)."""
    rows, h = 8, 384
    g = torch.Generator().manual_seed(10)  # test data only
    x = torch.randn(rows, h, generator=g, dtype=torch.float64)
    gy = torch.randn(rows, h, generator=g, dtype=torch.float64)
    w = 1 + 0.1 * torch.randn(h, generator=g, dtype=torch.float64)

    def prog(s):
        import fsskernels.mpc.functional as MF

        X, G, W = shared(s, x), shared(s, gy, owner=1), shared(s, w, owner=1)
        c = MF.Ctx()
        MF.layer_norm(X, (h,), W, None, ctx=c)
        s.reset_stats()
        MF.layer_norm_backward(c, G)
        return s.stats()["total"]["bytes_sent"]

    sent = run2(prog)
    per_element = (54 + 55 + 54 + 55) / 8
    assert sent <= rows * h * per_element + rows * 100
