"""Opened operands: a Beaver mask is reused for every product of the same shared value.

A Beaver product opens E = x - a for its operand x (beaver.py). When the same value x
enters another product in the same ring (attention's Q, K, V and probabilities forward and
backward, LayerNorm's centred input and x-hat, the LoRA input), opening x - a' again with a
fresh mask a' costs L bits per element each way and tells the parties nothing new. Instead
the parties keep (E, their share of a) and ask the dealer for a triple whose mask for x is
the same a: only the other operand is opened, and a product of two such operands needs no
message at all. A square x * x opens x once (both triple masks are a).

Security (semi-honest, trusted dealer): the parties' view of the second product is E (already
known), the opening of the other operand under its fresh mask, and fresh shares of
c' = a * b'; a simulator that knows E from the first product produces it exactly. What
must never happen is opening a different value x' - a with the same a (that reveals
x - x'), so a mask belongs to one value: the record hangs on the SharedTensor whose share
was opened, is shared only with views that are the same value (transpose of the last two
dims, reshape), and is dropped when the share tensor changes in place (torch's version
counter, shared by a tensor and its views). Nothing is reused across sessions.

Dealer side (kinds ``rtriple`` / ``rmatmul_triple``, spec (L, shape_a, shape_b, ref_a,
ref_b) with ref = (delta, flags, shape_gen)): the mask of operand j of piece k is drawn from
its own stream, HMAC(root, label(k, "beaver_mask", (j, L, shape))), so the dealer can make
it again from the reference alone (no state): delta = k_now - k (0: fresh), flags bit 0: the
generated mask is transposed into the value's canonical form, bit 1: the operand is the
transpose of a reshape of it, bit 2: the slot j of the referenced piece, bit 3 (operand b
only, delta 0): the same mask as operand a of this piece (a square).

Config: ``FixedPointConfig(mask_reuse=True)`` (default). False uses the plain one-time
``triple`` / ``matmul_triple`` kinds; results are bit-identical either way (Beaver products
and the exact truncation do not depend on the masks).
"""
from __future__ import annotations

import torch

from .material import broadcast_shape, matmul_shape

T_GEN, T_USE, SLOT_B, ALIAS_A = 1, 2, 4, 8
FRESH = (0, 0, ())


class OpenedRecord:
    """The openings of one shared value (canonical shape ``shape``), per ring width L:
    L -> (seq, slot, shape_gen, t_gen, E, a_share) with E and a in the canonical shape."""

    __slots__ = ("session", "shape", "entries")

    def __init__(self, session, shape) -> None:
        self.session = session
        self.shape = tuple(shape)
        self.entries: dict = {}


def _swap(shape) -> tuple:
    shape = tuple(shape)
    return shape[:-2] + (shape[-1], shape[-2])


def _t(v: torch.Tensor, flag: bool) -> torch.Tensor:
    return v.transpose(-1, -2) if flag else v


def _live(x):
    """x's (record, t) if its share still holds the value the record was made for."""
    ob = x._ob
    if ob is None or x.share._version != ob[2]:
        return None
    return ob[0], ob[1]


def _ensure(x):
    """x's (record, t), making a fresh record if x has none or its value changed in place."""
    live = _live(x)
    if live is None:
        x._ob = (OpenedRecord(x.session, x.shape), 0, x.share._version)
        live = x._ob[0], 0
    return live


def derive(src, dst, transposed: bool) -> None:
    """Give ``dst`` (a reshape of ``src``, then a last-two-dims transpose if ``transposed``)
    the record of ``src``: the same value, so the same masks."""
    rec, t = _ensure(src)
    if t and not transposed and tuple(dst.shape) != tuple(src.shape):
        return                     # a reshape of a transpose: not expressible, no reuse
    dst._ob = (rec, t ^ 1 if transposed else t, dst.share._version)


def lookup(x, L: int, seq: int):
    """(E, a_share, ref) of x's earlier opening in the L-bit ring, or None."""
    live = _live(x)
    if live is None or live[0].session is not x.session:
        return None
    rec, t = live
    ent = rec.entries.get(L)
    if ent is None:
        return None
    k, slot, shape_gen, t_gen, E, a = ent
    R = _swap(x.shape) if t else tuple(x.shape)
    E, a = _t(E.reshape(R), t), _t(a.reshape(R), t)
    flags = (T_GEN if t_gen else 0) | (T_USE if t else 0) | (SLOT_B if slot else 0)
    return E, a, (seq - k, flags, shape_gen)


def record(x, L: int, seq: int, slot: int, E: torch.Tensor, a: torch.Tensor) -> None:
    """Remember that x was opened as E = x - a (a: this party's share) by operand ``slot`` of
    piece ``seq`` in the L-bit ring (the first opening per L is kept)."""
    rec, t = _ensure(x)
    if L in rec.entries:
        return
    rec.entries[L] = (seq, slot, tuple(x.shape), bool(t),
                      _t(E, t).reshape(rec.shape), _t(a, t).reshape(rec.shape))


