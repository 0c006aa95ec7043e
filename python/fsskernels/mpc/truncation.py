"""Exact truncation of shares (floor division by 2^f), dealer-assisted, one round.

Input: shares z_0 + z_1 = z (mod 2^L) of a signed value with |z| < 2^(L-2), and a shift f
(1 <= f <= L-2). Output: shares in Z_2^64 of  t = floor(z / 2^f)  exactly: no rounding
error beyond the floor, no failure event, and an output distribution that depends on z only.

Dealer: r uniform in [0, 2^L); shares of r (mod 2^L), of r_hi = floor(r / 2^f) and of
m = msb(r) (both in Z_2^64), and DCF keys for [x < r mod 2^f] on f bits (SIGMA, Gupta et al.
PETS'24; Orca, Jawalkar et al. S&P'24).
Online: open c = z + 2^(L-2) + r mod 2^L. Let z' = z + 2^(L-2), in [0, 2^(L-1)).
Because z' < 2^(L-1), z' + r wraps past 2^L exactly when msb(r) = 1 and msb(c) = 0, so the
wrap bit is w = m * (1 - msb(c)), linear in the shared m once c is public. Over the integers
    z' = c - r + w 2^L  =>  floor(z'/2^f) = c_hi - r_hi + w 2^(L-f) - [c mod 2^f < r mod 2^f],
and the carry [c mod 2^f < r mod 2^f] is the DCF evaluated by both parties at the public
c mod 2^f (additive shares in Z_2^64). So t = c_hi - r_hi + w 2^(L-f) - carry - 2^(L-2-f).
Since the identity holds over the integers, the result is computed directly in Z_2^64: the
truncation also lifts a value from the L-bit ring to the 64-bit ring.
Security: c is uniform in [0, 2^L) whatever z is (r is a fresh one-time pad); the DCF keys of
one party reveal nothing about r mod 2^f; the result is a deterministic function of z, so
revealing it later (or truncating the same value many times) teaches nothing about z beyond
floor(z / 2^f). (The earlier stochastic rounding returned floor + [c_lo < r_lo], a bit that
together with the public c_lo leaked the low bits of z: see docs/runtime.md.)

Two variants:
  truncate          both parties learn c: one round, 2L bits per element.
  trunc1_*          only the "opener" o learns c (one message of L bits per element from the
                    other party p); o then sends p, in one (f+1)-bit message per element,
                    d = (1 - msb(c)) xor e and c mod 2^f; with the dealer's (e, u = e * m_p + s)
                    for o and s for p this gives shares of (1 - msb(c)) * m_p (a precomputed
                    bit-times-value correlation), and both evaluate the carry DCF at c mod 2^f.
                    Two one-way messages, L + f + 1 bits per element; p's message can ride
                    along with another message p sends anyway (the frozen-weight product does this).

Carry modes (``FixedPointConfig.trunc_carry``):
  "word"  the DCF outputs additive shares of the carry in Z_2^64 directly (BCG'21 DCF with a
          64-bit payload; 16 levels of value corrections for f = 16).
  "bit"   (default) the DCF outputs XOR shares b_0 xor b_1 = carry (one-bit output with early
          termination: 9 levels for f = 16; keys 176 instead of 408 bytes at f = 16). The
          dealer adds a random bit rho as XOR shares rho_i and as additive shares [rho] mod
          2^64; the parties publish e = b xor rho (one bit each way; rho is a one-time pad, so
          e is uniform and independent of the carry) and set [carry] = e + (1 - 2e) [rho].
          One more round and 2 more bits per element (in the one-way variant the opener
          sends its masked bit right after its (f + 1)-bit answer, so both parties evaluate
          their DCFs at the same time, and p answers with one bit). The result is
          bit-identical to the "word" mode.
"""
from __future__ import annotations

import torch

from .fixedpoint import lshr, mask_bits


def check_range_params(L: int, f: int) -> None:
    if not 2 <= L <= 64 or not 1 <= f <= L - 2:
        raise ValueError(f"truncation: need 1 <= shift <= L - 2 and L <= 64, got shift {f}, L {L}")


def _carry(session, raw, c_lo: torch.Tensor) -> torch.Tensor:
    """This party's share of [c_lo < r mod 2^f] from the dealer's DCF keys: additive in
    Z_2^64 for "word" keys, one XOR-shared bit (0/1) for "bit" keys."""
    import fsskernels

    from .gates.primitives import keybatch

    shape = c_lo.shape
    y = fsskernels.dcf_eval(session.party, keybatch(raw), c_lo.reshape(-1).contiguous())
    return y.reshape(shape)


def _bit_carry(session) -> bool:
    return session.config.trunc_carry == "bit"


def _arith_from_public_xor(party: int, e: torch.Tensor, rho_a: torch.Tensor) -> torch.Tensor:
    """Additive shares (Z_2^64) of e xor rho from public bits e and additive shares of rho:
    e xor rho = e + (1 - 2e) rho."""
    out = rho_a - 2 * e * rho_a
    return out + e if party == 0 else out


