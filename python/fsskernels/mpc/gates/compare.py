"""Comparisons and everything built from the sign bit: drelu, relu, lt/gt/le/ge, where,
clamp, amax.

drelu(x) = [x >= 0] as shared ring integers (frac_bits 0): one opening of x + r at ``bits``
bits (the ring is shrunk locally first: shares mod 2^bits of x mod 2^bits are free), a DCF
on bits - 1 bits (primitives.msb). Precondition: |x| < 2^(bits-1) ring units, i.e.
|x| < 2^(bits-1-frac_bits) as a real (default bits = 32: |x| < 32768 at frac_bits 16);
outside, the bit is that of x mod 2^bits (documented wrap, not an error).
relu(x) = drelu(x) * x: one more round (Beaver product of a bit and a value in Z_2^64, no
truncation, exact). Errors: none (exact) inside the domain.
"""
from __future__ import annotations

import torch

from .. import beaver
from ..tensor import SharedTensor, cat, stack
from .primitives import msb

DEFAULT_CMP_BITS = 32


def _check_shared(x, name: str = "input") -> SharedTensor:
    if not isinstance(x, SharedTensor):
        raise ValueError(f"{name}: expected a SharedTensor, got {type(x).__name__}")
    return x


def check_bits(bits, frac_bits: int) -> int:
    if isinstance(bits, bool) or not isinstance(bits, int) or not frac_bits + 2 <= bits <= 64:
        raise ValueError(f"bits: comparison width must be an integer in {frac_bits + 2}..64, got {bits!r}")
    return bits


def drelu(x: SharedTensor, bits: int = DEFAULT_CMP_BITS) -> SharedTensor:
    """Shared bit [x >= 0] (frac_bits 0). One round, ``bits`` bits per element each way."""
    _check_shared(x)
    check_bits(bits, x.frac_bits)
    s = x.session
    with s.protocol("drelu"):
        m = msb(s, x.share, bits)
    one = torch.ones((), dtype=torch.int64) if s.party == 0 else torch.zeros((), dtype=torch.int64)
    return SharedTensor(s, one - m, 0)


sign = drelu


def relu(x: SharedTensor, bits: int = DEFAULT_CMP_BITS, ctx=None) -> SharedTensor:
    """max(x, 0), exact. Two rounds, 65 bits per element each way; key: a 1-bit-output DCF
    on bits - 1 bits. ``ctx`` saves the shared bit [x >= 0] for relu_backward.

    Round 1 opens C = x + R (mod 2^64); its low ``bits`` bits give XOR shares of
    b = [x >= 0] = 1 xor msb(C) xor msb(R) xor [C' < R'] (C', R' mod 2^(bits-1); the DCF).
    Round 2 opens e = b xor rho (one bit each way) for the dealer's random bit rho; then
    [b] = e + (1 - 2e)[rho] and b x = e x + (1 - 2e)([rho] C - [rho R]) are linear in shares
    (x = C - R mod 2^64). Both openings are uniform (R and rho are fresh one-time pads)."""
    from .primitives import open_masked

    s = _check_shared(x).session
    check_bits(bits, x.frac_bits)
    with s.protocol("relu"):
        Rp, raw, mp, rhop, rho_a, rhoR = s.take("relu", (bits, x.numel()))
        xs = x.share.reshape(-1)
        (C,) = open_masked(s, [(xs + Rp, 64)])
        y, b = _relu_finish(s, xs, C, raw, mp, rhop, rho_a, rhoR, bits)
    if ctx is not None:
        ctx.save(bit=SharedTensor(s, b.reshape(x.shape), 0))
    return SharedTensor(s, y.reshape(x.shape), x.frac_bits)