def product_operands(s, x, y, L: int, kind: str):
    """Masks and openings for one Beaver product of x and y in the L-bit ring.

    kind: "triple" (elementwise, broadcasting) or "matmul_triple". Returns (a, b, c, get_E,
    get_F): this party's mask shares a, b, its share c of a*b (a@b), and callables giving the
    opened E = x - a and F = y - b (waiting for the peer only for operands not opened
    before). Elementwise openings travel in one message; a matmul sends E and F as two
    messages of one round, so E @ b can be computed while F travels."""
    if not s.config.mask_reuse:
        a, b, c = s.take(kind, (L, tuple(x.shape), tuple(y.shape)))
        need, refs = [(x, a, 0), (y, b, 1)], None
    else:
        (broadcast_shape if kind == "triple" else matmul_shape)(tuple(x.shape), tuple(y.shape))
        seq = s.material.next_seq
        hx = lookup(x, L, seq)
        square = hx is None and y is x and kind == "triple"
        hy = None if square else lookup(y, L, seq)
        ref_a = hx[2] if hx is not None else FRESH
        ref_b = (0, ALIAS_A, ()) if square else (hy[2] if hy is not None else FRESH)
        arrays = s.take("r" + kind, (L, tuple(x.shape), tuple(y.shape), *ref_a, *ref_b))
        fresh = iter(arrays[:-1])
        c = arrays[-1]
        a = next(fresh) if hx is None else hx[1]
        b = a if square else (next(fresh) if hy is None else hy[1])
        need = ([(x, a, 0)] if hx is None else []) + ([(y, b, 1)] if hy is None and not square else [])
        refs = (seq, hx, hy, square)
    deltas = [v.share - m for v, m, _slot in need]
    if kind == "triple":
        msgs = [s.exchange_ring_start(deltas, L)] if deltas else []
        spans = [(0, j) for j in range(len(deltas))]
    else:
        msgs = [s.exchange_ring_start([d], L, new_round=j == 0) for j, d in enumerate(deltas)]
        spans = [(j, 0) for j in range(len(deltas))]
    got: dict = {}

    def opened(j: int) -> torch.Tensor:
        """The j-th needed operand, opened (mod 2^L, not reduced)."""
        m, pos = spans[j]
        if m not in got:
            got[m] = msgs[m]()
        v = got[m][pos] + deltas[j]
        if refs is not None:
            record(need[j][0], L, refs[0], need[j][2], v, need[j][1])
        return v

    if refs is None:
        return a, b, c, (lambda: opened(0)), (lambda: opened(1))
    _seq, hx, hy, square = refs
    cache: dict = {}

    def get_E() -> torch.Tensor:
        if "E" not in cache:
            cache["E"] = hx[0] if hx is not None else opened(0)
        return cache["E"]

    def get_F() -> torch.Tensor:
        if square:
            return get_E()
        return hy[0] if hy is not None else opened(0 if hx is not None else 1)

    return a, b, c, get_E, get_F


# ----------------------------------------------------------------------------- dealer side
def _mask_stream(dealer, seq: int, slot: int, L: int, shape):
    from .dealer import piece_label
    from .material import encode_spec

    return dealer._root.derive(piece_label(seq, "beaver_mask", encode_spec((slot, L, tuple(shape)))))


def _operand_mask(dealer, seq: int, slot: int, L: int, shape: tuple, ref: tuple):
    """(mask values, [entry party 0, entry party 1] or None if the parties hold it already)."""
    import numpy as np

    from .dealer import _mask
    from .errors import MaterialError
    from .material import expand_prg

    delta, flags, gen = ref
    if delta < 0 or flags & ~(T_GEN | T_USE | SLOT_B | ALIAS_A) or flags & ALIAS_A:
        raise MaterialError(f"material: bad mask reference {ref}")
    if delta == 0:
        if flags or gen:
            raise MaterialError(f"material: bad fresh mask reference {ref}")
        ms = _mask_stream(dealer, seq, slot, L, shape)
        try:
            (e0, m0), (e1, m1) = dealer._prg(ms, shape, L), dealer._prg(ms, shape, L)
        finally:
            ms.wipe()
        return _mask(m0 + m1, L), [e0, e1]
    src = seq - delta
    if src < 0 or not dealer.served(src):
        raise MaterialError(f"material: mask reference to piece {src}, which was not served")
    if int(np.prod(gen, dtype=np.int64)) != int(np.prod(shape, dtype=np.int64)) or \
            (flags & T_GEN and len(gen) < 2) or (flags & T_USE and len(shape) < 2):
        raise MaterialError(f"material: mask reference {ref} does not fit an operand of shape {shape}")
    ms = _mask_stream(dealer, src, 1 if flags & SLOT_B else 0, L, gen)
    try:
        s0, s1 = ms.random_seed16(), ms.random_seed16()
    finally:
        ms.wipe()
    m = _mask(expand_prg(s0, gen, L) + expand_prg(s1, gen, L), L)
    if flags & T_GEN:
        m = m.swapaxes(-1, -2)
    m = m.reshape(_swap(shape) if flags & T_USE else shape)
    if flags & T_USE:
        m = m.swapaxes(-1, -2)
    return np.ascontiguousarray(m), None


def make_triple(dealer, rng, seq: int, kind: str, spec: tuple) -> list:
    """Both halves of an ``rtriple`` / ``rmatmul_triple`` piece (see the module header)."""
    from .dealer import _check_L, _mask, _t, _u
    from .errors import MaterialError
    from .linalg import ring_matmul

    L, sa, sb, da, fa, ga, db, fb, gb = spec
    _check_L(L)
    sa, sb = tuple(sa), tuple(sb)
    a, ea = _operand_mask(dealer, seq, 0, L, sa, (da, fa, tuple(ga)))
    if fb & ALIAS_A:
        if db != 0 or fb != ALIAS_A or gb or kind != "rtriple" or sa != sb:
            raise MaterialError(f"material: bad square reference {(db, fb, gb)} for {kind} {sa} x {sb}")
        b, eb = a, None
    else:
        b, eb = _operand_mask(dealer, seq, 1, L, sb, (db, fb, tuple(gb)))
    c = _mask(a * b if kind == "rtriple" else _u(ring_matmul(_t(a), _t(b))), L)
    ec0, ec1 = dealer._share(rng, c, L)
    halves = [[], []]
    for ent in (ea, eb):
        if ent is not None:
            halves[0].append(ent[0])
            halves[1].append(ent[1])
    halves[0].append(ec0)
    halves[1].append(ec1)
    return halves
