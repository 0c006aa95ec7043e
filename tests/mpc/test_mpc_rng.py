import numpy as np
import pytest
from Crypto.Cipher import AES

from fsskernels.mpc.rng import CtrStream


def _ref_ctr(key, start, nblocks):
    blocks = b"".join((start + i).to_bytes(16, "little") for i in range(nblocks))
    return np.frombuffer(AES.new(key, AES.MODE_ECB).encrypt(blocks), np.uint8)


def test_stream_is_aes_ctr_with_le_counters():
    key = bytes(range(16))
    s = CtrStream(key)
    a = s.random_bytes(40)  # blocks 0..2 (tail of block 2 discarded)
    b = s.random_bytes(16)  # block 3
    ref = _ref_ctr(key, 0, 4)
    assert np.array_equal(a, ref[:40]) and np.array_equal(b, ref[48:64])


def test_child_is_prf_of_index():
    key = bytes(16)
    c = CtrStream(key).child(5)
    assert c._key == _ref_ctr(key, (1 << 63) + 5, 1).tobytes()


def test_seeded_streams_are_deterministic_and_label_separated():
    a = CtrStream.from_seed(7, "x").random_u64(100)
    assert np.array_equal(a, CtrStream.from_seed(7, "x").random_u64(100))
    assert not np.array_equal(a, CtrStream.from_seed(7, "y").random_u64(100))
    assert not np.array_equal(a, CtrStream.from_seed(8, "x").random_u64(100))
    assert not np.array_equal(CtrStream.from_os().random_u64(4), CtrStream.from_os().random_u64(4))


def test_widths_and_tensor():
    s = CtrStream.from_seed(1)
    for bits in (1, 7, 54, 63):
        v = s.random_u64(4096, bits)
        assert int(v.max()) < 1 << bits and int(v.max()) >= 1 << (bits - 1)  # top bit used
    t = s.random_tensor((3, 4), 64)
    assert t.dtype.is_floating_point is False and tuple(t.shape) == (3, 4)


def test_bad_arguments():
    with pytest.raises(ValueError):
        CtrStream(b"short")
    with pytest.raises(ValueError):
        CtrStream.from_seed(-1)
    with pytest.raises(ValueError):
        CtrStream.from_seed(1).random_u64(3, 65)
