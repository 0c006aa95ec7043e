"""DPF and DCF key generation and evaluation (docs/kernels.md).

Shares come back as the caller's array kind: numpy uint64 (values in [0, 2^out_bits)),
CPU torch int64 (the same bits), and for CUDA inputs torch int64 / CuPy uint64 on the same
device. s0 + s1 = beta if x == alpha (DPF) / x < alpha (DCF, unsigned, strict) else 0,
mod 2^out_bits.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import _C
from ._arrays import array_kind, check_bits, check_int, check_party, from_u64_numpy, is_cuda_kind, to_u64_numpy
from .keys import KeyBatch


def _seed_bytes(seed: Any) -> bytes | None:
    if seed is None:
        return None
    if isinstance(seed, (bytes, bytearray)):
        if len(seed) != 16:
            raise ValueError(f"seed: bytes must be 16 long, got {len(seed)}")
        return bytes(seed)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed: expected an int or 16 bytes, got {type(seed).__name__}")
    return (int(seed) % (1 << 128)).to_bytes(16, "little")  # documented: test seeds are reduced


def _beta_array(beta: Any, n: int) -> tuple[np.ndarray, bool]:
    if isinstance(beta, numbers.Integral) and not isinstance(beta, bool):
        return np.array([check_int(beta, "beta") % (1 << 64)], dtype=np.uint64), True
    b = to_u64_numpy(beta, "beta").ravel()
    if b.size == 1 and n != 1:
        return b, True
    if b.size != n:
        raise ValueError(f"beta: expected a scalar or {n} values, got {b.size}")
    return b, False


def _root_seed(seed: Any, root_seed16: Any) -> Any:
    """The keygen seed: ``seed`` (tests) or ``_root_seed16`` (the runtime dealer's internal path:
    exactly 16 bytes drawn from its CSPRNG-derived per-piece stream); never both."""
    if root_seed16 is None:
        return seed
    if seed is not None:
        raise ValueError("seed, _root_seed16: give at most one")
    if not isinstance(root_seed16, (bytes, bytearray)) or len(root_seed16) != 16:
        raise ValueError("_root_seed16: expected exactly 16 bytes")
    return bytes(root_seed16)


def _gen(scheme: str, alpha: Any, beta: Any, bits: Any, out_bits: Any, seed: Any) -> tuple[KeyBatch, KeyBatch]:
    bits = check_bits(bits, "bits")
    out_bits = check_bits(out_bits, "out_bits")
    if is_cuda_kind(array_kind(alpha)):
        from . import _cuda

        return _cuda.gen(scheme, alpha, beta, bits, out_bits, _seed_bytes(seed))
    if is_cuda_kind(array_kind(beta)):
        raise ValueError("beta: is on a CUDA device, but alpha is on the CPU")
    a = to_u64_numpy(alpha, "alpha").ravel()
    b, scalar = _beta_array(beta, a.size)
    gen = _C.dpf_gen if scheme == "dpf" else _C.dcf_gen
    k0, k1 = gen(a, b, scalar, bits, out_bits, _seed_bytes(seed))
    return KeyBatch._wrap(k0, validate=False), KeyBatch._wrap(k1, validate=False)


def _once(keys: KeyBatch, run: Any) -> Any:
    """Runs an evaluation under the one-time rule: a consumed batch raises ValueError; a
    one-time batch is claimed first and consumed only if the evaluation succeeds."""
    keys._claim()
    ok = False
    try:
        out = run()
        ok = True
        return out
    finally:
        keys._settle(ok)


def _eval(scheme: str, party: Any, keys: Any, x: Any) -> Any:
    party = check_party(party)
    if not isinstance(keys, KeyBatch):
        raise ValueError(f"keys: expected a KeyBatch, got {type(keys).__name__}")
    return _once(keys, lambda: _eval_unchecked(scheme, party, keys, x))


def _eval_unchecked(scheme: str, party: int, keys: KeyBatch, x: Any) -> Any:
    kind = array_kind(x)
    if is_cuda_kind(kind):
        from . import _cuda

        return _cuda.evaluate(scheme, party, keys, x)
    buf = keys._cpu_buffer_for(party, scheme)
    xa = to_u64_numpy(x, "x")
    if xa.size != len(keys):
        raise ValueError(f"x: has {xa.size} values but there are {len(keys)} keys")
    evaluate = _C.dpf_eval if scheme == "dpf" else _C.dcf_eval
    out = evaluate(party, buf, xa.ravel())
    return from_u64_numpy(out.reshape(xa.shape), kind or "numpy")


def dpf_gen(alpha: Any, beta: Any, *, bits: int, out_bits: int = 64, seed: Any = None,
            _root_seed16: Any = None) -> tuple[KeyBatch, KeyBatch]:
    """Keys for the point functions f_i(x) = beta_i if x == alpha_i else 0 (mod 2^out_bits).

    alpha: N integers < 2^bits (numpy, torch, CuPy; any shape, flattened); beta: a scalar or
    N integers (reduced mod 2^out_bits). bits, out_bits in 1..64. seed: None (OS CSPRNG) or,
    for reproducible tests only, an int / 16 bytes. ``_root_seed16`` (internal, keyword-only):
    16 bytes from a caller's CSPRNG stream, used by the runtime dealer (fsskernels.mpc) so
    that production key generation never goes through the test-only ``seed``. Returns (party-0 keys, party-1 keys).
    Raises ValueError naming the bad argument. Boyle-Gilboa-Ishai CCS 2016, early termination."""
    return _gen("dpf", alpha, beta, bits, out_bits, _root_seed(seed, _root_seed16))


def dcf_gen(alpha: Any, beta: Any, *, bits: int, out_bits: int = 64, seed: Any = None,
            _root_seed16: Any = None) -> tuple[KeyBatch, KeyBatch]:
    """Keys for the comparison functions f_i(x) = beta_i if x < alpha_i else 0 (unsigned,
    strict, mod 2^out_bits). Arguments as dpf_gen. Boyle et al. EUROCRYPT 2021 for
    out_bits >= 2; the DPF-based comparison (SIGMA) for out_bits == 1."""
    return _gen("dcf", alpha, beta, bits, out_bits, _root_seed(seed, _root_seed16))


def dpf_eval(party: int, keys: KeyBatch, x: Any) -> Any:
    """Party `party`'s shares of f_i(x_i): x has one value per key (any shape; the result
    has x's shape). Returns numpy uint64 / torch int64 / CuPy uint64 like x."""
    return _eval("dpf", party, keys, x)