def relu_shifted(x: SharedTensor, shifts, bits: int = DEFAULT_CMP_BITS, low_bits_only: bool = False) -> list:
    """[relu(x - t) for t in shifts] (public scalars), exact, two rounds, with x opened once:
    C = x + R is the opening of every x - t under the same mask R (C - t, public), so the
    k relus send 64 + k bits per element each way instead of k (64 + 1). The dealer's kind
    ``relu_k`` gives one R and k independent DCF key pairs at the same point R mod
    2^(bits-1) (each pair alone is a relu key; a party's keys are fresh pseudorandom strings
    whatever R is), and k fresh bits rho.

    ``low_bits_only``: C is opened mod 2^bits (bits + k bits per element each way) and the
    results are shares valid mod 2^bits ONLY (their high bits are garbage): for callers that
    use nothing but the low ``bits`` bits (the clamps in front of a spline without a linear
    tail). Every step of the relu is a ring operation, so it is exact mod 2^bits, and C mod
    2^bits is as uniform as C."""
    from .primitives import open_masked

    s = _check_shared(x).session
    check_bits(bits, x.frac_bits)
    enc = [x._public(float(t), "relu") for t in shifts]
    k, N = len(enc), x.numel()
    if k == 0:
        return []
    with s.protocol("relu"):
        Rp, raw, mp, rhop, rho_a, rhoR = s.take("relu_k", (bits, N, k))
        xs = x.share.reshape(-1)
        (C,) = open_masked(s, [(xs + Rp, bits if low_bits_only else 64)])
        Ck = torch.cat([C - e.reshape(-1).expand(N) for e in enc])
        xk = torch.cat([xs - e.reshape(-1).expand(N) if s.party == 0 else xs for e in enc])
        y, _b = _relu_finish(s, xk, Ck, raw, mp.repeat(k), rhop, rho_a, rhoR, bits)
    return [SharedTensor(s, y[j * N:(j + 1) * N].reshape(x.shape), x.frac_bits) for j in range(k)]


def _relu_finish(s, xs, C, raw, mp, rhop, rho_a, rhoR, n: int):
    """(shares of relu(x), shares of [x >= 0]) from the opened C = x + R mod 2^64 (relu's
    rounds after the opening: the DCF, then e = b xor rho)."""
    import fsskernels

    from ..fixedpoint import lshr, mask_bits
    from .primitives import keybatch, open_masked

    t = fsskernels.dcf_eval(s.party, keybatch(raw), mask_bits(C, n - 1).contiguous())
    beta = t ^ mp
    if s.party == 0:
        beta = beta ^ (1 - lshr(C, n - 1) & 1)
    (e,) = open_masked(s, [(beta ^ rhop, 1)])       # e = b xor rho
    sgn = 1 - 2 * e
    b = sgn * rho_a + (e if s.party == 0 else 0)
    return e * xs + sgn * (rho_a * C - rhoR), b


def relu_backward(ctx, grad: SharedTensor) -> SharedTensor:
    """grad * [x >= 0] (one round, exact)."""
    s = grad.session
    with s.protocol("relu_backward"):
        return ctx.bit * grad


def _diff(a, b, op: str) -> SharedTensor:
    if isinstance(a, SharedTensor):
        return a - b
    if isinstance(b, SharedTensor):
        return (-b) + a
    raise ValueError(f"{op}: at least one operand must be a SharedTensor")


def lt(a, b, bits: int = DEFAULT_CMP_BITS) -> SharedTensor:
    """Shared bit [a < b] (a, b shared or public; |a - b| < 2^(bits-1) ring units). One round."""
    d = _diff(a, b, "lt")
    s = d.session
    check_bits(bits, d.frac_bits)
    with s.protocol("cmp"):
        return SharedTensor(s, msb(s, d.share, bits), 0)


def ge(a, b, bits: int = DEFAULT_CMP_BITS) -> SharedTensor:
    """Shared bit [a >= b]. One round."""
    return 1 - lt(a, b, bits)


def gt(a, b, bits: int = DEFAULT_CMP_BITS) -> SharedTensor:
    """Shared bit [a > b] = [b < a]. One round."""
    return lt(b, a, bits)


