"""The dealer: makes all correlated randomness of a session (semi-honest, trusted third party).

Trust assumption: the dealer sees every mask it makes, so it must not collude with either
party and must not see the parties' traffic; it never sees inputs or opened values.
Randomness: a root AES-CTR stream keyed from the OS CSPRNG (or, tests only, from ``seed``).
Piece k of kind K with spec words w is generated from the stream keyed by
HMAC-SHA256(root key, "fsskernels.mpc.piece" || k || K || w) (``CtrStream.derive``), so
pieces of different kinds or specs never share randomness, and generation is deterministic
per (sequence number, request) and independent of the order in which parties ask.

One-time: ``generate`` serves each sequence number at most once and raises
MaterialReuseError when asked again (a second call would hand out the same masks and keys:
two gates opening x1 + r and x2 + r would reveal x1 - x2). ``next_seq()`` allocates the next
unserved number for offline users (``mpc.dealer_fss_keys``). ``close()`` overwrites the root
key and the frozen masks with zeros (best effort: Python may hold other copies).
FSS keys are made through ``dcf_gen/dpf_gen(..., _root_seed16=)`` with 16 bytes of the
piece's stream (never the test-only ``seed=``).

Sources (``fetch(party, seq, kind, spec_words) -> bytes``) feed a party's MaterialStream:
  LocalDealerSource       both parties are threads of this process and share one Dealer;
  ReplicatedDealerSource  tests only: each process runs an identical seeded Dealer and
                          keeps its own half (insecure: a party could compute the other half);
  RemoteDealerSource      (dealer_service.py) the dealer is a separate process.
"""
from __future__ import annotations

import struct
import threading

import numpy as np
import torch

from .._memory import avoid_hugepage_stalls
from .errors import MaterialError, MaterialReuseError, ProtocolMismatchError
from .limits import MAX_ELEMENTS, checked_numel
from .linalg import ring_matmul
from .material import (CODE_PRG, CODE_RAW, CODE_RING, PrgEntry, decode_spec, encode_spec, expand_prg, matmul_shape,
                       piece_from_entries, schema, serialize_piece, trunc_corr_bits, _tshape)
from .rng import CtrStream

_SESSION_ID_INDEX = (1 << 62)


def piece_label(seq: int, kind: str, words) -> bytes:
    """The PRF input of piece ``seq``: a prefix-free encoding of (seq, kind, spec words)."""
    k = kind.encode()
    return (b"fsskernels.mpc.piece\0" + struct.pack("<QH", seq, len(k)) + k + struct.pack("<H", len(words))
            + b"".join(struct.pack("<q", int(w)) for w in words))


def _check_sizes(kind: str, spec: tuple) -> None:
    """Refuse requests whose arrays exceed the runtime's limits before allocating anything."""
    total = 0
    for p in (0, 1):
        try:
            entries = schema(kind, spec, p)
        except MaterialError:
            raise
        except Exception as exc:  # noqa: BLE001 - malformed spec from a request
            raise MaterialError(f"material: malformed {kind} spec {spec}: {exc}") from None
        for _code, shape, _bits in entries:
            if tuple(shape) != (-1,):
                total += checked_numel(shape, f"material: {kind} array", MaterialError)
    if total > 4 * MAX_ELEMENTS:
        raise MaterialError(f"material: {kind} spec {spec} asks for more than {4 * MAX_ELEMENTS} elements")


def _mask(v: np.ndarray, bits: int) -> np.ndarray:
    return v if bits >= 64 else v & np.uint64((1 << bits) - 1)


def _t(v: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(v).view(np.int64))


def _u(t: torch.Tensor) -> np.ndarray:
    return t.contiguous().numpy().view(np.uint64)


