"""FSS primitives on raw shares: open a masked value once, evaluate keys locally.

All functions take and return one party's int64 share tensors (ring elements; shares of a
value mod 2^bits are valid in any representative) and run SPMD like every protocol.

  msb(s, x, n)              shares (Z_2^64) of msb(x mod 2^n): [x < 0] for |x| < 2^(n-1).
                            1 round, n bits per element each way; key: DCF on n-1 bits.
  trunc_reduce(s, x, k, n)  shares (mod 2^n) of floor(x / 2^k) mod 2^n, exact (no error at all):
                            1 round, k+n bits each way; key: DCF on k bits with n-bit output.
  lut(s, i, n, tables)      shares (Z_2^64) of tables[:, i] for an index i shared mod 2^n:
                            1 round, n bits each way; key: DPF on n bits (full-domain evaluation).
  open_masked(s, items)     one round for several maskings of different widths (fused openings).

Derivations (x = c - r mod 2^n with c public, r the dealer's uniform mask; c' = c mod 2^(n-1)):
  msb(x) = msb(c) xor msb(r) xor [c' < r']                   (borrow into the top bit)
  floor(x / 2^k) = (c >> k) - (r >> k) - [c mod 2^k < r mod 2^k]  (mod 2^n, x < 2^(k+n))
  T(i) = sum_j T(c - j) [j = r]                               (the DPF shares e_r additively)
Security: c is uniform in its ring for any x, and one party's keys reveal nothing about r,
so each party's view is simulatable from the public shapes alone.
"""
from __future__ import annotations

import numpy as np
import torch

from ..fixedpoint import lshr, mask_bits

_CHUNK_CELLS = 1 << 22  # elements x table size processed at once in a lookup


def keybatch(raw: np.ndarray, one_time: bool = True):
    """The KeyBatch of a piece's raw keys (bytes validated on load), marked one-time when the kernels support it."""
    from ..material import key_batch

    kb = key_batch(raw)
    return mark_one_time(kb) if one_time else kb


def mark_one_time(kb):
    mark = getattr(kb, "mark_one_time", None)
    if mark is not None:
        mark()
    return kb


def open_masked(s, items) -> list:
    """Open several masked shares in one round. ``items``: [(share, bits), ...]; each is
    reconstructed mod 2^bits (values in [0, 2^bits)). Messages of different widths travel in
    the same flight (counted as one round)."""
    waits = []
    for i, (t, bits) in enumerate(items):
        waits.append((t, bits, s.exchange_ring_start([t], bits, new_round=(i == 0))))
    return [mask_bits(t + w()[0], bits) for t, bits, w in waits]


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(-1)


def msb_take(s, N: int, n: int) -> list:
    return s.take("cmp", (n, N))


def msb_masked(x: torch.Tensor, mat: list) -> torch.Tensor:
    return _flat(x) + mat[0]


def msb_finish(s, c: torch.Tensor, mat: list, n: int, shape) -> torch.Tensor:
    """This party's share (mod 2^64) of msb(x) from the opened c = x + r mod 2^n."""
    import fsskernels

    _r, m, raw = mat
    kb = keybatch(raw)
    cp = mask_bits(c, n - 1)
    y = fsskernels.dcf_eval(s.party, kb, cp.contiguous())
    v = m + y                                   # shares of msb(r) xor [c' < r']
    a = lshr(c, n - 1)                          # msb(c), public
    out = v * (1 - 2 * a)
    if s.party == 0:
        out = out + a
    return out.reshape(shape)


def msb(s, x: torch.Tensor, n: int) -> torch.Tensor:
    """Shares of msb(x mod 2^n) in Z_2^64 (the sign bit when |x| < 2^(n-1))."""
    if not 2 <= n <= 64:
        raise ValueError(f"bits: comparison width must be in 2..64, got {n}")
    mat = msb_take(s, x.numel(), n)
    (c,) = open_masked(s, [(msb_masked(x, mat), n)])
    return msb_finish(s, c, mat, n, x.shape)


def trunc_reduce(s, x: torch.Tensor, k: int, n: int) -> torch.Tensor:
    """Shares mod 2^n of floor(x / 2^k) mod 2^n (x any ring value; only x mod 2^(k+n) is
    used). Exact."""
    import fsskernels

    if not 1 <= k <= 63 or not 1 <= n <= 64 - k:
        raise ValueError(f"bits: need 1 <= k <= 63 and 1 <= n <= 64 - k, got k={k}, n={n}")
    N = x.numel()
    r, rh, raw = s.take("tr", (k, n, N))
    (c,) = open_masked(s, [(_flat(x) + r, k + n)])
    kb = keybatch(raw)
    carry = fsskernels.dcf_eval(s.party, kb, mask_bits(c, k).contiguous())
    out = -rh - carry
    if s.party == 0:
        out = out + lshr(c, k)
    return mask_bits(out, n).reshape(x.shape)


def lut(s, i: torch.Tensor, n: int, tables: torch.Tensor) -> torch.Tensor:
    """Shares (Z_2^64) of ``tables[:, i]`` for an index shared mod 2^n. ``tables``: int64
    ring values of shape (ntab, 2^n), public. Returns shape (ntab, *i.shape)."""
    import fsskernels

    from ..linalg import ring_matmul

    if not 1 <= n <= 16:
        raise ValueError(f"bits: table index width must be in 1..16, got {n}")
    size = 1 << n
    if tables.ndim != 2 or tables.shape[1] != size or tables.dtype != torch.int64:
        raise ValueError(f"tables: expected int64 of shape (ntab, {size}), got {tuple(tables.shape)} {tables.dtype}")
    N = i.numel()
    r, raw = s.take("lut", (n, N))
    (c,) = open_masked(s, [(_flat(i) + r, n)])
    if c.device.type == "cpu":
        # fused full-domain evaluation + rotated dot product in the kernel (no N x 2^n buffer)
        out = fsskernels.dpf_lookup(s.party, keybatch(raw), c.contiguous(), tables)
        return out.reshape((tables.shape[0],) + tuple(i.shape))
    kb = keybatch(raw, one_time=False)  # sliced into chunks first, each chunk one-time
    ntab = tables.shape[0]
    out = torch.empty((N, ntab), dtype=torch.int64)
    step = max(1, _CHUNK_CELLS // size)
    j = torch.arange(size, dtype=torch.int64)
    tt = tables.t().contiguous()                              # (size, ntab)
    chunks = [mark_one_time(kb[a:min(N, a + step)]) for a in range(0, N, step)]
    retire = getattr(kb, "mark_consumed", None)
    if retire is not None:
        retire()                                  # the parent batch is never evaluated itself
    for a, part in zip(range(0, N, step), chunks):
        b = min(N, a + step)
        D = fsskernels.dpf_eval_all(s.party, part, like=torch.empty(0, dtype=torch.int64))
        # y_e = sum_j T[c_e - j] D_e[j] = sum_v T[v] D_e[c_e - v]  (v = c_e - j)
        idx = (c[a:b, None] - j[None, :]) & (size - 1)
        out[a:b] = ring_matmul(torch.gather(D.reshape(b - a, size), 1, idx), tt)
    return out.t().reshape((ntab,) + tuple(i.shape))
