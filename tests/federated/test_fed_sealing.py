"""Seeds sealed to aggregator 0: round trip, wrong key / round / tampering rejected."""
import pytest

pytest.importorskip("cryptography")
from fsskernels.federated.sealing import SEALED_BYTES, SealError, SealingKeyPair, seal_seed  # noqa: E402


def test_round_trip_and_rejections():
    kp = SealingKeyPair()
    seed = bytes(range(16))
    blob = seal_seed(seed, kp.public_bytes, "run=1;round=3")
    assert len(blob) == SEALED_BYTES == 64
    assert kp.open(blob, "run=1;round=3") == seed
    assert seal_seed(seed, kp.public_bytes, "x") != seal_seed(seed, kp.public_bytes, "x")  # fresh ephemeral
    with pytest.raises(SealError):
        kp.open(blob, "run=1;round=4")
    with pytest.raises(SealError):
        SealingKeyPair().open(blob, "run=1;round=3")
    bad = bytearray(blob)
    bad[40] ^= 1
    with pytest.raises(SealError):
        kp.open(bytes(bad), "run=1;round=3")
    assert SealingKeyPair(kp.private_bytes()).open(blob, "run=1;round=3") == seed
    with pytest.raises(ValueError, match="sealed"):
        kp.open(blob[:10], "r")
    with pytest.raises(ValueError, match="recipient_public"):
        seal_seed(seed, b"x" * 31, "r")
    with pytest.raises(ValueError, match="seed"):
        seal_seed(b"x", kp.public_bytes, "r")
