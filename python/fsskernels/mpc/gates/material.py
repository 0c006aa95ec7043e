"""Dealer material of the FSS gates: kinds registered with ``material.register_kind``.

Every gate opens a masked value c = x + r once (r: a fresh, uniform one-time mask in the
ring of the opening) and evaluates FSS keys whose secret point is derived from r. The dealer
makes r, the keys and any correction shares in one piece per gate call. Kinds (spec words
are the request; N is the number of elements; all shares additive):

  cmp        (n, N)          msb of an n-bit value (SIGMA / Boyle et al. EC'21 DCF comparison):
                             r mod 2^n, m = msb(r) (mod 2^64), DCF on n-1 bits at alpha = r mod
                             2^(n-1) with payload beta = 1 - 2m (mod 2^64), so that shares of
                             m xor [c' < r'] are linear: m + beta * [c' < r'].
  trunc_x    (L, f, shape)   exact truncation: the ``trunc`` arrays (r, r >> f, msb(r)) plus a
                             DCF on f bits at alpha = r mod 2^f, beta = 1 (the carry of the low bits).
  trunc1_x   (L, f, shape, o) the same for the one-way truncation (trunc1 arrays + the DCF key).
  trunc_xb   (L, f, shape)   as trunc_x with a one-bit-output DCF (XOR shares of the carry) and a
  trunc1_xb  (L, f, shape, o) random bit rho: XOR shares rho_i (1 bit) and additive shares of rho
                             (mod 2^64) appended (truncation.py, "bit" carry).
  tr         (k, n, N)       truncate-and-reduce: floor(x / 2^k) mod 2^n from x mod 2^(k+n):
                             r mod 2^(k+n), r >> k (mod 2^n), DCF on k bits (alpha = r mod 2^k,
                             beta = 1, out n bits).
  lut        (n, N)          table lookup on an n-bit index: r mod 2^n and a DPF on n bits at
                             alpha = r, beta = 1 (out 64 bits): the full-domain evaluation is an
                             additive sharing of the one-hot vector e_r.
  relu       (n, N)          relu with the select fused into the comparison (SIGMA-style): see
                             _relu_gen and compare.relu; online 64 + 1 bits per element each way.
  relu_k     (n, N, k)       k relus of shifted copies x - t_j of one x under one mask R
                             (compare.relu_shifted, e.g. a clamp): R, k key pairs at R mod 2^(n-1),
                             m, and k bits rho; online 64 + k bits per element each way.
  bern       (q, shape)      dropout: shares (mod 2^64) of bits m with Pr[m = 1] = q / 2^16.
  trig       (f, shape)      sin/cos: t uniform mod 2^f, shares of round(2^f sin(2 pi t / 2^f)) and
                             of round(2^f cos(2 pi t / 2^f)) (mod 2^64).

Security: each piece's randomness is drawn from the dealer's per-piece stream; the opened c
is uniform in its ring whatever x is, and the keys of one party reveal nothing about alpha
(DPF/DCF security, BGI'16 / BCG'21). Keys are one-time like every piece.
"""
from __future__ import annotations

import math

import numpy as np

from ..material import CODE_RAW, CODE_RING, register_kind, schema as base_schema, trunc_corr_bits

_M64 = (1 << 64) - 1


def _mask(v: np.ndarray, bits: int) -> np.ndarray:
    return v if bits >= 64 else v & np.uint64((1 << bits) - 1)


def _n_elems(shape) -> int:
    return int(np.prod(shape, dtype=np.int64)) if len(shape) else 1


def _keys(dealer, rng, kind: str, alpha: np.ndarray, beta: np.ndarray, bits: int, out_bits: int) -> list:
    """Both parties' raw key batches for points alpha (per-element payload beta), from the
    dealer's internal keygen path (randomness from this piece's stream, never ``seed=``)."""
    return dealer.keygen(rng, kind, np.ascontiguousarray(alpha, dtype=np.uint64),
                         np.ascontiguousarray(beta, dtype=np.uint64), bits, out_bits)


def _shared_mask(dealer, rng, shape, bits: int):
    """r uniform mod 2^bits given as two seed-compressed shares: (entries, r)."""
    (e0, r0), (e1, r1) = dealer.prg_entry(rng, shape, bits), dealer.prg_entry(rng, shape, bits)
    return (e0, e1), _mask(r0 + r1, bits)


def _check_bits(name: str, v: int, lo: int, hi: int) -> None:
    if not isinstance(v, int) or not lo <= v <= hi:
        from ..errors import MaterialError

        raise MaterialError(f"material: {name} = {v} out of range {lo}..{hi}")