def dcf_eval(party: int, keys: KeyBatch, x: Any) -> Any:
    """Party `party`'s shares of [x_i < alpha_i] * beta_i; as dpf_eval."""
    return _eval("dcf", party, keys, x)


def dpf_eval_all(party: int, keys: KeyBatch, *, like: Any = None) -> Any:
    """Full-domain evaluation: shares of f_i(x) for every x in [0, 2^bits), shape
    (N, 2^bits); needs bits <= 24. Returns numpy uint64 for CPU keys; for keys on a CUDA
    device, a torch int64 tensor (or CuPy if like is a CuPy array)."""
    party = check_party(party)
    if not isinstance(keys, KeyBatch):
        raise ValueError(f"keys: expected a KeyBatch, got {type(keys).__name__}")
    if keys.bits > 24:
        raise ValueError(f"bits: full-domain evaluation needs bits <= 24, got {keys.bits}")
    out_bytes = len(keys) * (8 << keys.bits)
    if out_bytes > _C.MAX_BUFFER_BYTES:
        raise ValueError(f"keys: full-domain output of {len(keys)} keys x 2^{keys.bits} values is {out_bytes} bytes, "
                         f"above the 2^40-byte limit")
    return _once(keys, lambda: _eval_all_unchecked(party, keys, like))


def dpf_lookup(party: int, keys: KeyBatch, x: Any, tables: Any) -> Any:
    """Table lookup with DPF keys (the LUT protocol of Pika / SIGMA), fused with the
    full-domain evaluation: party ``party``'s shares of ``beta_i * tables[:, (x_i - alpha_i) mod
    2^bits]``, shape (ntab, N), mod 2^out_bits. With alpha_i = r_i the dealer's mask of a secret
    index i and x_i = i + r_i opened, the two outputs add up to ``tables[:, i]``.

    keys: DPF KeyBatch with bits <= 16, on the CPU (each key is expanded in a per-thread row and
    consumed at once: no N x 2^bits intermediate) or on a CUDA device (``_cuda.lookup``; x and
    tables on the same device, the result enqueued on x's stream; not yet run on a GPU).
    x: N integers (public; numpy or torch, any shape, flattened). tables: integers of shape (ntab, 2^bits), 1 <= ntab <= 64 (public; int64
    values are read as their uint64 bits). Table reads are indexed by x only. Returns numpy
    uint64, or torch int64 when x is a torch tensor. One-time batches are consumed.
    ValueError naming the argument on a bad party, keys, x or tables."""
    party = check_party(party)
    if not isinstance(keys, KeyBatch):
        raise ValueError(f"keys: expected a KeyBatch, got {type(keys).__name__}")
    if keys.device != "cpu":
        from . import _cuda

        return _once(keys, lambda: _cuda.lookup(party, keys, x, tables))
    if keys.bits > 16:
        raise ValueError(f"bits: table lookups need bits <= 16, got {keys.bits}")
    kind = array_kind(x)
    if is_cuda_kind(kind) or is_cuda_kind(array_kind(tables)):
        raise ValueError("x: dpf_lookup takes CPU arrays")
    xa = to_u64_numpy(x, "x").ravel()
    if xa.size != len(keys):
        raise ValueError(f"x: has {xa.size} values but there are {len(keys)} keys")
    ta = to_u64_numpy(tables, "tables")
    if ta.ndim != 2 or ta.shape[1] != (1 << keys.bits) or not 1 <= ta.shape[0] <= 64:
        raise ValueError(f"tables: expected shape (1..64, {1 << keys.bits}), got {tuple(ta.shape)}")
    ta = np.ascontiguousarray(ta)

    def run() -> Any:
        out = _C.dpf_lookup(party, keys._cpu_buffer_for(party, "dpf"), np.ascontiguousarray(xa), ta)
        return from_u64_numpy(out, kind or "numpy")

    return _once(keys, run)


def _eval_all_unchecked(party: int, keys: KeyBatch, like: Any) -> Any:
    if keys.device != "cpu":
        from . import _cuda

        return _cuda.evaluate_all(party, keys, like)
    buf = keys._cpu_buffer_for(party, "dpf")
    out = _C.dpf_eval_all(party, buf)
    kind = array_kind(like) if like is not None else "numpy"
    return from_u64_numpy(out, kind or "numpy")
