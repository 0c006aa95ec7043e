"""Bad input raises ValueError naming the argument (docs/kernels.md: argument checks and the
key-batch validation of section 5)."""
from __future__ import annotations

import struct

import numpy as np
import pytest

import fsskernels as fk
from reference import keyformat_ref as K

KB = fk.KeyBatch
A3 = np.array([1, 2, 3], dtype=np.uint64)
GENS = [("dpf", fk.dpf_gen, fk.dpf_eval), ("dcf", fk.dcf_gen, fk.dcf_eval)]
IDS = ["dpf", "dcf"]


def keys(gen, bits=8, out_bits=16, n=3, seed=1):
    return gen(np.arange(n, dtype=np.uint64), 5, bits=bits, out_bits=out_bits, seed=seed)


@pytest.mark.parametrize("scheme,gen,ev", GENS, ids=IDS)
def test_alpha_dtype(scheme, gen, ev):
    for bad in (np.array([1.0, 2.0]), np.array([True, False]), np.array([1, 2], dtype=np.float32)):
        with pytest.raises(ValueError, match="alpha"):
            gen(bad, 1, bits=8, out_bits=8, seed=1)


@pytest.mark.parametrize("scheme,gen,ev", GENS, ids=IDS)
def test_alpha_out_of_range(scheme, gen, ev):
    with pytest.raises(ValueError, match="alpha"):
        gen(np.array([0, 256], dtype=np.uint64), 1, bits=8, out_bits=8, seed=1)
    with pytest.raises(ValueError, match="alpha"):
        gen(np.array([1 << 32], dtype=np.uint64), 1, bits=32, out_bits=8, seed=1)
    with pytest.raises(ValueError, match="alpha"):
        gen(np.array([-1], dtype=np.int64), 1, bits=63, out_bits=8, seed=1)  # 2^64 - 1 >= 2^63


@pytest.mark.parametrize("scheme,gen,ev", GENS, ids=IDS)
def test_bits_and_out_bits(scheme, gen, ev):
    for bad in (0, 65, -1, 8.0, "8", None, True):
        with pytest.raises(ValueError, match=r"\bbits"):
            gen(A3, 1, bits=bad, out_bits=8, seed=1)
        with pytest.raises(ValueError, match="out_bits"):
            gen(A3, 1, bits=8, out_bits=bad, seed=1)


@pytest.mark.parametrize("scheme,gen,ev", GENS, ids=IDS)
def test_beta_bad(scheme, gen, ev):
    with pytest.raises(ValueError, match="beta"):
        gen(A3, np.array([1.5, 2.0, 3.0]), bits=8, out_bits=8, seed=1)
    with pytest.raises(ValueError, match="beta"):
        gen(A3, np.array([1, 2], dtype=np.uint64), bits=8, out_bits=8, seed=1)  # 2 betas, 3 alphas


@pytest.mark.parametrize("scheme,gen,ev", GENS, ids=IDS)
def test_x_bad(scheme, gen, ev):
    k0, _ = keys(gen)
    for bad in (np.array([1.0, 2.0, 3.0]), np.array([True, False, True])):
        with pytest.raises(ValueError, match=r"\bx\b"):
            ev(0, k0, bad)
    for bad in (np.array([1, 2], dtype=np.uint64), np.array([1, 2, 3, 4], dtype=np.uint64),
                np.zeros(0, dtype=np.uint64)):
        with pytest.raises(ValueError, match=r"\bx\b"):
            ev(0, k0, bad)
    with pytest.raises(ValueError, match=r"\bx\b"):
        ev(0, k0, np.array([1, 256, 3], dtype=np.uint64))  # >= 2^bits


@pytest.mark.parametrize("scheme,gen,ev", GENS, ids=IDS)
def test_party(scheme, gen, ev):
    k0, k1 = keys(gen)
    for bad in (2, -1):
        with pytest.raises(ValueError, match="party"):
            ev(bad, k0, A3)
    # The header records the party: evaluating a party-1 key as party 0 (and vice versa) fails.
    with pytest.raises(ValueError, match="party"):
        ev(0, k1, A3)
    with pytest.raises(ValueError, match="party"):
        ev(1, k0, A3)


def test_wrong_scheme_keys():
    d0, _ = keys(fk.dcf_gen)
    p0, _ = keys(fk.dpf_gen)
    with pytest.raises(ValueError, match="keys"):
        fk.dpf_eval(0, d0, A3)
    with pytest.raises(ValueError, match="keys"):
        fk.dpf_eval_all(0, d0)
    with pytest.raises(ValueError, match="keys"):
        fk.dcf_eval(0, p0, A3)
    with pytest.raises(ValueError, match="keys"):
        fk.dpf_eval(0, p0.to_bytes(), A3)  # raw bytes are not a KeyBatch


def test_eval_all_bits_limit():
    k0, _ = fk.dpf_gen(np.array([1], dtype=np.uint64), 1, bits=25, out_bits=8, seed=1)
    with pytest.raises(ValueError, match="bits"):
        fk.dpf_eval_all(0, k0)
    with pytest.raises(ValueError, match="party"):
        fk.dpf_eval_all(2, k0)


