"""KeyBatch: byte round trip, sizes, slicing/indexing, attributes, pickling, and the byte
layout of docs/kernels.md section 5 (against the reference builder/parser)."""
from __future__ import annotations

import pickle
import struct

import numpy as np
import pytest

import fsskernels as fk
from reference import keyformat_ref as K

KB = fk.KeyBatch


def gen(scheme, n, bits, out_bits, seed=1):
    rng = np.random.default_rng(seed)
    alpha = rng.integers(0, 2**62, n, dtype=np.uint64) & np.uint64((1 << bits) - 1)
    beta = rng.integers(0, 2**62, n, dtype=np.uint64) & np.uint64((1 << out_bits) - 1)
    g = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
    k0, k1 = g(alpha, beta, bits=bits, out_bits=out_bits, seed=seed)
    return alpha, beta, k0, k1


def evaluate(kb, x):
    ev = fk.dpf_eval if kb.scheme == "dpf" else fk.dcf_eval
    return ev(kb.party, kb, x)


CASES = [("dpf", 32, 64), ("dpf", 8, 1), ("dpf", 64, 33), ("dcf", 64, 64), ("dcf", 64, 1), ("dcf", 12, 8),
         ("dcf", 20, 16), ("dcf", 7, 3)]


@pytest.mark.parametrize("scheme,bits,out_bits", CASES)
def test_roundtrip_sizes_attributes(scheme, bits, out_bits):
    n = 7
    alpha, _beta, k0, k1 = gen(scheme, n, bits, out_bits)
    size = K.key_size(scheme, bits, out_bits)
    for party, kb in ((0, k0), (1, k1)):
        assert isinstance(kb, KB)
        assert (kb.scheme, kb.party, kb.bits, kb.out_bits) == (scheme, party, bits, out_bits)
        assert len(kb) == n
        assert kb.key_size == size
        assert kb.nbytes == 32 + n * size
        b = kb.to_bytes()
        assert isinstance(b, bytes) and len(b) == kb.nbytes
        hdr, keys = K.parse(b)  # the reference parser accepts it (checksum, zero bits, ...)
        assert hdr == dict(scheme=scheme, party=party, bits=bits, out_bits=out_bits, count=n,
                           checksum=struct.unpack_from("<Q", b, 24)[0])
        assert K.build(keys, scheme, party, bits, out_bits) == b
        back = KB.from_bytes(b)
        assert isinstance(back, KB) and back.to_bytes() == b
        assert (back.scheme, back.party, back.bits, back.out_bits, len(back)) == (scheme, party, bits, out_bits, n)
        x = alpha.copy()
        assert np.array_equal(evaluate(back, x), evaluate(kb, x))


def test_documented_key_sizes():
    assert gen("dcf", 2, 64, 64)[2].key_size == 1560
    kb = gen("dcf", 2, 64, 1)[2]
    assert kb.key_size == 944 and kb.key_size <= 952
    assert gen("dpf", 2, 32, 64)[2].key_size == 528
    assert gen("dpf", 3, 32, 64)[3].nbytes == 32 + 3 * 528


@pytest.mark.parametrize("scheme,bits,out_bits", [("dpf", 20, 64), ("dcf", 20, 64), ("dcf", 64, 1), ("dcf", 9, 5)])
def test_slicing_and_indexing(scheme, bits, out_bits):
    n = 10
    alpha, beta, k0, k1 = gen(scheme, n, bits, out_bits, seed=5)
    x = alpha.copy()
    x[::2] ^= np.uint64(1)
    full0, full1 = evaluate(k0, x), evaluate(k1, x)
    for kb, full in ((k0, full0), (k1, full1)):
        s = kb[2:5]
        assert isinstance(s, KB) and len(s) == 3
        assert (s.scheme, s.party, s.bits, s.out_bits, s.key_size) == (kb.scheme, kb.party, bits, out_bits, kb.key_size)
        assert s.nbytes == 32 + 3 * kb.key_size
        assert np.array_equal(evaluate(s, x[2:5]), full[2:5])
        one = kb[3]
        assert isinstance(one, KB) and len(one) == 1
        assert np.array_equal(evaluate(one, x[3:4]), full[3:4])
        # A slice is a valid stand-alone batch: its bytes are the reference's batch of those keys.
        _, keys = K.parse(kb.to_bytes())
        assert s.to_bytes() == K.build(keys[2:5], kb.scheme, kb.party, bits, out_bits)
        assert one.to_bytes() == K.build(keys[3:4], kb.scheme, kb.party, bits, out_bits)
        assert KB.from_bytes(s.to_bytes()).to_bytes() == s.to_bytes()
        whole = kb[0:n]
        assert whole.to_bytes() == kb.to_bytes()