def truncate(session, z: torch.Tensor, f: int, L: int) -> torch.Tensor:
    """Shares of floor(z / 2^f) (exact) in Z_2^64 from shares of z mod 2^L, |z| < 2^(L-2).
    "word" carry: one round, 2L bits per element on the wire, key: a DCF on f bits with a
    64-bit payload. "bit" carry: two rounds, 2L + 2 bits, a one-bit DCF on f bits."""
    check_range_params(L, f)
    s = session
    bit = _bit_carry(s)
    with s.protocol("trunc"):
        mat = s.take("trunc_xb" if bit else "trunc_x", (L, f, tuple(z.shape)))
        r, rh, m, raw = mat[:4]
        cb = z + r
        if s.party == 0:
            cb = cb + (1 << (L - 2))
        (c,) = s.open([cb], L)
        c_lo = mask_bits(c, f)
        if not bit:
            return _finish_both(s.party, c, rh, m, L, f) - _carry(s, raw, c_lo)
        rho_x, rho_a = mat[4], mat[5]
        masked = _carry(s, raw, c_lo) ^ rho_x
        wait = s.exchange_ring_start([masked], 1)
        out = _finish_both(s.party, c, rh, m, L, f)
        (peer,) = wait()
    return out - _arith_from_public_xor(s.party, masked ^ peer, rho_a)


def _finish_both(party: int, c, rh, m, L: int, f: int) -> torch.Tensor:
    g = 1 - lshr(c, L - 1)
    out = ((g * m) << (L - f)) - rh
    if party == 0:
        out = out + lshr(c, f) - (1 << (L - 2 - f))
    return out


def trunc1_take(session, shape, f: int, L: int, opener: int) -> list:
    """Dealer material for a one-way truncation of a tensor of ``shape``."""
    check_range_params(L, f)
    return session.take("trunc1_xb" if _bit_carry(session) else "trunc1_x", (L, f, tuple(shape), opener))


def trunc1_masked(session, z: torch.Tensor, mat: list, L: int) -> torch.Tensor:
    """This party's share of c = z + 2^(L-2) + r (mod 2^L; the caller packs it to L bits)."""
    cb = z + mat[0]
    if session.party == 0:
        cb = cb + (1 << (L - 2))
    return cb


def trunc1_opener_finish(session, c_own: torch.Tensor, c_peer: torch.Tensor, mat: list, L: int, f: int) -> torch.Tensor:
    """Opener side: c = c_own + c_peer; sends d and c mod 2^f (f + 1 bits per element; with a
    "bit" carry then its masked carry bit, and receives the peer's); returns its share."""
    _r, rh, m, e, u, raw = mat[:6]
    bit = _bit_carry(session)
    c = mask_bits(c_own + c_peer, L)
    g = 1 - lshr(c, L - 1)
    d = g ^ e
    c_lo = mask_bits(c, f)
    with session.protocol("trunc"):
        session.send_ring([c_lo | (d << f)], f + 1)
    if bit:
        # sent after c_lo so that the peer evaluates its DCF while this party evaluates its own
        masked = _carry(session, raw, c_lo) ^ mat[6]
        with session.protocol("trunc"):
            session.send_ring([masked], 1, new_round=False)
    corr = torch.where(d.bool(), -u, u)
    out = lshr(c, f) - (1 << (L - 2 - f)) - rh + ((g * m + corr) << (L - f))
    if not bit:
        return out - _carry(session, raw, c_lo)
    with session.protocol("trunc"):
        (peer,) = session.recv_ring([tuple(c.shape)], 1)
    return out - _arith_from_public_xor(session.party, masked ^ peer, mat[7])


def trunc1_peer_finish(session, mat: list, shape, L: int, f: int) -> torch.Tensor:
    """Non-opener side: receives d and c mod 2^f (and, with a "bit" carry, exchanges masked
    carry bits with the opener) and returns its share."""
    _r, rh, m, sm, raw = mat[:5]
    bit = _bit_carry(session)
    with session.protocol("trunc"):
        (msg,) = session.recv_ring([tuple(shape)], f + 1)
    d, c_lo = lshr(msg, f), mask_bits(msg, f)
    corr = torch.where(d.bool(), m + sm, -sm)
    out = (corr << (L - f)) - rh
    if not bit:
        return out - _carry(session, raw, c_lo)
    masked = _carry(session, raw, c_lo) ^ mat[5]      # while the opener evaluates its own
    with session.protocol("trunc"):
        (theirs,) = session.recv_ring([tuple(shape)], 1, new_round=False)
        session.send_ring([masked], 1)
    return out - _arith_from_public_xor(session.party, masked ^ theirs, mat[6])


def truncate_oneway(session, z: torch.Tensor, f: int, L: int, opener: int = 1) -> torch.Tensor:
    """As ``truncate`` but only ``opener`` learns c: two one-way messages, L + f + 1 bits per
    element ("word" carry); "bit" carry: a third one-bit message p -> o, L + f + 3 bits."""
    mat = trunc1_take(session, z.shape, f, L, opener)
    cb = trunc1_masked(session, z, mat, L)
    if session.party == opener:
        with session.protocol("trunc"):
            (cp,) = session.recv_ring([tuple(z.shape)], L)
        return trunc1_opener_finish(session, cb, cp, mat, L, f)
    with session.protocol("trunc"):
        session.send_ring([cb], L)
    return trunc1_peer_finish(session, mat, z.shape, L, f)
