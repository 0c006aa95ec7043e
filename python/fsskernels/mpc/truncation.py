"""Dealer-assisted truncation with an exact wrap correction (no catastrophic failure).

Input: shares z_0 + z_1 = z (mod 2^L) of a signed value with |z| < 2^(L-2), and a shift f
(1 <= f <= L-2). Output: shares in Z_2^64 of  t = floor(z / 2^f) + b  with b in {0, 1},
Pr[b = 1] = (z mod 2^f) / 2^f, i.e. stochastic rounding: E[t] = z / 2^f and
|t - z / 2^f| < 1 (one unit of the output scale). There is no failure event: inside the
range the result is always within one unit; outside it the result is meaningless.

Dealer: r uniform in [0, 2^L); shares of r (mod 2^L), of r_hi = floor(r / 2^f) and of
m = msb(r) = floor(r / 2^(L-1)) (both as integers in Z_2^64).
Online: open c = z + 2^(L-2) + r mod 2^L. Let z' = z + 2^(L-2), in [0, 2^(L-1)).
Because z' < 2^(L-1), z' + r wraps past 2^L exactly when msb(r) = 1 and msb(c) = 0, so the
wrap bit is w = m * (1 - msb(c)), linear in the shared m once c is public. Over the integers
    z' = c - r + w 2^L  =>  floor(z'/2^f) = c_hi - r_hi + w 2^(L-f) - [c mod 2^f < r mod 2^f],
and t = c_hi - r_hi + w 2^(L-f) - 2^(L-2-f) = floor(z/2^f) + [carry of (z mod 2^f) + (r mod 2^f)].
Since the identity holds over the integers, the result is computed directly in Z_2^64: the
truncation also lifts a value from the L-bit ring to the 64-bit ring.
Security: c is uniform in [0, 2^L) whatever z is (r is a fresh one-time pad); the rest is local.

Two variants:
  truncate          both parties learn c: one round, 2L bits per element.
  trunc1_*          only the "opener" o learns c (one message of L bits per element from the
                    other party p); o then sends p one bit per element, d = (1 - msb(c)) xor e,
                    which with the dealer's (e, u = e * m_p + s) for o and s for p gives shares
                    of (1 - msb(c)) * m_p (a precomputed bit-times-value correlation).
                    Two one-way messages, L + 1 bits per element; p's message can ride along
                    with another message p sends anyway (the frozen-weight product does this).
"""
from __future__ import annotations

import torch

from .fixedpoint import lshr, mask_bits


def check_range_params(L: int, f: int) -> None:
    if not 2 <= L <= 64 or not 1 <= f <= L - 2:
        raise ValueError(f"truncation: need 1 <= shift <= L - 2 and L <= 64, got shift {f}, L {L}")


def truncate(session, z: torch.Tensor, f: int, L: int) -> torch.Tensor:
    """Shares of floor(z / 2^f) + {0,1} (stochastic rounding) in Z_2^64 from shares of z mod
    2^L, |z| < 2^(L-2). One round, 2L bits per element on the wire."""
    check_range_params(L, f)
    s = session
    with s.protocol("trunc"):
        r, rh, m = s.take("trunc", (L, f, tuple(z.shape)))
        cb = z + r
        if s.party == 0:
            cb = cb + (1 << (L - 2))
        (c,) = s.open([cb], L)
    return _finish_both(s.party, c, rh, m, L, f)


def _finish_both(party: int, c, rh, m, L: int, f: int) -> torch.Tensor:
    g = 1 - lshr(c, L - 1)
    out = ((g * m) << (L - f)) - rh
    if party == 0:
        out = out + lshr(c, f) - (1 << (L - 2 - f))
    return out


def trunc1_take(session, shape, f: int, L: int, opener: int) -> list:
    """Dealer material for a one-way truncation of a tensor of ``shape``."""
    check_range_params(L, f)
    return session.take("trunc1", (L, f, tuple(shape), opener))


def trunc1_masked(session, z: torch.Tensor, mat: list, L: int) -> torch.Tensor:
    """This party's share of c = z + 2^(L-2) + r (mod 2^L; the caller packs it to L bits)."""
    cb = z + mat[0]
    if session.party == 0:
        cb = cb + (1 << (L - 2))
    return cb


def trunc1_opener_finish(session, c_own: torch.Tensor, c_peer: torch.Tensor, mat: list, L: int, f: int) -> torch.Tensor:
    """Opener side: c = c_own + c_peer; sends d (1 bit per element); returns its share."""
    _r, rh, m, e, u = mat
    c = mask_bits(c_own + c_peer, L)
    g = 1 - lshr(c, L - 1)
    d = g ^ e
    with session.protocol("trunc"):
        session.send_ring([d], 1)
    corr = torch.where(d.bool(), -u, u)
    return lshr(c, f) - (1 << (L - 2 - f)) - rh + ((g * m + corr) << (L - f))


def trunc1_peer_finish(session, mat: list, shape, L: int, f: int) -> torch.Tensor:
    """Non-opener side: receives d and returns its share."""
    _r, rh, m, sm = mat
    with session.protocol("trunc"):
        (d,) = session.recv_ring([tuple(shape)], 1)
    corr = torch.where(d.bool(), m + sm, -sm)
    return (corr << (L - f)) - rh


def truncate_oneway(session, z: torch.Tensor, f: int, L: int, opener: int = 1) -> torch.Tensor:
    """As ``truncate`` but only ``opener`` learns c: two one-way messages, L + 1 bits per element."""
    mat = trunc1_take(session, z.shape, f, L, opener)
    cb = trunc1_masked(session, z, mat, L)
    if session.party == opener:
        with session.protocol("trunc"):
            (cp,) = session.recv_ring([tuple(z.shape)], L)
        return trunc1_opener_finish(session, cb, cp, mat, L, f)
    with session.protocol("trunc"):
        session.send_ring([cb], L)
    return trunc1_peer_finish(session, mat, z.shape, L, f)
