import numpy as np
import pytest
import torch

from fsskernels.mpc.packing import pack, packed_nbytes, unpack


def _vals(n, seed=0):
    # deterministic spread of 64-bit patterns (test data only)
    return (np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)) ^ np.uint64(seed)


@pytest.mark.parametrize("bits", list(range(1, 65)))
def test_roundtrip_and_size_every_width(bits):
    for n in (0, 1, 63, 64, 65, 1000):
        v = _vals(n, bits)
        p = pack(v, bits)
        assert p.dtype == np.uint8 and p.size == packed_nbytes(n, bits) == (n * bits + 7) // 8
        want = v if bits == 64 else v & np.uint64((1 << bits) - 1)
        assert np.array_equal(unpack(p, n, bits), want)


@pytest.mark.parametrize("bits", list(range(1, 65)))
@pytest.mark.parametrize("n", [1, 7, 8, 9, 37, 100])
def test_documented_layout(bits, n):
    """Byte planes of width 4, 2, 1 for the low 8q bits, then the rem high bits as one
    little-endian bit string (packing.py docstring), built here from Python integers; and
    unpacking those bytes gives the values mod 2^bits."""
    v = _vals(n, 5 + n)
    if bits == 64:
        assert pack(v, 64).tobytes() == v.tobytes()
        return
    q, rem = divmod(bits, 8)
    want = b""
    off = 0
    for k in (4, 2, 1):
        while q - off >= k:
            want += b"".join(((int(x) >> (8 * off)) & ((1 << (8 * k)) - 1)).to_bytes(k, "little") for x in v.tolist())
            off += k
    if rem:
        stream = sum(((int(x) >> (8 * q)) & ((1 << rem) - 1)) << (i * rem) for i, x in enumerate(v.tolist()))
        want += stream.to_bytes((n * rem + 7) // 8, "little")
    assert pack(v, bits).tobytes() == want
    got = unpack(np.frombuffer(want, np.uint8), n, bits)
    assert got.tolist() == [int(x) & ((1 << bits) - 1) for x in v.tolist()]


def test_torch_and_shapes():
    t = torch.arange(-50, 50, dtype=torch.int64).reshape(10, 10)
    p = pack(t, 64)
    assert np.array_equal(unpack(p, 100, 64).view(np.int64), t.numpy().reshape(-1))
    assert np.array_equal(unpack(pack(t, 7), 100, 7), t.numpy().reshape(-1).view(np.uint64) & np.uint64(127))


def test_bad_arguments():
    v = _vals(10)
    for b in (0, 65, True, 3.0):
        with pytest.raises(ValueError, match="bits"):
            pack(v, b)
    with pytest.raises(ValueError, match="expected 9 bytes"):
        unpack(np.zeros(8, np.uint8), 10, 7)
    with pytest.raises(ValueError, match="values"):
        pack(v.astype(np.float64), 8)
    with pytest.raises(ValueError, match="torch.int64"):
        pack(torch.zeros(3, dtype=torch.int32), 8)
