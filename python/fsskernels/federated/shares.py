"""Client-side sharing of a model update over Z_2^64, with one share sent as a 16-byte seed.

What is computed: a client with update x (float vector, length d) and a positive integer
weight w (e.g. its number of training examples) forms the ring vector

    v = ( encode(w * x_1), ..., encode(w * x_d), w )          (uint64, length d + 1)

where encode(y) = round(y * 2^f) in two's complement (``fsskernels.mpc.fixedpoint.encode``,
f = ``frac_bits``, default 16) and the last slot holds w as a plain ring integer. It draws a
fresh 16-byte seed s from the OS CSPRNG and splits v into two additive shares

    share_0 = R = AES-CTR_s(0..)   (sent as the seed s alone: 16 bytes)
    share_1 = v - R  mod 2^64       (sent as 8 (d + 1) bytes)

Aggregator 0 expands the seeds it receives, aggregator 1 adds the masked vectors; each sum
alone is uniformly random. Their sum reveals sum_i v_i: the weighted sum of the updates and
the total weight, nothing else (weighted FedAvg = first d slots / last slot).

Preconditions: x finite, |w * x_j| * 2^f < 2^62; w an integer with 1 <= w < 2^40. ValueError
otherwise, naming the argument.

Error: each encoded product carries a rounding error <= 2^-(f+1); the ring sums are exact
(wrap-around mod 2^64 cancels), so the weighted average differs from float64 FedAvg by at most
n * 2^-(f+1) / W <= 2^-(f+1) (n clients, W = total weight >= n).

Security (semi-honest, aggregators do not collude): the seed must reach aggregator 0 only
(``sealing.seal_seed`` encrypts it to aggregator 0's public key so the relaying server cannot
read it); a seed is used for one update only. The construction follows the "one share as a
PRG seed" trick of the fsskernels runtime (docs/runtime.md section 2) applied to the two-server
aggregation model of Prio (Corrigan-Gibbs and Boneh, NSDI 2017).
"""
from __future__ import annotations

import numbers
import os
from dataclasses import dataclass

import numpy as np

from ..mpc.fixedpoint import check_frac_bits, encode
from ..mpc.rng import CtrStream

SEED_BYTES = 16
MAX_WEIGHT = 1 << 40


def check_weight(weight, name: str = "weight") -> int:
    """weight as a Python int in 1 .. 2^40 - 1 (ValueError otherwise)."""
    if isinstance(weight, bool) or not isinstance(weight, numbers.Integral) or not 1 <= int(weight) < MAX_WEIGHT:
        raise ValueError(f"{name}: expected an integer in 1..2^40-1, got {weight!r}")
    return int(weight)


def as_update(update, name: str = "update") -> np.ndarray:
    """A 1-D float64 copy of update (numpy, torch or sequence); ValueError if empty/not finite."""
    try:
        a = np.asarray(update.detach().cpu().numpy() if hasattr(update, "detach") else update, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name}: expected an array of real numbers ({e})") from None
    a = a.reshape(-1)
    if a.size == 0:
        raise ValueError(f"{name}: must not be empty")
    if not np.isfinite(a).all():
        raise ValueError(f"{name}: contains NaN or infinity")
    return a


def encode_weighted(update, weight: int, frac_bits: int = 16) -> np.ndarray:
    """The ring vector v = (encode(w * x), w) as uint64, length d + 1 (see module doc)."""
    w = check_weight(weight)
    check_frac_bits(frac_bits)
    x = as_update(update)
    try:
        enc = encode(x * float(w), frac_bits).numpy().view(np.uint64)
    except ValueError as e:
        raise ValueError(f"update: weight * update out of the fixed-point range ({e})") from None
    out = np.empty(x.size + 1, np.uint64)
    out[:-1] = enc
    out[-1] = np.uint64(w)
    return out


def expand_seed(seed: bytes, n: int) -> np.ndarray:
    """The share R = AES-CTR_seed, n uint64 values (block i = AES_seed(i), see mpc/rng.py)."""
    if not isinstance(seed, (bytes, bytearray)) or len(seed) != SEED_BYTES:
        raise ValueError(f"seed: expected {SEED_BYTES} bytes")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n: expected a positive integer, got {n!r}")
    return CtrStream(bytes(seed)).random_u64(int(n))


@dataclass(frozen=True)
class ClientShares:
    """One client's two shares: ``seed`` for aggregator 0, ``masked`` (= v - R) for aggregator 1."""

    seed: bytes
    masked: np.ndarray  # uint64, length d + 1

    @property
    def upload_bytes(self) -> int:
        """Bytes of payload the client uploads (seed + masked vector, before framing)."""
        return SEED_BYTES + 8 * int(self.masked.size)


def share_vector(v: np.ndarray, seed: bytes | None = None) -> ClientShares:
    """Split a uint64 ring vector into (seed, v - AES-CTR_seed). seed=None draws os.urandom(16)
    (pass a seed in tests only: a seed must never be reused for another vector)."""
    v = np.asarray(v)
    if v.dtype != np.uint64 or v.ndim != 1 or v.size == 0:
        raise ValueError("v: expected a non-empty 1-D uint64 array")
    s = os.urandom(SEED_BYTES) if seed is None else bytes(seed)
    masked = v - expand_seed(s, v.size)  # wraps mod 2^64
    return ClientShares(s, masked)


def share_update(update, weight: int, frac_bits: int = 16, seed: bytes | None = None) -> ClientShares:
    """encode_weighted + share_vector: what a client sends (see module doc)."""
    return share_vector(encode_weighted(update, weight, frac_bits), seed)
