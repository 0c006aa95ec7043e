"""Products of shares: Beaver triples (elementwise) and matrix triples (matmul).

With a dealer triple (a, b, c = a*b) shared mod 2^L, both parties open E = x - a and
F = y - b in one round (each sends its shares of E and F packed to L bits) and set
    z_p = x_p * F + E * b_p + c_p            (sum over p: x(y - b) + (x - a) b + ab = xy),
and likewise z_p = x_p @ F + E @ B_p + C_p for matrices (Beaver 1991; the matrix form as in
SecureML, Mohassel-Zhang 2017). Broadcasting works because the identity is bilinear.

Fixed-point operands (frac_bits > 0 on both sides) are multiplied in the L-bit ring
(L = session.config.mul_bits) and the product is truncated by min(f_x, f_y) with
truncation.truncate, which also lifts the result back to Z_2^64. Ring-integer operands
(frac_bits 0 on either side) use L = 64 and no truncation: exact mod 2^64.
Cost: 1 round + L bits per element of x and y, each way; truncation adds 1 round and L bits
per output element each way.
"""
from __future__ import annotations

import torch

from .fixedpoint import encode
from .linalg import ring_matmul
from .material import broadcast_shape, matmul_shape
from .opened import product_operands
from .tensor import SharedTensor, is_integer_public
from .truncation import truncate


def _plan(x: SharedTensor, y_frac: int) -> tuple[bool, int, int]:
    """(truncate?, ring width L, shift)."""
    trunc = x.frac_bits > 0 and y_frac > 0
    L = x.session.config.mul_bits if trunc else 64
    return trunc, L, min(x.frac_bits, y_frac)


def mul(x: SharedTensor, y: SharedTensor) -> SharedTensor:
    """Elementwise product of two shared tensors (broadcasting). Fixed point: error < 1 unit
    of the result scale, needs |x*y| < 2^(L-2) ring units (see FixedPointConfig)."""
    s = x.session
    broadcast_shape(tuple(x.shape), tuple(y.shape))
    trunc, L, shift = _plan(x, y.frac_bits)
    with s.protocol("mul"):
        a, b, c, get_E, get_F = product_operands(s, x, y, L, "triple")
        z = x.share * get_F() + get_E() * b + c
        if trunc:
            return SharedTensor(s, truncate(s, z, shift, L), x.frac_bits + y.frac_bits - shift)
        return SharedTensor(s, z, x.frac_bits + y.frac_bits)


def matmul(x: SharedTensor, y: SharedTensor) -> SharedTensor:
    """x @ y for shared (..., m, k) @ (..., k, n) with broadcast batch dimensions (matrix
    triple; ``fsskernels.ring_matmul`` for the local products)."""
    s = x.session
    matmul_shape(tuple(x.shape), tuple(y.shape))
    trunc, L, shift = _plan(x, y.frac_bits)
    with s.protocol("matmul"):
        z = _matmul_ring(x, y, L)
        if trunc:
            return SharedTensor(s, truncate(s, z, shift, L), x.frac_bits + y.frac_bits - shift)
        return SharedTensor(s, z, x.frac_bits + y.frac_bits)


def matmul_unreduced(x: SharedTensor, y: SharedTensor):
    """x @ y for fixed-point x, y as an ``Unreduced`` product (shares mod 2^mul_bits at scale
    f_x + f_y, not truncated): one round, the caller adds it to other products of that scale
    and truncates the sum once (mpc/unreduced.py). ValueError for ring-integer operands."""
    from .unreduced import Unreduced

    s = x.session
    x._same_session(y, "matmul")
    matmul_shape(tuple(x.shape), tuple(y.shape))
    trunc, L, _shift = _plan(x, y.frac_bits)
    if not trunc:
        raise ValueError("matmul: an unreduced product needs fixed-point operands on both sides")
    with s.protocol("matmul"):
        return Unreduced(s, _matmul_ring(x, y, L), L, x.frac_bits + y.frac_bits)


def _matmul_ring(x: SharedTensor, y: SharedTensor, L: int) -> torch.Tensor:
    """Shares mod 2^L of x @ y at scale f_x + f_y (one matrix triple, one round)."""
    A, B, C, get_E, get_F = product_operands(x.session, x, y, L, "matmul_triple")
    # One round, two messages: E's product with B overlaps F's transfer.
    z = ring_matmul(get_E(), B) + C
    return z + ring_matmul(x.share, get_F())


def _public_operand(x: SharedTensor, w, op: str) -> tuple[torch.Tensor, int]:
    """A public operand as ring integers (frac 0) or fixed point at the session's frac_bits."""
    if isinstance(w, torch.Tensor) and w.device != x.device:
        raise ValueError(f"{op}: public operand is on {w.device}, shares are on {x.device}")
    if is_integer_public(w):
        return encode(torch.as_tensor(w), 0, device=x.device), 0
    f = x.session.frac_bits
    return encode(w, f, device=x.device), f


def mul_public(x: SharedTensor, c) -> SharedTensor:
    """x * c for a public c (scalar or tensor, broadcasting). Integer c: exact, local.
    Float c: c is encoded with the session's frac_bits and the product truncated (1 round)."""
    s = x.session
    enc, fc = _public_operand(x, c, "mul")
    broadcast_shape(tuple(x.shape), tuple(enc.shape))
    z = x.share * enc
    if fc == 0 or x.frac_bits == 0:
        return SharedTensor(s, z, x.frac_bits + fc)
    with s.protocol("mul_public"):
        return SharedTensor(s, truncate(s, z, fc, s.config.mul_bits), x.frac_bits)


def matmul_public(x: SharedTensor, w, right: bool = True) -> SharedTensor:
    """x @ w (right=True) or w @ x for a public matrix w; float w is truncated as in mul_public."""
    s = x.session
    enc, fc = _public_operand(x, w, "matmul")
    if right:
        matmul_shape(tuple(x.shape), tuple(enc.shape))
        z = ring_matmul(x.share, enc)
    else:
        matmul_shape(tuple(enc.shape), tuple(x.shape))
        z = ring_matmul(enc, x.share)
    if fc == 0 or x.frac_bits == 0:
        return SharedTensor(s, z, x.frac_bits + fc)
    with s.protocol("matmul_public"):
        return SharedTensor(s, truncate(s, z, fc, s.config.mul_bits), x.frac_bits)
