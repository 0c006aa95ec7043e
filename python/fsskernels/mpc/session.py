"""Session: one party's view of a two-party computation.

A Session holds the party id, the channel to the other party, the party's stream of dealer
material, the fixed-point configuration, the party's own CSPRNG, and the communication
statistics. Protocols are written once against it (SPMD): both parties run the same code on
their own shares and call the same Session methods in the same order.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch

from .._memory import avoid_hugepage_stalls
from .errors import PeerError
from .fixedpoint import MAX_FRAC_BITS, mask_bits
from .material import MaterialStream
from .packing import pack, packed_nbytes, unpack
from .rng import CtrStream
from .stats import Stats


@dataclass(frozen=True)
class FixedPointConfig:
    """frac_bits: fractional bits f of the fixed-point encoding (default 16).
    mul_bits: ring width L in which fixed-point products (mul, matmul, public float mul) are
    masked, opened and truncated; the exact product z (2f fractional bits, summed over the
    inner dimension for matmul) must satisfy |z| < 2^(L-2) ring units, i.e. |z| < 2^(L-2-2f)
    as a real number (default L = 54: |z| < 2^20 at f = 16). L = 64 gives the widest range
    (2^30) at 64/54 times the traffic. See docs/runtime.md, "Truncation".
    trunc_carry: how the exact truncation shares its carry bit [c mod 2^f < r mod 2^f]:
    "bit" (default): a one-bit-output DCF (XOR shares) turned arithmetic with a dealer's random
    bit: one more round and 2 more bits per element, keys ~2.3x smaller and ~2.6x cheaper to
    generate; "word": a DCF with 64-bit output, one round fewer (for high-latency links).
    Both give bit-identical results.
    mask_reuse: a value opened in one Beaver product keeps its mask for later products in the
    same ring (mpc/opened.py): only operands not opened before travel. Default True; False
    gives the one-time triples of earlier releases. Results are bit-identical either way."""

    frac_bits: int = 16
    mul_bits: int = 54
    trunc_carry: str = "bit"
    mask_reuse: bool = True

    def __post_init__(self) -> None:
        f, L = self.frac_bits, self.mul_bits
        if isinstance(f, bool) or not isinstance(f, int) or not 1 <= f <= MAX_FRAC_BITS:
            raise ValueError(f"frac_bits: must be an integer in 1..{MAX_FRAC_BITS}, got {f!r}")
        if isinstance(L, bool) or not isinstance(L, int) or not 2 * f + 3 <= L <= 64:
            raise ValueError(f"mul_bits: must be an integer in {2 * f + 3}..64 for frac_bits={f}, got {L!r}")
        if self.trunc_carry not in ("bit", "word"):
            raise ValueError(f"trunc_carry: must be 'bit' or 'word', got {self.trunc_carry!r}")
        if not isinstance(self.mask_reuse, bool):
            raise ValueError(f"mask_reuse: must be True or False, got {self.mask_reuse!r}")


class Session:
    """Party ``party``'s endpoint. Build with ``run_local`` / ``run_network`` rather than by hand.

    channel: a Channel to the other party. material: a MaterialStream (dealer pieces).
    rng: this party's CtrStream (OS CSPRNG by default; seeded only in tests).
    device: where share tensors live ("cpu" or a CUDA device)."""

    def __init__(self, party: int, channel, material: MaterialStream, config: FixedPointConfig | None = None,
                 rng: CtrStream | None = None, device="cpu") -> None:
        if party not in (0, 1):
            raise ValueError(f"party: must be 0 or 1, got {party!r}")
        avoid_hugepage_stalls()
        self.party = party
        self.channel = channel
        self.material = material
        self.config = config or FixedPointConfig()
        self.rng = rng or CtrStream.from_os()
        self.device = torch.device(device)
        self._stats = Stats()
        self._broken: str | None = None
        self._closed = False

    # -- bookkeeping ------------------------------------------------------------------------
    @property
    def frac_bits(self) -> int:
        return self.config.frac_bits

    def protocol(self, name: str):
        """Context manager: traffic inside is counted under ``name`` (nested: "outer/inner")."""
        return self._stats.label(name)

    def stats(self) -> dict:
        """Communication so far: {"protocols": {label: counters}, "total": counters,
        "dealer": counters}; counters: bytes_sent, bytes_recv, bytes, rounds, messages,
        critical_bytes (see stats.py for the cost model)."""
        snap = self._stats.snapshot()
        snap["dealer"] = {"bytes_recv": int(self.material.bytes_in), "pieces": int(self.material.next_seq)}
        return snap

    def reset_stats(self) -> None:
        self._stats.reset()

    @contextlib.contextmanager
    def _guard(self):
        if self._broken is not None:
            raise PeerError(f"party {self.party}: session is unusable after an earlier failure: {self._broken}")
        if self._closed:
            raise PeerError(f"party {self.party}: session is closed")
        try:
            yield
        except PeerError as exc:
            self._broken = str(exc)
            raise

    # -- dealer material --------------------------------------------------------------------
    def take(self, kind: str, spec: tuple) -> list:
        """The next dealer piece (``kind``, ``spec``) as int64 tensors on the session device
        (raw keys stay as they came: numpy bytes, or a KeyBatch from an in-process dealer;
        ``material.key_batch`` reads both)."""
        with self._guard():
            arrays = self.material.take(kind, spec)
        out = []
        for a in arrays:
            if isinstance(a, np.ndarray) and a.dtype == np.uint64:
                t = torch.from_numpy(a.view(np.int64))
                out.append(t.to(self.device) if self.device.type != "cpu" else t)
            else:
                out.append(a)
        return out

    def prefetch(self, requests) -> None:
        """Offline phase: fetch the dealer pieces for ``requests`` (a list of (kind, spec),
        e.g. ``material_log()`` of an earlier run of the same computation) before the online
        phase. Both parties must call it with the same list at the same point."""
        with self._guard():
            self.material.prefetch(requests)

    def material_log(self, clear: bool = False) -> list:
        """The (kind, spec) of every dealer piece taken so far (optionally clearing the log)."""
        log = list(self.material.history)
        if clear:
            self.material.history.clear()
        return log

    # -- messages ---------------------------------------------------------------------------
    def _to_bytes(self, tensors, bits: int) -> np.ndarray:
        sizes = [packed_nbytes(t.numel(), bits) for t in tensors]
        buf = np.empty(sum(sizes), np.uint8)
        off = 0
        for t, nb in zip(tensors, sizes):
            pack(t.detach().to("cpu").contiguous().view(-1).numpy(), bits, out=buf[off : off + nb])
            off += nb
        return buf

    def _from_bytes(self, buf: np.ndarray, shapes, bits: int) -> list:
        out, off = [], 0
        for shape in shapes:
            n = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
            nb = packed_nbytes(n, bits)
            v = unpack(buf[off : off + nb], n, bits).view(np.int64).reshape(tuple(shape))
            off += nb
            t = torch.from_numpy(v)
            out.append(t.to(self.device) if self.device.type != "cpu" else t)
        return out

    @staticmethod
    def _nbytes(shapes, bits: int) -> int:
        return sum(packed_nbytes(int(np.prod(s, dtype=np.int64)) if len(s) else 1, bits) for s in shapes)

    def send_raw(self, data: np.ndarray, new_round: bool = True) -> None:
        with self._guard():
            self.channel.send(data)
        self._stats.record(int(data.size), 0, 1 if new_round else 0)

    def recv_raw(self, nbytes: int, new_round: bool = True) -> np.ndarray:
        with self._guard():
            out = self.channel.recv(nbytes)
        self._stats.record(0, int(nbytes), 1 if new_round else 0)
        return out

    def send_ring(self, tensors, bits: int, new_round: bool = True) -> None:
        """Send int64 tensors to the other party, each value packed to ``bits`` bits.
        new_round=False: a follow-up of the previous message in the same direction (no
        reply in between), so it adds no latency to the round count."""
        self.send_raw(self._to_bytes(tensors, bits), new_round)

    def recv_ring(self, shapes, bits: int, new_round: bool = True) -> list:
        """Receive tensors of the given shapes sent with ``send_ring(..., bits)``: values in
        [0, 2^bits) (for bits = 64: any int64)."""
        return self._from_bytes(self.recv_raw(self._nbytes(shapes, bits), new_round), shapes, bits)

    def exchange_ring(self, tensors, bits: int) -> list:
        """Send ours and receive the peer's tensors of the same shapes in one round."""
        data = self._to_bytes(tensors, bits)
        shapes = [tuple(t.shape) for t in tensors]
        with self._guard():
            buf = self.channel.exchange(data, data.size)
        self._stats.record(int(data.size), int(buf.size))
        return self._from_bytes(buf, shapes, bits)

    def exchange_ring_start(self, tensors, bits: int, new_round: bool = True):
        """Start exchanging tensors (as exchange_ring) and return a callable that waits and
        returns the peer's tensors; lets a protocol compute while the bytes travel.
        new_round=False: this message travels in the same round as the previous one."""
        data = self._to_bytes(tensors, bits)
        shapes = [tuple(t.shape) for t in tensors]
        with self._guard():
            wait = self.channel.exchange_start(data, data.size)
        self._stats.record(int(data.size), int(data.size), 1 if new_round else 0)

        def finish() -> list:
            with self._guard():
                buf = wait()
            return self._from_bytes(buf, shapes, bits)

        return finish

    def open(self, tensors, bits: int = 64, reduce: bool = True) -> list:
        """Reconstruct shared values mod 2^bits to both parties (one round, each party sends
        its shares packed to ``bits`` bits). Returns values in [0, 2^bits); with
        reduce=False, values congruent to them mod 2^bits (saves a pass when only the low
        bits matter, e.g. as GEMM operands whose products are used mod 2^bits)."""
        theirs = self.exchange_ring(tensors, bits)
        return [mask_bits(a + b, bits) if reduce else a + b for a, b in zip(tensors, theirs)]

    def open_to(self, tensors, bits: int, party: int) -> list | None:
        """Reconstruct shared values mod 2^bits to ``party`` only (one one-way message);
        the other party gets None."""
        if party not in (0, 1):
            raise ValueError(f"to: must be 0, 1 or None, got {party!r}")
        if self.party != party:
            self.send_ring(tensors, bits)
            return None
        theirs = self.recv_ring([tuple(t.shape) for t in tensors], bits)
        return [mask_bits(a + b, bits) for a, b in zip(tensors, theirs)]

    # -- lifetime ---------------------------------------------------------------------------
    def close(self) -> None:
        """Release the dealer stream (tells a remote dealer this party is done), flush and
        close the channel, and wipe this party's CSPRNG key (best effort)."""
        if not self._closed:
            self._closed = True
            try:
                src = getattr(self.material, "_source", None)
                if src is not None and hasattr(src, "close") and self._broken is None:
                    src.close(self.party)
                self.channel.close()
            finally:
                self.rng.wipe()

    def __repr__(self) -> str:
        return f"Session(party={self.party}, frac_bits={self.frac_bits}, mul_bits={self.config.mul_bits}, device={self.device})"
