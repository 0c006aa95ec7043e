"""Frozen matrices: a weight masked once, the mask reused for every later product.

Shared mode (``freeze``): W is secret-shared. The dealer gives shares of a uniform mask B
(mod 2^L); the parties open F = W - B once. Each product X @ W then takes a fresh dealer
pair (A, C = A @ B), opens only E = X - A (one round, L bits per element of X each way),
and sets z_p = X_p @ F + E @ B_p + C_p.

Owner mode (``freeze_owned``): W is party o's private value (the model owner). The dealer
gives o a uniform B; o sends F = W - B to the other party p once. Per product, p gets
(A, C_p) and o gets C_o with C_o + C_p = A @ B; p sends E = X_p - A, o computes
z_o = (X_o + E) @ W + C_o and p computes z_p = A @ F + C_p (sum: X W - A W + A (F + B) = X W),
one GEMM each, at the same time (p's does not involve X). With truncation p sends its
share of the masked product right after E (same direction, no reply in between: the same
round) and o answers (truncation.trunc1_*): per step p -> o: (|X| + |Z|) * L bits,
o -> p: (f + 1) |Z| bits (+ |Z| with the "bit" carry), p -> o: |Z| bits with the "bit" carry.

Why reusing B is secure: B is used exactly once as a one-time pad, on W, so F is uniform and
independent of W. Every later product masks the activation side with a fresh uniform A, so
each opened E is uniform and independent of X and of everything opened before; the products
C = A @ B are fresh sharings of new values, uniform given either party's view. Reusing B
never combines two openings with the same pad (only W is ever padded with B), which is
what would leak. (Security argument in docs/runtime.md.)
"""
from __future__ import annotations

import torch

from .fixedpoint import check_frac_bits, encode
from .linalg import ring_matmul
from .material import matmul_shape
from .tensor import SharedTensor
from .truncation import (trunc1_masked, trunc1_opener_finish, trunc1_peer_finish, trunc1_take, truncate)


class FrozenMatrix:
    """A 2-D weight masked once; use as the right operand: ``x @ frozen`` (or ``frozen.T``).

    Attributes: shape (of the matrix as used, i.e. transposed for .T), frac_bits, mode
    ("shared" or "owner"), owner (owner mode), bits (ring width L of the mask)."""

    def __init__(self, session, mode: str, owner: int, mask_seq: int, base_shape: tuple, bits: int, frac_bits: int,
                 state: dict, transposed: bool = False) -> None:
        self.session = session
        self.mode = mode
        self.owner = owner
        self.mask_seq = mask_seq
        self.base_shape = tuple(base_shape)
        self.bits = bits
        self.frac_bits = frac_bits
        self._state = state  # shared between a matrix and its transpose view
        self.transposed = transposed

    @property
    def shape(self) -> tuple:
        return self.base_shape[::-1] if self.transposed else self.base_shape

    @property
    def T(self) -> "FrozenMatrix":
        return FrozenMatrix(self.session, self.mode, self.owner, self.mask_seq, self.base_shape, self.bits,
                            self.frac_bits, self._state, not self.transposed)

    def _get(self, name: str) -> torch.Tensor:
        t = self._state[name]
        return t.transpose(-1, -2) if self.transposed else t

    def __repr__(self) -> str:
        return f"FrozenMatrix(mode={self.mode}, shape={self.shape}, frac_bits={self.frac_bits}, bits={self.bits})"

    def rmatmul(self, x: SharedTensor, add=None) -> SharedTensor:
        """x @ self for a shared x of shape (..., m, k). ``add``: an optional Unreduced
        product (mpc/unreduced.py) of the output's shape at scale f_x + f_W, in a ring at
        least as wide as this matrix's, added before the one truncation: the result is
        floor((x @ W + add) / 2^shift). Its precondition is this product's, for the sum."""
        s = self.session
        if not isinstance(x, SharedTensor):
            raise ValueError("matmul: the left operand of a FrozenMatrix product must be a SharedTensor")
        if x.session is not s:
            raise ValueError("matmul: operands belong to different sessions")
        if x.device != s.device:
            raise ValueError(f"matmul: operands are on different devices ({x.device} and {s.device})")
        out_shape = matmul_shape(tuple(x.shape), self.shape)
        trunc = self.frac_bits > 0 and x.frac_bits > 0
        if self.bits < 64 and not trunc:
            raise ValueError("matmul: this frozen matrix was masked for fixed-point products (mul_bits ring); "
                             "the shared operand must be fixed point too")
        L, shift = self.bits, min(self.frac_bits, x.frac_bits)
        frac = x.frac_bits + self.frac_bits - (shift if trunc else 0)
        extra = self._check_add(add, out_shape, x.frac_bits + self.frac_bits, trunc)
        t = int(self.transposed)
        with s.protocol("matmul_frozen"):
            if self.mode == "shared":
                A, C = s.take("frozen_triple", (L, self.mask_seq, self.base_shape, tuple(x.shape), t))
                (E,) = s.open([x.share - A], L, reduce=False)
                z = ring_matmul(x.share, self._get("F")) + ring_matmul(E, self._get("B")) + C + extra
                return SharedTensor(s, truncate(s, z, shift, L) if trunc else z, frac)
            o = self.owner
            mat = s.take("owner_triple", (L, self.mask_seq, self.base_shape, tuple(x.shape), o, t))
            tm = trunc1_take(s, out_shape, shift, L, o) if trunc else None
            if s.party != o:
                # p's share A @ F + C_p does not involve X: computed while o multiplies
                A, Cp = mat
                s.send_ring([x.share - A], L)
                z = ring_matmul(A, self._get("F")) + Cp + extra
                if not trunc:
                    out = z
                else:
                    s.send_ring([trunc1_masked(s, z, tm, L)], L, new_round=False)
                    out = trunc1_peer_finish(s, tm, out_shape, L, shift)
            else:
                (Co,) = mat
                (E,) = s.recv_ring([tuple(x.shape)], L)
                z = ring_matmul(x.share + E, self._get("W")) + Co + extra
                if not trunc:
                    out = z
                else:
                    (cp,) = s.recv_ring([out_shape], L, new_round=False)
                    out = trunc1_opener_finish(s, trunc1_masked(s, z, tm, L), cp, tm, L, shift)
            return SharedTensor(s, out, frac)


    def _check_add(self, add, out_shape: tuple, scale: int, trunc: bool):
        """add's shares (0 without one) after checking it fits this product."""
        if add is None:
            return 0
        from .unreduced import Unreduced

        if not isinstance(add, Unreduced):
            raise ValueError(f"add: expected an Unreduced product, got {type(add).__name__}")
        if add.session is not self.session:
            raise ValueError("add: belongs to a different session")
        if not trunc:
            raise ValueError("add: only fixed-point products (which truncate) take an unreduced term")
        if add.shape != tuple(out_shape) or add.frac_bits != scale:
            raise ValueError(f"add: expected shape {tuple(out_shape)} at scale {scale}, "
                             f"got {add.shape} at scale {add.frac_bits}")
        if add.bits < self.bits:
            raise ValueError(f"add: its ring ({add.bits} bits) is narrower than this matrix's ({self.bits} bits)")
        return add.share