def test_prg_hash_bad_blocks():
    with pytest.raises(ValueError, match="blocks"):
        fk.prg_hash(np.zeros((3, 15), dtype=np.uint8))
    with pytest.raises(ValueError, match="blocks"):
        fk.prg_hash(np.zeros((3, 16), dtype=np.float32))


# --------------------------------------------------------------------------- malformed key bytes
SMALL = [("dpf", 6, 16), ("dcf", 5, 8), ("dcf", 9, 1), ("dpf", 3, 64)]


@pytest.mark.parametrize("scheme,bits,out_bits", SMALL)
def test_truncated_and_flipped_bytes(scheme, bits, out_bits):
    gen = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
    k0, _ = gen(np.array([0, 1, (1 << bits) - 1], dtype=np.uint64), 3, bits=bits, out_bits=out_bits, seed=4)
    b = k0.to_bytes()
    KB.from_bytes(b)  # fine
    for cut in (0, 1, 16, 31, 32, len(b) - 16, len(b) - 1):
        with pytest.raises(ValueError, match="keys"):
            KB.from_bytes(b[:cut])
    with pytest.raises(ValueError, match="keys"):
        KB.from_bytes(b + b"\0")
    for pos in range(len(b)):  # every byte, header and body
        for bit in (0, 7):
            bad = bytearray(b)
            bad[pos] ^= 1 << bit
            with pytest.raises(ValueError, match="keys"):
                KB.from_bytes(bytes(bad))


def _edit(b: bytes, pos: int, fmt: str, value) -> bytes:
    """Overwrite a field and recompute the checksum, so that only the field is wrong."""
    bad = bytearray(b)
    struct.pack_into(fmt, bad, pos, value)
    return K.rechecksum(bytes(bad))


def test_bad_header_fields():
    k0, _ = fk.dcf_gen(A3, 3, bits=8, out_bits=16, seed=4)
    b = k0.to_bytes()
    assert K.rechecksum(b) == b
    bad_cases = [
        (0, "<4s", b"FSSX"),   # magic
        (0, "<4s", b"KSSF"),
        (4, "<H", 2),          # version
        (4, "<H", 0),
        (6, "<B", 0),          # scheme
        (6, "<B", 3),
        (6, "<B", 1),          # DPF header on a DCF body (length no longer matches)
        (7, "<B", 2),          # party
        (8, "<B", 0),          # bits
        (8, "<B", 65),
        (8, "<B", 9),          # length mismatch
        (9, "<B", 0),          # out_bits
        (9, "<B", 65),
        (10, "<H", 1),         # flags
        (12, "<I", 1),         # reserved
        (16, "<Q", 4),         # count
        (16, "<Q", 2),
        (16, "<Q", 1 << 60),
    ]
    for pos, fmt, value in bad_cases:
        with pytest.raises(ValueError, match="keys"):
            KB.from_bytes(_edit(b, pos, fmt, value))
    # Wrong checksum alone.
    bad = bytearray(b)
    bad[24] ^= 1
    with pytest.raises(ValueError, match="keys"):
        KB.from_bytes(bytes(bad))
    # The magic changed without fixing the checksum, and not bytes at all.
    with pytest.raises(ValueError, match="keys"):
        KB.from_bytes(b"FSSX" + b[4:])


def test_must_be_zero_bits():
    # Root seed control bits.
    k0, _ = fk.dpf_gen(A3, 3, bits=8, out_bits=16, seed=4)
    b = k0.to_bytes()
    with pytest.raises(ValueError, match="keys"):
        KB.from_bytes(_edit(b, 32 + 16, "<B", b[32 + 16] | 1))
    # DPF FCW slot above out_bits (16-bit slots, out_bits 13).
    k0, _ = fk.dpf_gen(A3, 3, bits=8, out_bits=13, seed=4)
    b = k0.to_bytes()
    last = len(b) - 16  # FCW of the last key
    with pytest.raises(ValueError, match="keys"):
        KB.from_bytes(_edit(b, last + 1, "<B", b[last + 1] | 0x80))  # bit 15 of slot 0
    with pytest.raises(ValueError, match="keys"):
        KB.from_bytes(_edit(b, last + 15, "<B", b[last + 15] | 0x20))  # bit 13 of slot 7
    # DCF value CW and FCW above out_bits (vb = 2 at out_bits 12).
    k0, _ = fk.dcf_gen(A3, 3, bits=8, out_bits=12, seed=4)
    b = k0.to_bytes()
    vcw0 = 32 + 3 * 16 * 9
    with pytest.raises(ValueError, match="keys"):
        KB.from_bytes(_edit(b, vcw0 + 1, "<B", b[vcw0 + 1] | 0x10))
    with pytest.raises(ValueError, match="keys"):
        KB.from_bytes(_edit(b, len(b) - 1, "<B", b[len(b) - 1] | 0x80))
    # The CW control bits (low 2 bits of CW blocks) are data, not must-be-zero: setting them
    # with a fixed checksum still loads.
    k0, _ = fk.dpf_gen(A3, 3, bits=8, out_bits=16, seed=4)
    b = k0.to_bytes()
    cw0 = 32 + 3 * 16
    edited = _edit(b, cw0, "<B", b[cw0] ^ 3)
    assert KB.from_bytes(edited).to_bytes() == edited