class Dealer:
    """Generates both parties' halves of every piece. ``seed``: tests only (deterministic)."""

    def __init__(self, seed: int | None = None) -> None:
        avoid_hugepage_stalls()
        self._root = CtrStream.from_os() if seed is None else CtrStream.from_seed(seed, "dealer")
        self.session_id = self._root.child(_SESSION_ID_INDEX).random_bytes(16).tobytes()
        self._frozen: dict[int, tuple] = {}
        self.pieces = 0
        self._lock = threading.Lock()
        self._served_below = 0        # every seq < this has been served
        self._served: set[int] = set()  # served seqs >= _served_below
        self._high = -1               # the largest seq served

    # -- helpers --------------------------------------------------------------------------
    @staticmethod
    def _prg(rng: CtrStream, shape, bits: int) -> tuple[tuple, np.ndarray]:
        """A uniformly random array sent as a seed: (entry, values)."""
        seed = rng.random_seed16()
        values = expand_prg(seed, tuple(shape), bits)
        return (CODE_PRG, bits, PrgEntry(seed, shape, values)), values

    def _share(self, rng: CtrStream, v: np.ndarray, bits: int) -> tuple[tuple, tuple]:
        """Shares of v mod 2^bits: party 0's as a seed, party 1's in full."""
        e0, s0 = self._prg(rng, v.shape, bits)
        return e0, (CODE_RING, bits, _mask(v - s0, bits))

    # public names for extension kinds (material.register_kind)
    def prg_entry(self, rng: CtrStream, shape, bits: int) -> tuple[tuple, np.ndarray]:
        """A uniformly random array sent as a 16-byte seed: (array entry, values mod 2^bits)."""
        return self._prg(rng, shape, bits)

    def share_entry(self, rng: CtrStream, v: np.ndarray, bits: int) -> tuple[tuple, tuple]:
        """Entries (party 0, party 1) of additive shares of v mod 2^bits."""
        return self._share(rng, v, bits)

    def keygen(self, rng: CtrStream, kind: str, alpha: np.ndarray, beta, bits: int, out_bits: int) -> list:
        """Array entries (party 0, party 1) of raw FSS key batches for points ``alpha``; the
        keygen randomness is 16 bytes of the piece stream ``rng`` (internal path
        ``_root_seed16``, not the test-only ``seed``)."""
        import fsskernels

        gen = fsskernels.dcf_gen if kind == "dcf" else fsskernels.dpf_gen
        k0, k1 = gen(np.ascontiguousarray(alpha, dtype=np.uint64), beta, bits=bits, out_bits=out_bits,
                     _root_seed16=rng.random_seed16())
        return [(CODE_RAW, 8, k) for k in (k0, k1)]  # serialized only for pieces that leave the process

    # -- sequence numbers -------------------------------------------------------------------
    def served(self, seq: int) -> bool:
        """Whether piece ``seq`` has been handed out."""
        return seq < self._served_below or seq in self._served

    def next_seq(self) -> int:
        """The smallest sequence number above every one served so far (offline allocation)."""
        with self._lock:
            return self._high + 1

    def _mark_served(self, seq: int) -> None:
        with self._lock:
            if seq < self._served_below or seq in self._served:
                raise MaterialReuseError(f"dealer: piece {seq} was already served; sequence numbers are one-time")
            self._served.add(seq)
            self._high = max(self._high, seq)
            while self._served_below in self._served:
                self._served.discard(self._served_below)
                self._served_below += 1

    # -- generation -----------------------------------------------------------------------
    def generate(self, seq: int, kind: str, spec_words, *, serialize: bool = True) -> tuple:
        """Both halves (party 0, party 1) of piece ``seq``; each seq is served once
        (MaterialReuseError on a second request). Raises MaterialError for specs that do not
        make sense (unknown frozen mask, bad widths, sizes over the limits).
        ``serialize=False`` (parties in this process): parsed ``Piece`` objects instead of
        bytes, the same arrays without serialization, checksums or key copies."""
        if isinstance(seq, bool) or not isinstance(seq, (int, np.integer)) or not 0 <= seq < 1 << 62:
            raise ValueError(f"seq: expected an integer in [0, 2^62), got {seq!r}")
        seq = int(seq)
        if self.served(seq):
            raise MaterialReuseError(f"dealer: piece {seq} was already served; sequence numbers are one-time")
        halves = self._make(seq, kind, spec_words, serialize=serialize)
        self._mark_served(seq)
        return halves

    def _make(self, seq: int, kind: str, spec_words, *, serialize: bool = True) -> tuple:
        """Make piece ``seq`` without marking it served (the dealer process makes pieces
        ahead and drops wrong guesses unsent); ``generate`` is the serving entry point."""
        if self._root is None:
            raise MaterialError("dealer: closed")
        words = tuple(int(w) for w in spec_words)
        spec = decode_spec(words)
        _check_sizes(kind, spec)
        rng = self._root.derive(piece_label(seq, kind, encode_spec(spec)))
        try:
            out = self._generate(rng, seq, kind, spec)
        except (MemoryError, OverflowError, TypeError) as exc:
            raise MaterialError(f"material: cannot make {kind}{spec}: {type(exc).__name__}: {exc}") from None
        finally:
            rng.wipe()
        for p in (0, 1):  # the dealer checks its own output against the schema
            if len(schema(kind, spec, p)) != len(out[p]):
                raise AssertionError("dealer produced a piece that does not match its schema")
        self.pieces += 1
        if not serialize:
            return tuple(piece_from_entries(kind, p, seq, self.session_id, spec, encode_spec(spec), out[p])
                         for p in (0, 1))
        return tuple(serialize_piece(kind, p, seq, self.session_id, encode_spec(spec), out[p]) for p in (0, 1))

    def close(self) -> None:
        """Zeroize the root key and the frozen masks; the dealer is unusable afterwards."""
        if self._root is not None:
            self._root.wipe()
            self._root = None
        for ent in self._frozen.values():
            ent[4].zero_()
        self._frozen.clear()

    def _generate(self, rng: CtrStream, seq: int, kind: str, spec: tuple) -> list[list]:
        R = CODE_RING
        if kind in ("triple", "matmul_triple"):
            L, sa, sb = spec
            _check_L(L)
            (ea0, a0), (ea1, a1) = self._prg(rng, sa, L), self._prg(rng, sa, L)
            (eb0, b0), (eb1, b1) = self._prg(rng, sb, L), self._prg(rng, sb, L)
            a, b = _mask(a0 + a1, L), _mask(b0 + b1, L)
            if kind == "triple":
                c = _mask(a * b, L)
            else:
                matmul_shape(sa, sb)
                c = _mask(_u(ring_matmul(_t(a), _t(b))), L)
            ec0, ec1 = self._share(rng, c, L)
            return [[ea0, eb0, ec0], [ea1, eb1, ec1]]
        if kind in ("rtriple", "rmatmul_triple"):
            from .opened import make_triple

            return make_triple(self, rng, seq, kind, spec)
        if kind in ("trunc", "trunc1"):
            L, f, s = spec[:3]
            _check_L(L)
            if not 0 < f <= L - 2:
                raise MaterialError(f"material: truncation shift {f} must be in 1..{L - 2} for a {L}-bit ring")
            (er0, r0), (er1, r1) = self._prg(rng, s, L), self._prg(rng, s, L)
            r = _mask(r0 + r1, L)
            rh, m = r >> np.uint64(f), r >> np.uint64(L - 1)
            K = trunc_corr_bits(L, f)
            (eh0, eh1), (em0, em1) = self._share(rng, rh, 64), self._share(rng, m, K)
            halves = [[er0, eh0, em0], [er1, eh1, em1]]
            if kind == "trunc1":
                o = spec[3]
                _check_party(o)
                p = 1 - o
                mp = em1[2] if p == 1 else expand_prg(em0[2][0], s, K)
                ee, e = self._prg(rng, s, 1)
                es, sm = self._prg(rng, s, K)
                halves[o] += [ee, (R, K, _mask(e * mp + sm, K))]  # u = e * m_p + s mod 2^K
                halves[p] += [es]
            return halves
        if kind in ("frozen_mask", "owner_mask"):
            L, sw = spec[:2]
            _check_L(L)
            if len(sw) != 2:
                raise MaterialError("material: a frozen matrix must be 2-D")
            if kind == "frozen_mask":
                (e0, b0), (e1, b1) = self._prg(rng, sw, L), self._prg(rng, sw, L)
                self._frozen[seq] = ("shared", tuple(sw), L, -1, _t(_mask(b0 + b1, L)))
                return [[e0], [e1]]
            o = spec[2]
            _check_party(o)
            eb, b = self._prg(rng, sw, L)
            self._frozen[seq] = ("owner", tuple(sw), L, o, _t(b))
            halves = [[], []]
            halves[o] = [eb]
            return halves
        if kind in ("frozen_triple", "owner_triple"):
            if kind == "frozen_triple":
                L, mask, sw, sx, tr = spec
                o, mode = -1, "shared"
            else:
                L, mask, sw, sx, o, tr = spec
                mode = "owner"
            ent = self._frozen.get(mask)
            if ent is None or ent[0] != mode or ent[1] != tuple(sw) or ent[2] != L or ent[3] != o:
                raise MaterialError(f"material: no {mode} frozen mask {mask} with shape {tuple(sw)}, ring {L}")
            bt = ent[4].transpose(-1, -2) if tr else ent[4]
            matmul_shape(sx, _tshape(sw, tr))
            if mode == "shared":
                (ea0, a0), (ea1, a1) = self._prg(rng, sx, L), self._prg(rng, sx, L)
                a = _mask(a0 + a1, L)
                ec0, ec1 = self._share(rng, _mask(_u(ring_matmul(_t(a), bt)), L), L)
                return [[ea0, ec0], [ea1, ec1]]
            p = 1 - o
            ea, a = self._prg(rng, sx, L)
            c = _mask(_u(ring_matmul(_t(a), bt)), L)
            ecp, cp = self._prg(rng, c.shape, L)
            halves = [[], []]
            halves[p] = [ea, ecp]
            halves[o] = [(R, L, _mask(c - cp, L))]
            return halves
        if kind in ("dcf", "dpf"):
            bits, ob, n, beta = spec
            if not 1 <= bits <= 64 or not 1 <= ob <= 64 or not 0 <= beta < 1 << ob:
                raise MaterialError(f"material: bad {kind} spec {spec}")
            (er0, r0), (er1, r1) = self._prg(rng, (n,), bits), self._prg(rng, (n,), bits)
            r = _mask(r0 + r1, bits)
            kr0, kr1 = self.keygen(rng, kind, r, np.full(n, beta, dtype=np.uint64), bits, ob)
            return [[kr0, er0], [kr1, er1]]
        from .material import extension

        ext = extension(kind)
        if ext is not None:
            return ext[1](self, rng, spec)
        raise MaterialError(f"material: the dealer cannot make kind {kind!r}")