# ----------------------------------------------------------------------------- cmp
def _cmp_schema(spec, party):
    n, N = spec
    return [(CODE_RING, (N,), n), (CODE_RING, (N,), 64), (CODE_RAW, (-1,), 8)]


def _cmp_gen(dealer, rng, spec):
    n, N = spec
    _check_bits("comparison width", n, 2, 64)
    (er0, er1), r = _shared_mask(dealer, rng, (N,), n)
    m = r >> np.uint64(n - 1)
    em0, em1 = dealer.share_entry(rng, m, 64)
    beta = (np.uint64(1) - np.uint64(2) * m)  # wraps mod 2^64: 1 or 2^64 - 1
    k0, k1 = _keys(dealer, rng, "dcf", _mask(r, n - 1), beta, n - 1, 64)
    return [[er0, em0, k0], [er1, em1, k1]]


# ----------------------------------------------------------------------------- relu (select fused)
def _relu_schema(spec, party):
    n, N = spec
    return [(CODE_RING, (N,), 64), (CODE_RAW, (-1,), 8), (CODE_RING, (N,), 1), (CODE_RING, (N,), 1),
            (CODE_RING, (N,), 64), (CODE_RING, (N,), 64)]


def _relu_gen(dealer, rng, spec, k: int = 1):
    """R uniform mod 2^64 (x + R is opened at 64 bits; its low n bits serve the comparison),
    a 1-bit-output DCF on n-1 bits at alpha = R mod 2^(n-1), XOR shares of m = bit n-1 of R
    and of a random bit rho, additive shares of rho and of rho * R (mod 2^64).
    k > 1 (kind relu_k, compare.relu_shifted): one R per element for k shifted copies of x,
    k DCF key pairs per element at that same point, k bits rho (arrays of k N, copy-major)."""
    n, N = spec[:2]
    _check_bits("comparison width", n, 2, 64)
    (eR0, eR1), R = _shared_mask(dealer, rng, (N,), 64)
    Rk = np.tile(R, k)
    k0, k1 = _keys(dealer, rng, "dcf", _mask(Rk, n - 1), np.ones(k * N, np.uint64), n - 1, 1)
    m = (R >> np.uint64(n - 1)) & np.uint64(1)
    em0, m0 = dealer.prg_entry(rng, (N,), 1)
    (erho0, erho1), rho = _shared_mask(dealer, rng, (k * N,), 1)
    ea0, ea1 = dealer.share_entry(rng, rho, 64)
    eb0, eb1 = dealer.share_entry(rng, rho * Rk, 64)     # wraps mod 2^64
    return [[eR0, k0, em0, erho0, ea0, eb0], [eR1, k1, (CODE_RING, 1, m ^ m0), erho1, ea1, eb1]]


def _relu_k_schema(spec, party):
    n, N, k = spec
    if not isinstance(k, int) or not 1 <= k <= 64:
        from ..errors import MaterialError

        raise MaterialError(f"material: relu_k copies k = {k} out of range 1..64")
    return [(CODE_RING, (N,), 64), (CODE_RAW, (-1,), 8), (CODE_RING, (N,), 1), (CODE_RING, (k * N,), 1),
            (CODE_RING, (k * N,), 64), (CODE_RING, (k * N,), 64)]


# ----------------------------------------------------------------------------- exact truncation
def _trunc_x_schema(spec, party):
    return base_schema("trunc", tuple(spec[:3]), party) + [(CODE_RAW, (-1,), 8)]


def _trunc1_x_schema(spec, party):
    return base_schema("trunc1", tuple(spec), party) + [(CODE_RAW, (-1,), 8)]


def _trunc_xb_schema(spec, party):
    return _trunc_x_schema(spec, party) + [(CODE_RING, tuple(spec[2]), 1), (CODE_RING, tuple(spec[2]), 64)]


def _trunc1_xb_schema(spec, party):
    return _trunc1_x_schema(spec, party) + [(CODE_RING, tuple(spec[2]), 1), (CODE_RING, tuple(spec[2]), 64)]


def _trunc_x_gen(dealer, rng, spec, one_way: bool, bit: bool = False):
    L, f, s = spec[:3]
    _check_bits("ring width", L, 3, 64)
    _check_bits("shift", f, 1, L - 2)
    halves = dealer._generate(rng, -1, "trunc1" if one_way else "trunc", tuple(spec))
    # the mask r is the sum of party 0's and party 1's first arrays (seed-compressed)
    from ..material import expand_prg

    r = _mask(expand_prg(halves[0][0][2][0], s, L) + expand_prg(halves[1][0][2][0], s, L), L)
    n = _n_elems(s)
    k0, k1 = _keys(dealer, rng, "dcf", _mask(r, f).reshape(n), np.ones(n, np.uint64), f, 1 if bit else 64)
    halves[0].append(k0)
    halves[1].append(k1)
    if bit:
        (ex0, ex1), rho = _shared_xor_bit(dealer, rng, s)
        ea0, ea1 = dealer.share_entry(rng, rho, 64)
        halves[0] += [ex0, ea0]
        halves[1] += [ex1, ea1]
    return halves


