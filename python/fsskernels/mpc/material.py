"""Dealer material: the versioned wire format, the per-kind schema, and one-time consumption.

A *piece* is everything one party gets for one use of correlated randomness (a Beaver
triple, a matrix triple, a truncation pair, a mask, a batch of FSS keys). Format (v1, all
integers little-endian; never pickle):

    offset size field
    0      4    magic b"FSMM"
    4      2    version = 1
    6      1    kind (KINDS)
    7      1    party (0 or 1)
    8      8    sequence number (0, 1, 2, ... per session)
    16     16   session id (the dealer session this piece belongs to)
    32     2    number of arrays (<= 16)
    34     2    number of spec words (<= 64)
    36     4    reserved, must be 0
    40     8    body length (bytes after the 56-byte header)
    48     8    checksum: CRC-32 of header[0:48] + body in the low 4 bytes, high 4 bytes
                zero (integrity against accidents, not a MAC)
    body:  spec words (int64 each), then per array: code (1: ring values packed to `bits`,
           2: raw bytes, 3: ring values given by a 16-byte seed), bits (1..64), ndim (<= 8),
           pad 0, 4 reserved zero bytes, nbytes (u64), dims (u64 each), data.

Seed-compressed arrays (code 3): values that are uniformly random by construction (one
party's share of a triple, a random mask) travel as a 16-byte seed; the values are
AES-CTR(seed) as in rng.CtrStream (uniform in [0, 2^bits)). Only values that are functions of
others (e.g. the second share of C = A @ B) travel in full, so most pieces shrink to a few
dozen bytes for one party and the correction arrays for the other.

The *spec* is the request that produced the piece (kind parameters: ring width, shapes,
...). ``parse_piece`` validates every field and length and raises MaterialError on
anything malformed; ``MaterialStream`` additionally checks session, party, kind, spec and
the array shapes of ``schema(kind, spec, party)``, and that the sequence number is the next
unconsumed one: presenting a piece twice raises MaterialReuseError.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .errors import MaterialError, MaterialReuseError, ProtocolMismatchError
from .limits import MAX_ELEMENTS, MAX_PIECE_BYTES, checked_numel
from .packing import pack, packed_nbytes, unpack

MAGIC = b"FSMM"
VERSION = 1
_HDR = struct.Struct("<4sHBBQ16sHHIQ8s")
HEADER_SIZE = _HDR.size  # 56
_ARR = struct.Struct("<BBBB4xQ")
MAX_ARRAYS = 16
MAX_SPEC = 64
MAX_NDIM = 8

KINDS = {
    "triple": 1, "matmul_triple": 2, "trunc": 3, "trunc1": 4, "frozen_mask": 5,
    "frozen_triple": 6, "owner_mask": 7, "owner_triple": 8, "dcf": 9, "dpf": 10,
    "rtriple": 11, "rmatmul_triple": 12, "bye": 15,
}
KIND_NAMES = {v: k for k, v in KINDS.items()}
CODE_RING, CODE_RAW, CODE_PRG = 1, 2, 3


class PrgEntry(tuple):
    """(seed16, dims) of a seed-compressed array, carrying the dealer's expanded ``values``
    so an in-process party (``piece_from_entries``) need not expand the seed again."""

    values: np.ndarray | None = None

    def __new__(cls, seed: bytes, dims, values: np.ndarray | None = None) -> "PrgEntry":
        obj = super().__new__(cls, (seed, tuple(dims)))
        obj.values = values
        return obj


def _is_keybatch(obj) -> bool:
    from ..keys import KeyBatch

    return isinstance(obj, KeyBatch)


def key_batch(raw):
    """The KeyBatch of a raw-key array of a piece: pieces made in this process carry the
    dealer's KeyBatch itself; pieces that arrived as bytes carry them, validated on load here
    (``KeyBatch.from_bytes``: ValueError naming "keys" on any defect)."""
    if _is_keybatch(raw):
        return raw
    from ..keys import KeyBatch

    return KeyBatch.from_bytes(raw)

# Kinds added by higher layers (the FSS gates): kind -> (schema_fn(spec, party), generate_fn(dealer, rng, spec)).
_EXTENSIONS: dict = {}


def register_kind(name: str, code: int, schema_fn, generate_fn) -> None:
    """Add a material kind (used by ``fsskernels.mpc.gates``). ``schema_fn(spec, party)``
    returns the party's list of (code, shape, bits); ``generate_fn(dealer, rng, spec)``
    returns both halves as lists of array entries (see ``Dealer.prg_entry``/``share_entry``).
    Codes are one byte and unique; registering the same kind again with the same code is a no-op."""
    if not 16 <= code < 256:
        raise ValueError(f"code: extension kinds use codes 16..255, got {code}")
    if KINDS.get(name, code) != code or KIND_NAMES.get(code, name) != name:
        raise ValueError(f"kind {name!r} / code {code} clashes with a registered kind")
    KINDS[name] = code
    KIND_NAMES[code] = name
    _EXTENSIONS[name] = (schema_fn, generate_fn)


def extension(kind: str):
    """(schema_fn, generate_fn) of a registered extension kind, or None."""
    return _EXTENSIONS.get(kind)


# ----------------------------------------------------------------------------- spec words
def encode_spec(items: Sequence) -> tuple[int, ...]:
    """Flatten a spec (ints and shape tuples) to words: int v -> (0, v); shape -> (1, ndim, dims...)."""
    out: list[int] = []
    for it in items:
        if isinstance(it, (tuple, list)):
            out += [1, len(it), *(int(d) for d in it)]
        else:
            out += [0, int(it)]
    if len(out) > MAX_SPEC or any(w < 0 or w >= 1 << 63 for w in out):
        raise ValueError("spec: too long or has values out of range")
    return tuple(out)


def decode_spec(words: Sequence[int]) -> tuple:
    items: list = []
    i = 0
    words = [int(w) for w in words]
    try:
        while i < len(words):
            tag = words[i]
            if tag == 0:
                items.append(words[i + 1])
                i += 2
            elif tag == 1:
                n = words[i + 1]
                if n > MAX_NDIM:
                    raise MaterialError("material: spec shape has too many dimensions")
                items.append(tuple(words[i + 2 : i + 2 + n]))
                if len(items[-1]) != n:
                    raise IndexError
                i += 2 + n
            else:
                raise MaterialError(f"material: bad spec tag {tag}")
    except IndexError:
        raise MaterialError("material: truncated spec") from None
    return tuple(items)


# ----------------------------------------------------------------------------- shapes
def broadcast_shape(a: tuple, b: tuple) -> tuple:
    """numpy broadcasting of two shapes (ValueError naming both if incompatible)."""
    try:
        return tuple(np.broadcast_shapes(tuple(a), tuple(b)))
    except ValueError:
        raise ValueError(f"shapes {tuple(a)} and {tuple(b)} do not broadcast") from None


def matmul_shape(a: tuple, b: tuple) -> tuple:
    """Shape of a @ b for (..., m, k) @ (..., k, n) with broadcast batch dimensions."""
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"matmul: operands need at least 2 dimensions, got {tuple(a)} and {tuple(b)}")
    if a[-1] != b[-2]:
        raise ValueError(f"matmul: inner dimensions differ: {tuple(a)} @ {tuple(b)}")
    return broadcast_shape(a[:-2], b[:-2]) + (a[-2], b[-1])


def _tshape(shape: tuple, transposed: int) -> tuple:
    return tuple(shape[:-2]) + (shape[-1], shape[-2]) if transposed else tuple(shape)


def trunc_corr_bits(L: int, f: int) -> int:
    """Width of the truncation's wrap-correction shares (m, u, s): they are only ever used
    shifted left by L - f in Z_2^64, so only their low 64 - (L - f) bits matter."""
    return max(1, min(64, 64 - (L - f)))


def schema(kind: str, spec: tuple, party: int) -> list[tuple[int, tuple, int]]:
    """The arrays party ``party`` receives for a piece: a list of (code, shape, bits).

    Kinds and specs (L: ring width of the masked values, f: shift, o: the owner/opener party):
      triple        (L, shape_a, shape_b)            a, b, c = a*b (broadcast)        shares mod 2^L
      matmul_triple (L, shape_a, shape_b)            A, B, C = A@B                    shares mod 2^L
      trunc         (L, f, shape)                    r mod 2^L; r>>f in Z_2^64; msb(r) mod 2^K
      trunc1        (L, f, shape, o)                 as trunc, plus e (1 bit), u for o / s for the other (mod 2^K)
                                                     (K = trunc_corr_bits(L, f) = 64 - L + f)
      frozen_mask   (L, shape_w)                     B (shares)
      frozen_triple (L, mask_seq, shape_w, shape_x, t) A (shares), C = A @ B (or B^T if t) shares
      owner_mask    (L, shape_w, o)                  B in full to o, nothing to the other
      owner_triple  (L, mask_seq, shape_w, shape_x, o, t)  A in full + C share to the other, C share to o
      dcf / dpf     (bits, out_bits, n, beta)        key batch (raw), shares of the input mask r mod 2^bits
      rtriple / rmatmul_triple (L, shape_a, shape_b, delta_a, flags_a, shape_gen_a, delta_b, flags_b, shape_gen_b)
                    as triple / matmul_triple, but a mask with delta > 0 (or flags bit 3 for b) is one
                    the parties already hold (opened.py) and is not sent: shares of the fresh masks,
                    then of C
    """
    try:
        if kind == "triple":
            L, sa, sb = spec
            return [(CODE_RING, sa, L), (CODE_RING, sb, L), (CODE_RING, broadcast_shape(sa, sb), L)]
        if kind == "matmul_triple":
            L, sa, sb = spec
            return [(CODE_RING, sa, L), (CODE_RING, sb, L), (CODE_RING, matmul_shape(sa, sb), L)]
        if kind in ("rtriple", "rmatmul_triple"):
            L, sa, sb, da, _fa, _ga, db, fb, _gb = spec
            sc = broadcast_shape(sa, sb) if kind == "rtriple" else matmul_shape(sa, sb)
            fresh = [(CODE_RING, sa, L)] if da == 0 else []
            fresh += [(CODE_RING, sb, L)] if db == 0 and not fb & 8 else []
            return fresh + [(CODE_RING, sc, L)]
        if kind == "trunc":
            L, f, s = spec
            return [(CODE_RING, s, L), (CODE_RING, s, 64), (CODE_RING, s, trunc_corr_bits(L, f))]
        if kind == "trunc1":
            L, f, s, o = spec
            K = trunc_corr_bits(L, f)
            base = [(CODE_RING, s, L), (CODE_RING, s, 64), (CODE_RING, s, K)]
            return base + ([(CODE_RING, s, 1), (CODE_RING, s, K)] if party == o else [(CODE_RING, s, K)])
        if kind == "frozen_mask":
            L, sw = spec
            return [(CODE_RING, sw, L)]
        if kind == "frozen_triple":
            L, _mask, sw, sx, t = spec
            return [(CODE_RING, sx, L), (CODE_RING, matmul_shape(sx, _tshape(sw, t)), L)]
        if kind == "owner_mask":
            L, sw, o = spec
            return [(CODE_RING, sw, L)] if party == o else []
        if kind == "owner_triple":
            L, _mask, sw, sx, o, t = spec
            sc = matmul_shape(sx, _tshape(sw, t))
            return [(CODE_RING, sc, L)] if party == o else [(CODE_RING, sx, L), (CODE_RING, sc, L)]
        if kind in ("dcf", "dpf"):
            bits, _ob, n, _beta = spec
            return [(CODE_RAW, (-1,), 8), (CODE_RING, (n,), bits)]
        ext = _EXTENSIONS.get(kind)
        if ext is not None:
            return ext[0](spec, party)
    except (TypeError, ValueError) as exc:
        raise MaterialError(f"material: bad spec {spec!r} for kind {kind!r}: {exc}") from None
    raise MaterialError(f"material: unknown kind {kind!r}")


# ----------------------------------------------------------------------------- (de)serialize
def _checksum(header48: bytes, body: bytes | memoryview) -> bytes:
    return zlib.crc32(body, zlib.crc32(header48)).to_bytes(4, "little") + bytes(4)


def expand_prg(seed: bytes, shape, bits: int) -> np.ndarray:
    """The ring values of a seed-compressed array: AES-CTR(seed), uniform in [0, 2^bits)."""
    from .rng import CtrStream

    n = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
    return CtrStream(seed).random_u64(n, bits).reshape(tuple(shape))


def serialize_piece(kind: str, party: int, seq: int, session_id: bytes, spec_words: Sequence[int],
                    arrays: Sequence) -> bytes:
    """Bytes of one piece. ``arrays``: (CODE_RING, bits, values) with ring values (any
    integer dtype, low ``bits`` bits kept), (CODE_RAW, 8, uint8 bytes), or
    (CODE_PRG, bits, (seed16, shape))."""
    if kind not in KINDS or party not in (0, 1) or len(session_id) != 16:
        raise ValueError("serialize_piece: bad kind, party or session id")
    if len(arrays) > MAX_ARRAYS or len(spec_words) > MAX_SPEC:
        raise ValueError("serialize_piece: too many arrays or spec words")
    parts = [np.asarray(spec_words, dtype=np.int64).tobytes()]
    for code, bits, arr in arrays:
        if code == CODE_PRG:
            seed, dims = arr
            if len(seed) != 16:
                raise ValueError("serialize_piece: seeds are 16 bytes")
            data = np.frombuffer(bytes(seed), dtype=np.uint8)
        elif code == CODE_RAW:
            if _is_keybatch(arr):
                arr = np.frombuffer(arr.to_bytes(), dtype=np.uint8)
            data = np.ascontiguousarray(arr, dtype=np.uint8).reshape(-1)
            dims, bits = (data.size,), 8
        else:
            arr = np.asarray(arr)
            dims = arr.shape
            data = pack(arr.astype(np.uint64, copy=False) if arr.dtype != np.int64 else arr, bits)
        if len(dims) > MAX_NDIM:
            raise ValueError("serialize_piece: too many dimensions")
        parts.append(_ARR.pack(code, bits, len(dims), 0, data.size))
        parts.append(np.asarray(dims, dtype=np.uint64).tobytes())
        parts.append(data.tobytes())
    body = b"".join(parts)
    hdr = _HDR.pack(MAGIC, VERSION, KINDS[kind], party, seq, bytes(session_id), len(arrays), len(spec_words), 0,
                    len(body), b"\0" * 8)
    return hdr[:48] + _checksum(hdr[:48], body) + body


@dataclass
class Piece:
    """A parsed piece. ``arrays``: uint64 numpy arrays (ring values) or uint8 (raw)."""

    kind: str
    party: int
    seq: int
    session_id: bytes
    spec: tuple
    arrays: list
    bits: list
    _taken: bool = False
    nbytes: int = 0  # its size as bytes on the wire (serialized or not)

    def take(self) -> list:
        """The arrays, once: a second call raises MaterialReuseError."""
        if self._taken:
            raise MaterialReuseError(f"material piece {self.seq} ({self.kind}) was already used")
        self._taken = True
        arrays, self.arrays = self.arrays, []
        return arrays


def piece_from_entries(kind: str, party: int, seq: int, session_id: bytes, spec: tuple, spec_words,
                       arrays: Sequence) -> Piece:
    """The Piece a party would parse from ``serialize_piece(...)`` of the same entries, made
    without serializing (both parties and the dealer in one process): ring values reduced mod
    2^bits as uint64, seeds expanded (or the dealer's expansion reused), key batches handed
    over as KeyBatch objects. ``nbytes`` is the serialized size, so traffic accounting is the
    same on both paths."""
    out, widths = [], []
    nbytes = HEADER_SIZE + 8 * len(spec_words)
    for code, bits, arr in arrays:
        if code == CODE_PRG:
            seed, dims = arr
            vals = getattr(arr, "values", None)
            out.append(vals.reshape(dims).copy() if vals is not None else expand_prg(bytes(seed), dims, bits))  # own copy: the dealer may keep or wipe its values
            nbytes += _ARR.size + 8 * len(dims) + 16
        elif code == CODE_RAW:
            if not _is_keybatch(arr):
                arr = np.ascontiguousarray(arr, dtype=np.uint8).reshape(-1)
            out.append(arr)
            bits = 8
            nbytes += _ARR.size + 8 + (arr.nbytes if not _is_keybatch(arr) else arr.nbytes)
        else:
            a = np.asarray(arr)
            a = a.astype(np.uint64, copy=False) if a.dtype != np.uint64 else a
            if bits < 64:
                a = a & np.uint64((1 << bits) - 1)
            out.append(a)
            nbytes += _ARR.size + 8 * a.ndim + packed_nbytes(a.size, bits)
        widths.append(bits)
    return Piece(kind, party, seq, bytes(session_id), tuple(spec), out, widths, nbytes=nbytes)


def parse_piece(data, expect: tuple | None = None) -> Piece:
    """Parse and validate the bytes of one piece (MaterialError on any defect, never
    MemoryError/TypeError/OverflowError). ``expect``: (kind, spec, schema list of
    (code, shape, bits)) of what the receiver asked for; when given, every array's code, width
    and dims are compared with it *before* any array is unpacked or expanded, so a crafted
    piece with a valid checksum and huge dims is refused without allocating (a piece of
    another kind or spec is returned without arrays: ``check_piece`` reports it). Element counts are checked
    with Python integers against limits.MAX_ELEMENTS in any case."""
    try:
        return _parse_piece(data, expect)
    except MaterialError:
        raise
    except (MemoryError, OverflowError, TypeError, ValueError, IndexError, struct.error) as exc:
        raise MaterialError(f"material: malformed piece ({type(exc).__name__}: {exc})") from None


def _parse_piece(data, expect) -> Piece:
    if not isinstance(data, (bytes, bytearray, memoryview, np.ndarray)):
        raise MaterialError(f"material: expected bytes, got {type(data).__name__}")
    buf = memoryview(bytes(data) if not isinstance(data, (bytes, bytearray)) else data)
    if len(buf) > MAX_PIECE_BYTES:
        raise MaterialError(f"material: {len(buf)} bytes exceeds the {MAX_PIECE_BYTES}-byte limit of a piece")
    if len(buf) < HEADER_SIZE:
        raise MaterialError(f"material: {len(buf)} bytes is shorter than the {HEADER_SIZE}-byte header")
    magic, version, kind, party, seq, sid, narr, nspec, reserved, body_len, cks = _HDR.unpack_from(buf, 0)
    if magic != MAGIC:
        raise MaterialError("material: bad magic (not dealer material)")
    if version != VERSION:
        raise MaterialError(f"material: unsupported version {version} (this runtime reads version {VERSION})")
    if kind not in KIND_NAMES:
        raise MaterialError(f"material: unknown kind code {kind}")
    if party not in (0, 1):
        raise MaterialError(f"material: bad party {party}")
    if reserved != 0 or narr > MAX_ARRAYS or nspec > MAX_SPEC:
        raise MaterialError("material: bad header (reserved field, array or spec count)")
    if body_len != len(buf) - HEADER_SIZE:
        raise MaterialError(f"material: body length {body_len} does not match the buffer ({len(buf) - HEADER_SIZE})")
    body = buf[HEADER_SIZE:]
    if _checksum(bytes(buf[:48]), body) != cks:
        raise MaterialError("material: checksum mismatch (corrupted piece)")
    off = 8 * nspec
    if off > len(body):
        raise MaterialError("material: truncated spec")
    spec = decode_spec(np.frombuffer(body[:off], dtype=np.int64).tolist())
    entries = []
    for _ in range(narr):
        if off + _ARR.size > len(body):
            raise MaterialError("material: truncated array header")
        code, bits, ndim, pad, nbytes = _ARR.unpack_from(body, off)
        off += _ARR.size
        if code not in (CODE_RING, CODE_RAW, CODE_PRG) or not 1 <= bits <= 64 or ndim > MAX_NDIM or pad:
            raise MaterialError("material: bad array header")
        if off + 8 * ndim > len(body):
            raise MaterialError("material: truncated array dims")
        dims = tuple(int(d) for d in np.frombuffer(body[off : off + 8 * ndim], dtype=np.uint64))
        off += 8 * ndim
        limit = MAX_PIECE_BYTES if code == CODE_RAW else MAX_ELEMENTS
        n = checked_numel(dims, "material: array dims", MaterialError, limit)
        want = n if code == CODE_RAW else 16 if code == CODE_PRG else packed_nbytes(n, bits)
        if code == CODE_RAW and (bits != 8 or ndim != 1):
            raise MaterialError("material: raw arrays are 1-D bytes")
        if nbytes != want or off + nbytes > len(body):
            raise MaterialError(f"material: array data length {nbytes} does not match its shape {dims} at {bits} bits")
        entries.append((code, bits, dims, n, body[off : off + nbytes]))
        off += nbytes
    if off != len(body):
        raise MaterialError("material: trailing bytes after the last array")
    if expect is not None and (KIND_NAMES[kind] != expect[0] or spec != tuple(expect[1])):
        return Piece(KIND_NAMES[kind], party, seq, bytes(sid), spec, [], [])
    if expect is not None:
        expect = expect[2]
        if len(expect) != len(entries):
            raise MaterialError(f"material: {KIND_NAMES[kind]} for party {party} needs {len(expect)} arrays, got {len(entries)}")
        for (wcode, wshape, wbits), (code, bits, dims, _n, _raw) in zip(expect, entries):
            if wcode == CODE_RAW:
                if code != CODE_RAW:
                    raise MaterialError(f"material: {KIND_NAMES[kind]} expects raw bytes")
            elif code == CODE_RAW or bits != wbits or dims != tuple(wshape):
                raise MaterialError(f"material: {KIND_NAMES[kind]} array is {dims} at {bits} bits, expected "
                                    f"{tuple(wshape)} at {wbits} bits")
    arrays, widths = [], []
    for code, bits, dims, n, raw in entries:
        raw = np.frombuffer(raw, dtype=np.uint8)
        widths.append(bits)
        if code == CODE_RAW:
            arrays.append(raw)  # read-only view; KeyBatch.from_bytes makes its own (erasable) copy
        elif code == CODE_PRG:
            arrays.append(expand_prg(raw.tobytes(), dims, bits))
        else:
            arrays.append(unpack(raw, n, bits).reshape(dims))
    return Piece(KIND_NAMES[kind], party, seq, bytes(sid), spec, arrays, widths, nbytes=len(buf))


def check_piece(piece: Piece, kind: str, spec: tuple, party: int, session_id: bytes, seq: int) -> None:
    """Check a parsed piece against what the party expects at this point of the protocol."""
    if piece.session_id != session_id:
        raise MaterialError("material: piece belongs to another dealer session")
    if piece.party != party:
        raise MaterialError(f"material: piece is for party {piece.party}, not party {party}")
    if piece.seq < seq:
        raise MaterialReuseError(f"material: piece {piece.seq} was already consumed (next is {seq})")
    if piece.seq != seq:
        raise MaterialError(f"material: piece {piece.seq} arrived out of order (expected {seq})")
    if piece.kind != kind or piece.spec != tuple(spec):
        raise ProtocolMismatchError(f"material: expected {kind}{tuple(spec)}, got {piece.kind}{piece.spec}")
    want = schema(kind, tuple(spec), party)
    if len(want) != len(piece.arrays):
        raise MaterialError(f"material: {kind} for party {party} needs {len(want)} arrays, got {len(piece.arrays)}")
    for (code, shape, bits), arr, width in zip(want, piece.arrays, piece.bits):
        if code == CODE_RING and (tuple(arr.shape) != tuple(shape) or arr.dtype != np.uint64):
            raise MaterialError(f"material: {kind} array has shape {arr.shape}, expected {tuple(shape)}")
        if code == CODE_RING and width != bits:  # unpacking keeps exactly `width` bits
            raise MaterialError(f"material: {kind} array has {width}-bit values, expected {bits}-bit")
        if code == CODE_RAW and not _is_keybatch(arr) and arr.dtype != np.uint8:
            raise MaterialError(f"material: {kind} expects raw bytes")


def _size(data) -> int:
    return data.nbytes if isinstance(data, Piece) else len(data)


class MaterialStream:
    """One party's stream of dealer material: pieces are consumed strictly in sequence and
    each exactly once. ``source.fetch(party, seq, kind, spec_words) -> bytes`` supplies them."""

    def __init__(self, source, party: int, session_id: bytes) -> None:
        self._source = source
        self.party = party
        self.session_id = bytes(session_id)
        self.next_seq = 0
        self.bytes_in = 0
        self.history: list = []  # (kind, spec) of every piece taken, for prefetch plans
        self._ahead: dict = {}   # seq -> (kind, spec, bytes) fetched by prefetch

    def take(self, kind: str, spec: tuple) -> list:
        """The arrays of the next piece, which must be ``kind`` with ``spec``."""
        spec = tuple(spec)
        ahead = self._ahead.pop(self.next_seq, None)
        if ahead is not None:
            data = ahead[2]
        else:
            data = self._source.fetch(self.party, self.next_seq, kind, encode_spec(spec))
            self.bytes_in += _size(data)
        arrays = self.accept(data, kind, spec)
        self.history.append((kind, spec))
        return arrays

    def prefetch(self, requests) -> None:
        """Fetch the pieces for a list of (kind, spec) requests now (the offline phase), in
        the order the protocol will take them; ``take`` then only validates and expands.
        Both parties must prefetch the same list."""
        seq = self.next_seq + len(self._ahead)
        for kind, spec in requests:
            spec = tuple(spec)
            data = self._source.fetch(self.party, seq, kind, encode_spec(spec))
            self.bytes_in += _size(data)
            self._ahead[seq] = (kind, spec, data)
            seq += 1

    def accept(self, data, kind: str, spec: tuple) -> list:
        """Validate externally supplied piece bytes (or a Piece made in this process by
        ``piece_from_entries``) as the next piece and consume it."""
        try:
            expect = schema(kind, tuple(spec), self.party)
        except MaterialError:
            raise
        except Exception as exc:  # noqa: BLE001 - a spec the schema cannot read
            raise MaterialError(f"material: malformed {kind} spec: {exc}") from None
        piece = data if isinstance(data, Piece) else parse_piece(data, (kind, tuple(spec), expect))
        check_piece(piece, kind, tuple(spec), self.party, self.session_id, self.next_seq)
        self.next_seq += 1
        return piece.take()
