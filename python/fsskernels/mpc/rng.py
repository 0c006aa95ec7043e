"""Cryptographic randomness for the runtime: the OS CSPRNG expanded by AES-128-CTR.

A ``CtrStream`` holds a 16-byte key K and a block counter; block i of the stream is
AES_K(i) with i as a 128-bit little-endian integer (``fsskernels._C.aes_ctr``, the same
construction the kernels use for key generation, docs/kernels.md section 1).

Production streams take K from ``os.urandom``. ``CtrStream.from_seed`` derives K from an
integer seed with SHA-256 and exists for reproducible tests only: a seeded stream is only as
secret as its seed. Never ``random``, ``np.random`` or ``torch.Generator``.  (csprng-ok: this line only names them)

Derived streams: ``child(i)`` is keyed by AES_K(2^63 + i) (a PRF of the index; the stream's
own counters stay below 2^63), ``derive(label)`` by HMAC-SHA256(K, label)[:16] (a PRF of an
arbitrary byte string; the dealer derives each piece's stream from (sequence number, kind,
spec)). Distinct indices/labels give independent streams.

Fork safety: a stream remembers the process that created it; any draw or derivation in a
forked child raises ``RuntimeError`` (the child would otherwise repeat the parent's bytes).
Zeroization: the key lives in a ``bytearray`` that ``wipe()`` (and the destructor) overwrite
with zeros. Python copies the key into a temporary ``bytes`` for each AES call (the C side
zeroizes its own copy); those temporaries cannot be wiped: this is best effort.
"""
from __future__ import annotations

import hashlib
import hmac
import numbers
import os

import numpy as np

_CHILD_BASE = 1 << 63  # block numbers >= 2^63 derive child keys; the stream itself stays below


def _aes_ctr(key, start: int, nblocks: int) -> np.ndarray:
    from fsskernels import _C  # lazy: the compiled module is only needed when bytes are drawn

    return _C.aes_ctr(bytes(key), int(start), int(nblocks))


class CtrStream:
    """A stream of pseudorandom bytes AES_K(0) || AES_K(1) || ... (one thread at a time).

    Each draw starts at a fresh block: leftover bytes of a partly used block are discarded,
    so a draw never overlaps another."""

    __slots__ = ("_key", "_next", "_pid")

    def __init__(self, key) -> None:
        if not isinstance(key, (bytes, bytearray)) or len(key) != 16:
            raise ValueError("key: expected 16 bytes")
        self._key = bytearray(key)
        self._next = 0
        self._pid = os.getpid()

    def _live(self) -> bytearray:
        if os.getpid() != self._pid:
            raise RuntimeError("CtrStream: used in a forked child process; the child would repeat its parent's "
                               "random bytes. Create new streams (CtrStream.from_os()) after fork.")
        if self._next is None:
            raise RuntimeError("CtrStream: the stream was wiped")
        return self._key

    @classmethod
    def from_os(cls) -> "CtrStream":
        """A stream keyed from the OS CSPRNG (the default for everything secret)."""
        return cls(os.urandom(16))

    @classmethod
    def from_seed(cls, seed: int, label: str = "") -> "CtrStream":
        """Tests only: a stream keyed by SHA-256(seed, label). Different labels give
        independent streams from one seed."""
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0 or seed >= 1 << 256:
            raise ValueError(f"seed: expected a non-negative integer below 2^256, got {seed!r}")
        h = hashlib.sha256(b"fsskernels.mpc.seed\0" + int(seed).to_bytes(32, "little") + b"\0" + label.encode())
        return cls(h.digest()[:16])

    def child(self, index: int) -> "CtrStream":
        """An independent stream keyed by AES_K(2^63 + index) (a PRF output); deterministic,
        so a dealer can rebuild the stream of any piece from its sequence number."""
        if isinstance(index, bool) or not isinstance(index, numbers.Integral) or index < 0 or index >= _CHILD_BASE:
            raise ValueError("index: out of range")
        return CtrStream(_aes_ctr(self._live(), _CHILD_BASE + int(index), 1).tobytes())

    def derive(self, label: bytes) -> "CtrStream":
        """An independent stream keyed by HMAC-SHA256(K, label)[:16] (HMAC is a PRF)."""
        if not isinstance(label, (bytes, bytearray)):
            raise ValueError("label: expected bytes")
        return CtrStream(hmac.new(bytes(self._live()), bytes(label), hashlib.sha256).digest()[:16])

    def _blocks(self, nblocks: int) -> np.ndarray:
        key = self._live()
        if self._next + nblocks >= _CHILD_BASE:
            raise OverflowError("stream exhausted")
        out = _aes_ctr(key, self._next, nblocks) if nblocks else np.empty(0, np.uint8)
        self._next += nblocks
        return out

    def random_bytes(self, n: int) -> np.ndarray:
        """n pseudorandom bytes as a uint8 array."""
        if n < 0:
            raise ValueError("n: must be >= 0")
        return self._blocks((n + 15) // 16)[:n]

    def random_u64(self, n: int, bits: int = 64) -> np.ndarray:
        """n uniform values in [0, 2^bits) as uint64 (1 <= bits <= 64)."""
        if not 1 <= bits <= 64:
            raise ValueError(f"bits: must be in 1..64, got {bits}")
        if n < 0:
            raise ValueError("n: must be >= 0")
        v = self._blocks((8 * n + 15) // 16).view(np.uint64)[:n]  # a fresh buffer: no copy needed
        if bits < 64:
            np.bitwise_and(v, np.uint64((1 << bits) - 1), out=v)
        return v

    def random_tensor(self, shape, bits: int = 64, device=None):
        """A torch int64 tensor of the given shape with uniform values in [0, 2^bits)
        (for bits = 64: all int64 bit patterns)."""
        import torch

        shape = tuple(int(s) for s in shape)
        n = int(np.prod(shape, dtype=np.int64)) if shape else 1
        t = torch.from_numpy(self.random_u64(n, bits).view(np.int64)).reshape(shape)
        return t.to(device) if device is not None and str(device) != "cpu" else t

    def random_seed16(self) -> bytes:
        """16 fresh bytes (e.g. the key of a child stream sent to a peer)."""
        return self.random_bytes(16).tobytes()

    def wipe(self) -> None:
        """Overwrite the key with zeros; the stream is unusable afterwards."""
        key = getattr(self, "_key", None)
        if key is not None:
            key[:] = bytes(len(key))
            self._next = None

    def __del__(self) -> None:
        self.wipe()
