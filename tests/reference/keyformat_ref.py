"""Key batch byte format, version 1 (docs/kernels.md section 5: 32-byte header, body in tiles
of 32 keys, each tile a structure of arrays), and fsk_checksum."""
from __future__ import annotations

import struct

from .fss_ref import DCFKey, TreeKey, dpf_shape, mask, value_bytes

MASK64 = (1 << 64) - 1
MAGIC = b"FSSK"
VERSION = 1
HEADER_SIZE = 32
TILE = 32  # keys per tile of the body
SCHEME_CODE = {"dpf": 1, "dcf": 2}
SCHEME_NAME = {1: "dpf", 2: "dcf"}


def rotl64(x: int, r: int) -> int:
    x &= MASK64
    return ((x << r) | (x >> (64 - r))) & MASK64 if r % 64 else x


def fsk_checksum(data: bytes) -> int:
    n = len(data)
    padded = bytes(data) + b"\0" * ((-n) % 8)
    lanes = 32
    h = [(0x243F6A8885A308D3 + l) & MASK64 for l in range(lanes)]
    for i in range(len(padded) // 8):
        w = int.from_bytes(padded[8 * i:8 * i + 8], "little")
        l = i % lanes
        h[l] = rotl64(((h[l] ^ w) * 0x9E3779B97F4A7C15) & MASK64, 31)
    x = n
    for l in range(lanes):
        x = rotl64(((x ^ h[l]) * 0xBF58476D1CE4E5B9) & MASK64, 27)
    x = ((x ^ (x >> 29)) * 0x94D049BB133111EB) & MASK64
    x ^= x >> 32
    return x


def layout(scheme: str, bits: int, out_bits: int) -> dict:
    """levels, early_bits, value_bytes, bytes_per_key of a (scheme, bits, out_bits) key."""
    if scheme == "dpf" or out_bits == 1:
        _w, nu, L = dpf_shape(bits, out_bits)
        return dict(levels=L, early_bits=nu, value_bytes=0, bytes_per_key=16 * (L + 2))
    vb = value_bytes(out_bits)
    return dict(levels=bits, early_bits=0, value_bytes=vb,
                bytes_per_key=16 * (bits + 1) + vb * (bits + 1))


def key_size(scheme: str, bits: int, out_bits: int) -> int:
    return layout(scheme, bits, out_bits)["bytes_per_key"]


def _header24(scheme: str, party: int, bits: int, out_bits: int, count: int,
              version: int = VERSION, flags: int = 0, reserved: int = 0, magic: bytes = MAGIC) -> bytes:
    code = SCHEME_CODE[scheme] if isinstance(scheme, str) else scheme
    return magic + struct.pack("<HBBBBHIQ", version, code, party, bits, out_bits, flags, reserved, count)


def key_checksum(head24: bytes, body: bytes) -> int:
    """The header's checksum field: fsk_checksum(header[0:24] + tile digests), each digest
    fsk_checksum of one 32-key tile's bytes (docs/kernels.md section 5). For headers whose
    fields do not describe a layout (crafted bad inputs), the whole body is one tile."""
    try:
        code, bits, out_bits = head24[6], head24[8], head24[9]
        count = struct.unpack_from("<Q", head24, 16)[0]
        bpk = layout(SCHEME_NAME[code], bits, out_bits)["bytes_per_key"]
        if bpk * count != len(body):
            raise ValueError
    except (KeyError, ValueError, IndexError):
        return fsk_checksum(head24 + struct.pack("<Q", fsk_checksum(body)))
    digests = b"".join(
        struct.pack("<Q", fsk_checksum(body[t * TILE * bpk:min(count, (t + 1) * TILE) * bpk]))
        for t in range((count + TILE - 1) // TILE))
    return fsk_checksum(head24 + digests)


def finish(head24: bytes, body: bytes) -> bytes:
    """Header (24 bytes) + checksum + body."""
    assert len(head24) == 24
    return head24 + struct.pack("<Q", key_checksum(head24, body)) + body


def build(keys, scheme: str | None = None, party: int | None = None,
          bits: int | None = None, out_bits: int | None = None) -> bytes:
    """The key batch bytes of a list of keys of one party: tiles of 32 keys, each a structure
    of arrays, level-major."""
    if keys:
        k0 = keys[0]
        scheme, party, bits, out_bits = k0.scheme, k0.party, k0.bits, k0.out_bits
        for k in keys:
            assert (k.scheme, k.party, k.bits, k.out_bits) == (scheme, party, bits, out_bits)
    lay = layout(scheme, bits, out_bits)
    N = len(keys)
    body = bytearray()
    for t0 in range(0, N, TILE):  # tiles of 32 keys, each a structure of arrays, level-major
        tile = keys[t0:t0 + TILE]
        for k in tile:
            body += k.root.to_bytes(16, "little")
        for i in range(lay["levels"]):
            for k in tile:
                body += k.cw[i].to_bytes(16, "little")
        if lay["value_bytes"]:
            vb = lay["value_bytes"]
            for i in range(lay["levels"]):
                for k in tile:
                    body += k.vcw[i].to_bytes(vb, "little")
            for k in tile:
                body += k.fcw.to_bytes(vb, "little")
        else:
            for k in tile:
                body += k.fcw.to_bytes(16, "little")
    assert len(body) == N * lay["bytes_per_key"]
    return finish(_header24(scheme, party, bits, out_bits, N), bytes(body))


def parse(buf: bytes):
    """Validate and parse a key batch. Returns (header dict, list of keys).
    Raises ValueError('keys: ...') on anything malformed."""
    buf = bytes(buf)
    if len(buf) < HEADER_SIZE:
        raise ValueError("keys: buffer shorter than the header")
    if buf[0:4] != MAGIC:
        raise ValueError("keys: bad magic")
    version, scheme_c, party, bits, out_bits, flags, reserved, count = struct.unpack_from("<HBBBBHIQ", buf, 4)
    (checksum,) = struct.unpack_from("<Q", buf, 24)
    if version != VERSION:
        raise ValueError("keys: unsupported version")
    if scheme_c not in SCHEME_NAME:
        raise ValueError("keys: bad scheme")
    if party not in (0, 1):
        raise ValueError("keys: bad party")
    if not 1 <= bits <= 64:
        raise ValueError("keys: bad bits")
    if not 1 <= out_bits <= 64:
        raise ValueError("keys: bad out_bits")
    if flags != 0 or reserved != 0:
        raise ValueError("keys: flags/reserved not zero")
    scheme = SCHEME_NAME[scheme_c]
    lay = layout(scheme, bits, out_bits)
    if len(buf) != HEADER_SIZE + count * lay["bytes_per_key"]:
        raise ValueError("keys: wrong length")
    body = buf[HEADER_SIZE:]
    if key_checksum(buf[:24], body) != checksum:
        raise ValueError("keys: checksum mismatch")
    L = lay["levels"]
    vb = lay["value_bytes"]
    off = 0

    def take(size):
        nonlocal off
        v = int.from_bytes(body[off:off + size], "little")
        off += size
        return v

    keys = []
    for t0 in range(0, count, TILE):
        nt = min(TILE, count - t0)
        roots = [take(16) for _ in range(nt)]
        cw = [[take(16) for _ in range(nt)] for _ in range(L)]
        if any(r & 3 for r in roots):
            raise ValueError("keys: root seed low bits not zero")
        if vb:
            vcw = [[take(vb) for _ in range(nt)] for _ in range(L)]
            fcw = [take(vb) for _ in range(nt)]
            if any(v >> out_bits for row in vcw for v in row) or any(v >> out_bits for v in fcw):
                raise ValueError("keys: value bits above out_bits not zero")
            for k in range(nt):
                keys.append(DCFKey(party, bits, out_bits, roots[k], [cw[i][k] for i in range(L)],
                                   [vcw[i][k] for i in range(L)], fcw[k]))
        else:
            fcw = [take(16) for _ in range(nt)]
            w, _nu, _L = dpf_shape(bits, out_bits)
            for f in fcw:
                for j in range(128 // w):
                    if ((f >> (j * w)) & mask(w)) >> out_bits:
                        raise ValueError("keys: FCW slot bits above out_bits not zero")
            for k in range(nt):
                keys.append(TreeKey(scheme, party, bits, out_bits, roots[k], [cw[i][k] for i in range(L)], fcw[k]))
    assert off == len(body)
    hdr = dict(scheme=scheme, party=party, bits=bits, out_bits=out_bits, count=count, checksum=checksum)
    return hdr, keys


def rechecksum(buf: bytes) -> bytes:
    """Recompute the checksum of a (possibly edited) buffer, for crafting bad-input tests."""
    buf = bytes(buf)
    return finish(buf[:24], buf[HEADER_SIZE:])


# ----------------------------------------------------------------------------- conveniences
def gen_bytes(scheme: str, alphas, betas, bits: int, out_bits: int, seed: int,
              first: int = 0) -> tuple[bytes, bytes]:
    """Reference key batch bytes (party 0, party 1) for gen(alphas, betas, seed=seed); with
    `first`, of keys first, first+1, ... of a larger seeded batch (as its slice would be)."""
    from .fss_ref import gen_batch

    k0s, k1s = gen_batch(scheme, alphas, betas, bits, out_bits, seed, first)
    return (build(k0s, scheme, 0, bits, out_bits), build(k1s, scheme, 1, bits, out_bits))


def eval_bytes(party: int, buf: bytes, xs) -> list:
    """Reference evaluation of every key of a batch (given as bytes) at its x."""
    from .fss_ref import dcf_eval, dpf_eval

    hdr, keys = parse(buf)
    ev = dpf_eval if hdr["scheme"] == "dpf" else dcf_eval
    xs = [int(x) for x in xs]
    assert len(xs) == len(keys)
    return [ev(party, k, x) for k, x in zip(keys, xs)]


def fields_np(buf: bytes) -> dict:
    """Per-key numpy views of a batch's body (no validation): roots (N, 16), cw (N, L, 16),
    fcw (N, 16) or (N, vb), and vcw (N, L, vb) for DCF with out_bits >= 2. Key k's bytes are
    gathered from its tile."""
    import numpy as np

    version, scheme_c, party, bits, out_bits, flags, reserved, count = struct.unpack_from("<HBBBBHIQ", buf, 4)
    lay = layout(SCHEME_NAME[scheme_c], bits, out_bits)
    L, vb, S = lay["levels"], lay["value_bytes"], lay["bytes_per_key"]
    body = np.frombuffer(bytes(buf), dtype=np.uint8)[HEADER_SIZE:]
    assert body.size == count * S
    parts = {"roots": [], "cw": [], "vcw": [], "fcw": []}
    for t0 in range(0, count, TILE):
        nt = min(TILE, count - t0)
        tile = body[t0 * S:(t0 + nt) * S]
        off = 0
        parts["roots"].append(tile[off:off + 16 * nt].reshape(nt, 16))
        off += 16 * nt
        parts["cw"].append(tile[off:off + 16 * nt * L].reshape(L, nt, 16).transpose(1, 0, 2))
        off += 16 * nt * L
        if vb:
            parts["vcw"].append(tile[off:off + vb * nt * L].reshape(L, nt, vb).transpose(1, 0, 2))
            off += vb * nt * L
            parts["fcw"].append(tile[off:off + vb * nt].reshape(nt, vb))
            off += vb * nt
        else:
            parts["fcw"].append(tile[off:off + 16 * nt].reshape(nt, 16))
            off += 16 * nt
        assert off == tile.size
    out = {}
    shapes = {"roots": (0, 16), "cw": (0, L, 16), "vcw": (0, L, vb), "fcw": (0, vb or 16)}
    for k, v in parts.items():
        if k == "vcw" and not vb:
            continue
        out[k] = np.concatenate(v) if v else np.zeros(shapes[k], dtype=np.uint8)
    return out