def le(a, b, bits: int = DEFAULT_CMP_BITS) -> SharedTensor:
    """Shared bit [a <= b]. One round."""
    return 1 - gt(a, b, bits)


def where(cond: SharedTensor, a, b) -> SharedTensor:
    """cond * a + (1 - cond) * b for a shared bit ``cond`` (frac_bits 0); a, b shared or
    public (at least one shared or cond shared). One round (one Beaver product), exact."""
    _check_shared(cond, "condition")
    if cond.frac_bits != 0:
        raise ValueError("condition: must be a shared bit (frac_bits 0), e.g. from MF.lt")
    s = cond.session
    if not isinstance(a, SharedTensor) and not isinstance(b, SharedTensor):
        f = s.frac_bits
        base = SharedTensor(s, torch.zeros_like(cond.share), f) + b
        return base + cond * ((torch.as_tensor(a, dtype=torch.float64) - torch.as_tensor(b, dtype=torch.float64)))
    diff = _diff(a, b, "where") if isinstance(a, SharedTensor) else (-b) + a
    base = b if isinstance(b, SharedTensor) else SharedTensor(s, torch.zeros_like(diff.share), diff.frac_bits) + b
    with s.protocol("where"):
        return base + cond * diff


def _relu_many(xs: list, bits: int) -> list:
    """relu of several same-scale tensors in one batch (two rounds in total)."""
    flat = cat([x.reshape(-1) for x in xs])
    y = relu(flat, bits)
    out, off = [], 0
    for x in xs:
        n = x.numel()
        out.append(y[off:off + n].reshape(x.shape))
        off += n
    return out


def clamp(x: SharedTensor, min=None, max=None, bits: int = DEFAULT_CMP_BITS) -> SharedTensor:
    """min(max(x, min), max) for public scalar bounds: min + relu(x - min) - relu(x - max),
    both relus in one batch (two rounds), exact."""
    _check_shared(x)
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if min is not None and max is not None and float(min) > float(max):
        raise ValueError(f"clamp: min {min} is larger than max {max}")
    s = x.session
    with s.protocol("clamp"):
        if min is not None and max is not None:
            lo, hi = relu_shifted(x, [min, max], bits)
            return (lo - hi) + min
        if min is not None:
            return _relu_many([x - min], bits)[0] + min
        return (-_relu_many([(-x) + max], bits)[0]) + max


def maximum(a: SharedTensor, b: SharedTensor, bits: int = DEFAULT_CMP_BITS) -> SharedTensor:
    """Elementwise max(a, b) = b + relu(a - b). Two rounds, exact."""
    return b + relu(a - b, bits)


def amax(x: SharedTensor, dim: int = -1, keepdim: bool = False, bits: int = DEFAULT_CMP_BITS) -> SharedTensor:
    """Maximum over ``dim`` by a pairwise tree: ceil(log2(n)) levels of two rounds, exact."""
    _check_shared(x)
    if x.ndim == 0:
        raise ValueError("amax: needs at least one dimension")
    d = dim % x.ndim
    n = x.shape[d]
    if n == 0:
        raise ValueError("amax: over an empty dimension")
    s = x.session
    cur = x.transpose(d, -1) if d != x.ndim - 1 else x
    with s.protocol("amax"):
        while cur.shape[-1] > 1:
            m = cur.shape[-1]
            h = m // 2
            top = maximum(cur[..., :h], cur[..., h:2 * h], bits)
            cur = cat([top, cur[..., 2 * h:]], dim=-1) if m % 2 else top
    out = cur  # (..., 1) with dim moved last
    out = out.transpose(d, -1) if d != x.ndim - 1 else out
    return out if keepdim else out.squeeze(d)


__all__ = ["DEFAULT_CMP_BITS", "amax", "clamp", "drelu", "ge", "gt", "le", "lt", "maximum", "relu",
           "relu_backward", "sign", "stack", "where"]
