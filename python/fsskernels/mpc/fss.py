"""FSS key material from the dealer (for the nonlinear gates of a later issue).

A DCF/DPF gate on a shared x works on the opened masked value x + r (mod 2^bits): the dealer
draws the input mask r, makes keys for the function shifted by r (here alpha = r), and gives
each party its key batch and an additive share of r mod 2^bits. Keys are one-time like all
material: each call consumes one dealer piece.
"""
from __future__ import annotations

import numpy as np
import torch


def _check(kind: str, shape, bits: int, out_bits: int, beta: int) -> tuple[tuple, int]:
    if kind not in ("dcf", "dpf"):
        raise ValueError(f"kind: must be 'dcf' or 'dpf', got {kind!r}")
    shape = tuple(int(d) for d in shape)
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if not 1 <= bits <= 64 or not 1 <= out_bits <= 64:
        raise ValueError(f"bits, out_bits: must be in 1..64, got {bits}, {out_bits}")
    if not 0 <= beta < (1 << out_bits):
        raise ValueError(f"beta: must be in [0, 2^out_bits), got {beta}")
    return shape, n


def fss_keys(session, kind: str, shape, bits: int, out_bits: int, beta: int = 1):
    """This party's (KeyBatch, share of r) for ``prod(shape)`` keys of ``kind`` ("dcf": value
    beta where x < r, "dpf": beta where x == r; docs/kernels.md), with r the dealer's
    uniform input mask in [0, 2^bits). The share is an int64 tensor of ``shape`` (mod 2^bits)."""
    import fsskernels

    shape, n = _check(kind, shape, bits, out_bits, beta)
    with session.protocol(kind):
        raw, r = session.take(kind, (bits, out_bits, n, beta))
    return fsskernels.KeyBatch.from_bytes(raw), r.reshape(shape)


def dealer_fss_keys(dealer, seq: int, kind: str, shape, bits: int, out_bits: int, beta: int = 1):
    """Offline use of a Dealer: both parties' (KeyBatch, share of r) for piece ``seq``
    (deserialized and validated as a party would)."""
    import fsskernels

    from .material import encode_spec, parse_piece

    shape, n = _check(kind, shape, bits, out_bits, beta)
    out = []
    for data in dealer.generate(seq, kind, encode_spec((bits, out_bits, n, beta))):
        raw, r = parse_piece(data).take()
        out.append((fsskernels.KeyBatch.from_bytes(raw), torch.from_numpy(r.view(np.int64)).reshape(shape)))
    return tuple(out)