def test_slices_equal_reference_gen():
    """Key k of a batch depends only on (alpha_k, beta_k, seed, k): kb[a:b] equals the reference
    keys a..b-1 of the same seeded batch."""
    alpha, beta, k0, k1 = gen("dpf", 6, 16, 16, seed=8)
    r0, r1 = K.gen_bytes("dpf", alpha, beta, 16, 16, 8)
    _, keys0 = K.parse(r0)
    assert k0[1:4].to_bytes() == K.build(keys0[1:4])


def test_empty_batch_from_bytes():
    b = K.build([], "dcf", 1, 16, 32)
    kb = KB.from_bytes(b)
    assert len(kb) == 0 and kb.nbytes == 32 and kb.party == 1 and kb.scheme == "dcf"
    assert kb.to_bytes() == b


def test_reference_bytes_load_and_evaluate():
    """Keys built by the reference load and evaluate in the package like its own."""
    alpha = np.array([0, 77, 2**16 - 1, 4242], dtype=np.uint64)
    for scheme, out_bits in (("dpf", 32), ("dcf", 32), ("dcf", 1)):
        r0, r1 = K.gen_bytes(scheme, alpha, 3, 16, out_bits, 2024)
        k0, k1 = KB.from_bytes(r0), KB.from_bytes(r1)
        x = np.array([0, 76, 2**16 - 1, 9999], dtype=np.uint64)
        assert evaluate(k0, x).tolist() == K.eval_bytes(0, r0, x)
        assert evaluate(k1, x).tolist() == K.eval_bytes(1, r1, x)


def test_pickle_raises_typeerror():
    _, _, k0, _ = gen("dpf", 2, 8, 8)
    with pytest.raises(TypeError):
        pickle.dumps(k0)


@pytest.mark.parametrize("scheme,bits,out_bits,n", [("dpf", 6, 8, 2100), ("dcf", 5, 16, 2100), ("dcf", 7, 1, 70),
                                                   ("dpf", 20, 64, 70), ("dcf", 12, 33, 33)])
def test_multi_tile_batches_match_reference(scheme, bits, out_bits, n):
    """Whole batches of several 32-key tiles (last one partial; 2100 keys also cross the
    2048-key thread chunk) equal the reference bytes, and slices across tiles are right."""
    rng = np.random.default_rng(n + bits)
    alpha = rng.integers(0, 1 << bits, n, dtype=np.uint64)
    beta = rng.integers(0, 1 << min(out_bits, 62), n, dtype=np.uint64)
    g = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
    k0, k1 = g(alpha, beta, bits=bits, out_bits=out_bits, seed=31337)
    r0, r1 = K.gen_bytes(scheme, alpha, beta, bits, out_bits, 31337)
    assert k0.to_bytes() == r0
    assert k1.to_bytes() == r1
    for lo, hi in ((30, 35), (31, 33), (n - 3, n), (0, n)):
        _, keys = K.parse(K.gen_bytes(scheme, alpha[lo:hi], beta[lo:hi], bits, out_bits, 31337, first=lo)[1])
        assert k1[lo:hi].to_bytes() == K.build(keys, scheme, 1, bits, out_bits)
    x = alpha ^ (rng.integers(0, 2, n, dtype=np.uint64))
    assert evaluate(k0, x).tolist() == K.eval_bytes(0, r0, x)
    assert np.array_equal(evaluate(k0[33:n], x[33:n]), evaluate(k0, x)[33:n])