def _check_L(L: int) -> None:
    if not isinstance(L, int) or not 2 <= L <= 64:
        raise MaterialError(f"material: ring width {L} out of range 2..64")


def _check_party(o: int) -> None:
    if o not in (0, 1):
        raise MaterialError(f"material: party {o} is not 0 or 1")


class LocalDealerSource:
    """Both parties in threads of one process, one Dealer: the first party to ask for piece
    k makes both halves; the other half waits until its party asks (and must ask for the
    same kind and spec, else ProtocolMismatchError)."""

    def __init__(self, dealer: Dealer) -> None:
        self.dealer = dealer
        self._lock = threading.Lock()
        self._made: dict[int, tuple] = {}  # seq -> (kind, words, [bytes|None, bytes|None])
        self._next = [0, 0]
        self._generated = 0

    def pregenerate(self, requests) -> None:
        """Make pieces ahead of time for a list of (kind, spec) requests (in sequence order,
        continuing after what has been made), so the online phase only reads them."""
        for kind, spec in requests:
            with self._lock:
                seq = self._generated
                words = encode_spec(tuple(spec))
                self._made[seq] = (kind, words, list(self.dealer.generate(seq, kind, words, serialize=False)))
                self._generated += 1

    def fetch(self, party: int, seq: int, kind: str, words) -> bytes:
        with self._lock:
            if seq < self._next[party]:
                raise MaterialReuseError(f"material: party {party} already took piece {seq}")
            if seq not in self._made:
                if seq != self._generated:
                    raise MaterialError(f"material: piece {seq} requested out of order")
                self._made[seq] = (kind, tuple(words), list(self.dealer.generate(seq, kind, words, serialize=False)))
                self._generated += 1
            mk, mw, halves = self._made[seq]
            if mk != kind or tuple(mw) != tuple(words):
                raise ProtocolMismatchError(
                    f"material: party {party} asked for {kind}{decode_spec(words)} at step {seq}, "
                    f"the other party for {mk}{decode_spec(mw)}")
            data = halves[party]
            halves[party] = None
            if halves[0] is None and halves[1] is None:
                del self._made[seq]
            self._next[party] = seq + 1
            return data

    def close(self, party: int) -> None:
        pass


class ReplicatedDealerSource:
    """Tests only: this process runs its own copy of a seeded Dealer and keeps only its
    party's half. Two processes with the same seed get exactly the material of one dealer."""

    def __init__(self, seed: int) -> None:
        if seed is None:
            raise ValueError("dealer_seed: the replicated test dealer needs an explicit seed")
        self.dealer = Dealer(seed)

    def fetch(self, party: int, seq: int, kind: str, words) -> bytes:
        return self.dealer.generate(seq, kind, words)[party]

    def close(self, party: int) -> None:
        self.dealer.close()