def _shared_xor_bit(dealer, rng, shape):
    """A uniform bit rho given as two seed-compressed XOR shares: (entries, rho)."""
    (e0, x0), (e1, x1) = dealer.prg_entry(rng, shape, 1), dealer.prg_entry(rng, shape, 1)
    return (e0, e1), x0 ^ x1


# ----------------------------------------------------------------------------- truncate-reduce
def _tr_schema(spec, party):
    k, n, N = spec
    return [(CODE_RING, (N,), k + n), (CODE_RING, (N,), n), (CODE_RAW, (-1,), 8)]


def _tr_gen(dealer, rng, spec):
    k, n, N = spec
    _check_bits("dropped bits", k, 1, 63)
    _check_bits("kept bits", n, 1, 64 - k)
    (er0, er1), r = _shared_mask(dealer, rng, (N,), k + n)
    eh0, eh1 = dealer.share_entry(rng, r >> np.uint64(k), n)
    k0, k1 = _keys(dealer, rng, "dcf", _mask(r, k), np.ones(N, np.uint64), k, n)
    return [[er0, eh0, k0], [er1, eh1, k1]]


# ----------------------------------------------------------------------------- lookup table
def _lut_schema(spec, party):
    n, N = spec
    return [(CODE_RING, (N,), n), (CODE_RAW, (-1,), 8)]


def _lut_gen(dealer, rng, spec):
    n, N = spec
    _check_bits("table index bits", n, 1, 16)
    (er0, er1), r = _shared_mask(dealer, rng, (N,), n)
    k0, k1 = _keys(dealer, rng, "dpf", r, np.ones(N, np.uint64), n, 64)
    return [[er0, k0], [er1, k1]]


# ----------------------------------------------------------------------------- dropout mask
def _bern_schema(spec, party):
    _q, shape = spec
    return [(CODE_RING, shape, 64)]


def _bern_gen(dealer, rng, spec):
    q, shape = spec
    _check_bits("keep probability (units of 2^-16)", q, 0, 1 << 16)
    u = rng.random_u64(_n_elems(shape), 16).reshape(shape)
    m = (u < np.uint64(q)).astype(np.uint64)
    e0, e1 = dealer.share_entry(rng, m, 64)
    return [[e0], [e1]]


# ----------------------------------------------------------------------------- sin / cos
def _trig_schema(spec, party):
    _f, shape = spec
    return [(CODE_RING, shape, _f), (CODE_RING, shape, 64), (CODE_RING, shape, 64)]


def _trig_gen(dealer, rng, spec):
    f, shape = spec
    _check_bits("fraction bits", f, 1, 30)
    (e0, e1), t = _shared_mask(dealer, rng, shape, f)
    ang = t.astype(np.float64) * (2.0 * math.pi / 2.0 ** f)
    sin_t = np.round(np.sin(ang) * 2.0 ** f).astype(np.int64).view(np.uint64)
    cos_t = np.round(np.cos(ang) * 2.0 ** f).astype(np.int64).view(np.uint64)
    es0, es1 = dealer.share_entry(rng, sin_t, 64)
    ec0, ec1 = dealer.share_entry(rng, cos_t, 64)
    return [[e0, es0, ec0], [e1, es1, ec1]]


def register() -> None:
    register_kind("cmp", 20, _cmp_schema, _cmp_gen)
    register_kind("trunc_x", 21, _trunc_x_schema, lambda d, r, s: _trunc_x_gen(d, r, s, False))
    register_kind("trunc1_x", 22, _trunc1_x_schema, lambda d, r, s: _trunc_x_gen(d, r, s, True))
    register_kind("tr", 23, _tr_schema, _tr_gen)
    register_kind("lut", 24, _lut_schema, _lut_gen)
    register_kind("bern", 25, _bern_schema, _bern_gen)
    register_kind("trig", 26, _trig_schema, _trig_gen)
    register_kind("relu", 27, _relu_schema, _relu_gen)
    register_kind("relu_k", 30, _relu_k_schema, lambda d, r, s: _relu_gen(d, r, s, s[2]))
    register_kind("trunc_xb", 28, _trunc_xb_schema, lambda d, r, s: _trunc_x_gen(d, r, s, False, True))
    register_kind("trunc1_xb", 29, _trunc1_xb_schema, lambda d, r, s: _trunc_x_gen(d, r, s, True, True))


__all__ = ["register", "trunc_corr_bits"]
