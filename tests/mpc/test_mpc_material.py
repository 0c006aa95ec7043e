import numpy as np
import pytest

from fsskernels.mpc import MaterialError, MaterialReuseError, ProtocolMismatchError
from fsskernels.mpc.dealer import Dealer, LocalDealerSource
from fsskernels.mpc.material import (HEADER_SIZE, MaterialStream, encode_spec, parse_piece, serialize_piece)

SPEC = (54, (3, 4), (4, 5))


def _piece(seq=0, party=0, dealer=None):
    d = dealer or Dealer(seed=1)
    return d, d.generate(seq, "matmul_triple", encode_spec(SPEC))[party]


def test_roundtrip_and_stream_accepts_in_order():
    d, data = _piece()
    p = parse_piece(data)
    assert (p.kind, p.party, p.seq, p.spec, p.session_id) == ("matmul_triple", 0, 0, SPEC, d.session_id)
    st = MaterialStream(None, 0, d.session_id)
    arrays = st.accept(data, "matmul_triple", SPEC)
    assert [a.shape for a in arrays] == [(3, 4), (4, 5), (3, 5)]


def test_reuse_is_refused():
    d, data = _piece()
    st = MaterialStream(None, 0, d.session_id)
    st.accept(data, "matmul_triple", SPEC)
    with pytest.raises(MaterialReuseError, match="already consumed"):
        st.accept(data, "matmul_triple", SPEC)
    p = parse_piece(data)
    p.take()
    with pytest.raises(MaterialReuseError):
        p.take()


def test_local_source_hands_each_half_out_once():
    src = LocalDealerSource(Dealer(seed=2))
    w = encode_spec(SPEC)
    src.fetch(0, 0, "matmul_triple", w)
    with pytest.raises(MaterialReuseError):
        src.fetch(0, 0, "matmul_triple", w)
    with pytest.raises(ProtocolMismatchError, match="asked for"):
        src.fetch(1, 0, "triple", encode_spec((54, (3,), (3,))))


def test_stream_checks_session_party_order_and_spec():
    d, data = _piece(seq=1)
    with pytest.raises(MaterialError, match="another dealer session"):
        MaterialStream(None, 0, b"\x01" * 16).accept(data, "matmul_triple", SPEC)
    with pytest.raises(MaterialError, match="not party 1"):
        MaterialStream(None, 1, d.session_id).accept(data, "matmul_triple", SPEC)
    with pytest.raises(MaterialError, match="out of order"):
        MaterialStream(None, 0, d.session_id).accept(data, "matmul_triple", SPEC)
    st = MaterialStream(None, 0, d.session_id)
    st.next_seq = 1
    with pytest.raises(ProtocolMismatchError):
        st.accept(data, "matmul_triple", (54, (3, 4), (4, 6)))


@pytest.mark.parametrize("mutate,msg", [
    (lambda b: b"XXXX" + b[4:], "magic"),
    (lambda b: b[:4] + (2).to_bytes(2, "little") + b[6:], "version"),
    (lambda b: b[:6] + bytes([99]) + b[7:], "kind"),
    (lambda b: b[:7] + bytes([2]) + b[8:], "party"),
    (lambda b: b[:-1], "length"),
    (lambda b: b[:HEADER_SIZE + 3] + bytes([b[HEADER_SIZE + 3] ^ 1]) + b[HEADER_SIZE + 4:], "checksum"),
    (lambda b: b[:20], "shorter"),
])
def test_malformed_pieces_raise(mutate, msg):
    _, data = _piece()
    with pytest.raises(MaterialError, match=msg):
        parse_piece(mutate(data))


def test_serializer_validates_and_never_pickles():
    with pytest.raises(ValueError):
        serialize_piece("nope", 0, 0, bytes(16), (), [])
    d, data = _piece()
    assert b"pickle" not in data and data[:4] == b"FSMM"


def test_values_beyond_ring_width_are_refused():
    sid = bytes(16)
    words = encode_spec((8, (2,), (2,)))
    bad = serialize_piece("triple", 0, 0, sid, words, [(1, 9, np.array([300, 1])), (1, 8, np.array([1, 1])),
                                                        (1, 8, np.array([1, 1]))])
    with pytest.raises(MaterialError):
        MaterialStream(None, 0, sid).accept(bad, "triple", (8, (2,), (2,)))


def test_crafted_piece_with_valid_checksum_and_huge_dims_is_refused(monkeypatch):
    """Issue 16 items 6/10: sizes are checked (Python integers, limits.MAX_ELEMENTS) and
    compared with the expected schema before anything is expanded; allocation and type
    errors become MaterialError."""
    from fsskernels.mpc import material as M

    sid = bytes(16)
    seed = (bytes(16), (1 << 31, 1 << 30))
    huge = serialize_piece("frozen_mask", 0, 0, sid, encode_spec((54, (4, 4))), [(M.CODE_PRG, 54, seed)])
    with pytest.raises(MaterialError, match="elements"):
        parse_piece(huge)
    big = serialize_piece("frozen_mask", 0, 0, sid, encode_spec((54, (4, 4))),
                          [(M.CODE_PRG, 54, (bytes(16), (1 << 16, 1 << 15)))])  # 2^31 values: 16 GiB if expanded
    with pytest.raises(MaterialError, match="expected"):
        MaterialStream(None, 0, sid).accept(big, "frozen_mask", (54, (4, 4)))
    ok = serialize_piece("frozen_mask", 0, 0, sid, encode_spec((54, (4, 4))), [(M.CODE_PRG, 54, (bytes(16), (4, 4)))])

    def boom(*a, **k):
        raise MemoryError("no memory")

    monkeypatch.setattr(M, "expand_prg", boom)
    with pytest.raises(MaterialError, match="MemoryError"):
        parse_piece(ok)
    for bad in (None, 12, "text"):
        with pytest.raises(MaterialError):
            parse_piece(bad)
