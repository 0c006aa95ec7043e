"""FSS key material from the dealer (for the nonlinear gates).

A DCF/DPF gate on a shared x works on the opened masked value x + r (mod 2^bits): the dealer
draws the input mask r, makes keys for the function shifted by r (here alpha = r), and gives
each party its key batch and an additive share of r mod 2^bits. Keys are one-time like all
material: each call consumes one dealer piece (a new sequence number; the dealer refuses to
serve a number twice), and the returned KeyBatch is marked one-time when the kernel API
offers it (``KeyBatch.mark_one_time``).
"""
from __future__ import annotations

import numbers

import numpy as np
import torch

from .limits import checked_numel
from .material import key_batch


def _check(kind: str, shape, bits: int, out_bits: int, beta: int) -> tuple[tuple, int]:
    if kind not in ("dcf", "dpf"):
        raise ValueError(f"kind: must be 'dcf' or 'dpf', got {kind!r}")
    try:
        shape = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape: expected a tuple of integers, got {shape!r}") from None
    n = checked_numel(shape, "shape")
    for name, v in (("bits", bits), ("out_bits", out_bits)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 1 <= v <= 64:
            raise ValueError(f"{name}: must be an integer in 1..64, got {v!r}")
    if isinstance(beta, bool) or not isinstance(beta, numbers.Integral) or not 0 <= beta < (1 << out_bits):
        raise ValueError(f"beta: must be an integer in [0, 2^out_bits), got {beta!r}")
    return shape, n


def _one_time(kb):
    mark = getattr(kb, "mark_one_time", None)
    if mark is not None:
        mark()
    return kb


def fss_keys(session, kind: str, shape, bits: int, out_bits: int, beta: int = 1):
    """This party's (KeyBatch, share of r) for ``prod(shape)`` keys of ``kind`` ("dcf": value
    beta where x < r, "dpf": beta where x == r; docs/kernels.md), with r the dealer's
    uniform input mask in [0, 2^bits). The share is an int64 tensor of ``shape`` (mod 2^bits)."""
    import fsskernels

    shape, n = _check(kind, shape, bits, out_bits, beta)
    with session.protocol(kind):
        raw, r = session.take(kind, (bits, out_bits, n, beta))
    return _one_time(key_batch(raw)), r.reshape(shape)


def dealer_fss_keys(dealer, *args, seq: int | None = None, **kwargs):
    """Offline use of a Dealer: both parties' (KeyBatch, share of r), deserialized and
    validated as a party would.

        dealer_fss_keys(dealer, kind, shape, bits, out_bits, beta=1, *, seq=None)

    ``seq=None`` (default) takes the dealer's next unserved sequence number; an explicit
    ``seq`` that was served before raises MaterialReuseError. The older positional form
    ``dealer_fss_keys(dealer, seq, kind, shape, bits, out_bits, beta=1)`` is still accepted."""
    import fsskernels

    from .material import encode_spec, parse_piece

    if args and (args[0] is None or (isinstance(args[0], numbers.Integral) and not isinstance(args[0], bool))):
        if seq is not None:
            raise ValueError("seq: given twice")
        seq, args = args[0], args[1:]
    try:
        bound = _signature(*args, **kwargs)
    except TypeError as exc:
        raise ValueError(f"dealer_fss_keys: {exc}") from None
    kind, shape, bits, out_bits, beta = bound
    shape, n = _check(kind, shape, bits, out_bits, beta)
    if seq is None:
        seq = dealer.next_seq()
    out = []
    for data in dealer.generate(seq, kind, encode_spec((bits, out_bits, n, beta))):
        raw, r = parse_piece(data).take()
        out.append((_one_time(key_batch(raw)), torch.from_numpy(r.view(np.int64)).reshape(shape)))
    return tuple(out)


def _signature(kind, shape, bits, out_bits, beta=1):
    return kind, shape, bits, out_bits, beta