def _bits_for(session, frac_bits: int) -> int:
    return session.config.mul_bits if frac_bits > 0 else 64


def freeze(w: SharedTensor) -> FrozenMatrix:
    """Mask a secret-shared 2-D weight once (opens F = W - B to both parties: one round,
    L bits per element each way). Fixed-point W uses L = mul_bits, ring-integer W L = 64."""
    s = w.session
    if w.ndim != 2:
        raise ValueError(f"freeze: the weight must be 2-D, got shape {tuple(w.shape)}")
    L = _bits_for(s, w.frac_bits)
    with s.protocol("freeze"):
        seq = s.material.next_seq
        (B,) = s.take("frozen_mask", (L, tuple(w.shape)))
        (F,) = s.open([w.share - B], L)
    return FrozenMatrix(s, "shared", -1, seq, tuple(w.shape), L, w.frac_bits, {"F": F, "B": B})


def freeze_owned(session, w=None, *, owner: int, shape=None, frac_bits: int | None = None,
                 bits: int | None = None) -> FrozenMatrix:
    """Mask party ``owner``'s private 2-D weight once. The owner passes ``w`` (float: fixed
    point at ``frac_bits``, default the session's; integers: ring integers with
    frac_bits=0); the other party passes ``shape`` (and the same ``frac_bits``). The owner
    sends F = W - B once (L bits per element, one message).

    ``bits``: the ring width L of the mask and of every product with this matrix (default:
    mul_bits for fixed point, 64 for ring integers). A narrower ring costs L bits per
    opened element instead; precondition (the caller's): every product x @ W satisfies
    |x @ W| < 2^(L-2) ring units at scale frac_x + frac_W, and fixed-point products need
    frac_x >= 1 (the truncation by min(frac_x, frac_W) lifts the result to 64 bits). Both
    parties pass the same ``bits``. ValueError outside 8..64 (fixed point: 8..mul_bits)."""
    s = session
    if owner not in (0, 1):
        raise ValueError(f"owner: must be 0 or 1, got {owner!r}")
    if s.party == owner:
        if w is None:
            raise ValueError(f"freeze_owned: party {owner} owns the weight and must pass it")
        if isinstance(w, torch.Tensor) and w.device != s.device:
            raise ValueError(f"freeze_owned: weight is on {w.device}, the session computes on {s.device}")
        t = torch.as_tensor(w)
        if frac_bits is None:
            frac_bits = s.frac_bits if t.is_floating_point() else 0
        if shape is not None and tuple(shape) != tuple(t.shape):
            raise ValueError(f"freeze_owned: weight has shape {tuple(t.shape)}, but shape={tuple(shape)} was given")
        shape = tuple(t.shape)
    else:
        if w is not None:
            raise ValueError(f"freeze_owned: only the owner (party {owner}) passes the weight")
        if shape is None:
            raise ValueError("freeze_owned: the non-owner must pass the weight's shape")
        shape = tuple(int(d) for d in shape)
        frac_bits = s.frac_bits if frac_bits is None else frac_bits
    check_frac_bits(frac_bits)
    if len(shape) != 2:
        raise ValueError(f"freeze_owned: the weight must be 2-D, got shape {shape}")
    L = _bits_for(s, frac_bits)
    if bits is not None:
        if isinstance(bits, bool) or not isinstance(bits, int) or not 8 <= bits <= L:
            raise ValueError(f"bits: the ring width must be an integer in 8..{L}, got {bits!r}")
        L = bits
    with s.protocol("freeze"):
        seq = s.material.next_seq
        mat = s.take("owner_mask", (L, shape, owner))
        if s.party == owner:
            W = encode(t, frac_bits, device=s.device)
            (B,) = mat
            s.send_ring([W - B], L)
            state = {"W": W, "B": B}
        else:
            (F,) = s.recv_ring([shape], L)
            state = {"F": F}
    return FrozenMatrix(s, "owner", owner, seq, shape, L, frac_bits, state)
