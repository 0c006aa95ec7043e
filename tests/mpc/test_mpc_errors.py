"""Bad inputs raise ValueError naming the problem; failures of the peer never hang."""
import time

import numpy as np

import pytest
import torch

from fsskernels import mpc
from fsskernels.mpc.tensor import SharedTensor


def _pair():
    s0, s1, _ = mpc.local_sessions(seed=1, timeout=5)
    return s0, s1


def _local(s, shape, frac=16):
    return SharedTensor(s, torch.zeros(shape, dtype=torch.int64), frac)


def test_shape_scale_session_device_errors():
    s0, s1 = _pair()
    a, b = _local(s0, (2, 3)), _local(s0, (4, 3))
    with pytest.raises(ValueError, match="do not broadcast"):
        a + b
    with pytest.raises(ValueError, match="do not broadcast"):
        a * b  # checked before any traffic
    with pytest.raises(ValueError, match="inner dimensions"):
        a @ b
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        a @ _local(s0, (3,))
    with pytest.raises(ValueError, match="different scales"):
        a + _local(s0, (2, 3), frac=0)
    with pytest.raises(ValueError, match="different scales"):
        mpc.cat([a, _local(s0, (2, 3), frac=8)])
    with pytest.raises(ValueError, match="different sessions"):
        a + _local(s1, (2, 3))
    with pytest.raises(ValueError, match="different sessions"):
        a @ _local(s1, (3, 2))
    other, _, _ = mpc.local_sessions(seed=2)
    with pytest.raises(ValueError, match="different sessions"):
        a * _local(other, (2, 3))
    with pytest.raises(ValueError, match="is on meta"):
        SharedTensor(s0, torch.zeros(2, dtype=torch.int64, device="meta"), 16)
    with pytest.raises(ValueError, match="public operand is on meta"):
        a + torch.zeros(3, device="meta")
    with pytest.raises(ValueError, match="int64"):
        SharedTensor(s0, torch.zeros(2), 16)
    with pytest.raises(ValueError, match="only integer public"):
        _local(s0, (2,), frac=0) + 0.5
    with pytest.raises(ValueError, match="NaN"):
        a + float("nan")
    with pytest.raises(ValueError, match="magnitude"):
        a + 1e30
    with pytest.raises(ValueError, match="division by zero"):
        a / 0
    with pytest.raises(ValueError, match="exceeds"):
        _local(s0, (2,), frac=4).trunc(8)


def test_config_and_argument_errors():
    with pytest.raises(ValueError, match="frac_bits"):
        mpc.FixedPointConfig(frac_bits=0)
    with pytest.raises(ValueError, match="mul_bits"):
        mpc.FixedPointConfig(frac_bits=16, mul_bits=30)
    s0, s1 = _pair()
    with pytest.raises(ValueError, match="owner"):
        mpc.share(s0, torch.ones(2), owner=2)
    with pytest.raises(ValueError, match="must pass it"):
        mpc.share(s0, None, owner=0)
    with pytest.raises(ValueError, match="only the owner"):
        mpc.share(s1, torch.ones(2), owner=0)
    with pytest.raises(ValueError, match="2-D"):
        mpc.freeze(_local(s0, (2, 3, 4)))
    with pytest.raises(ValueError, match="shape"):
        mpc.freeze_owned(s1, None, owner=0)
    with pytest.raises(ValueError, match="to: must be"):
        _local(s0, (2,)).reveal(to=3)


def test_frozen_matrix_errors():
    w = torch.ones(3, 2)

    def prog(s):
        W = mpc.freeze_owned(s, w if s.party == 1 else None, owner=1, shape=(3, 2))
        X = mpc.share(s, torch.ones(4, 3, dtype=torch.int64) if s.party == 0 else None, owner=0)
        X @ W  # ring-integer X with a fixed-point frozen W

    with pytest.raises(ValueError, match="fixed point too"):
        mpc.run_local(prog, seed=3, timeout=5)


def test_share_shape_mismatch_is_reported():
    def prog(s):
        return mpc.share(s, torch.ones(2, 2) if s.party == 0 else None, owner=0, shape=None if s.party == 0 else (3,))

    with pytest.raises(ValueError, match=r"shared shape \(2, 2\), expected \(3,\)"):
        mpc.run_local(prog, seed=4, timeout=5)


def test_failing_party_aborts_the_other_at_once():
    def prog(s):
        X = mpc.share(s, torch.ones(4) if s.party == 0 else None, owner=0)
        if s.party == 1:
            raise RuntimeError("party 1 crashed")
        return (X * X).reveal()

    t = time.perf_counter()
    with pytest.raises(RuntimeError, match="party 1 crashed"):
        mpc.run_local(prog, seed=5, timeout=30)
    assert time.perf_counter() - t < 10  # not the 30 s timeout


def test_stalled_party_times_out_cleanly():
    def prog(s):
        if s.party == 1:
            time.sleep(2.0)  # stalls past party 0's timeout, then leaves
            return None
        X = mpc.from_public(s, torch.ones(4))
        return (X * X).reveal()

    t = time.perf_counter()
    with pytest.raises(mpc.PeerTimeoutError, match="timed out"):
        mpc.run_local(prog, seed=6, timeout=0.5)
    assert time.perf_counter() - t < 5
    assert issubclass(mpc.PeerTimeoutError, TimeoutError) and issubclass(mpc.PeerTimeoutError, mpc.PeerError)


def test_diverging_programs_are_detected():
    def prog(s):
        X = mpc.from_public(s, torch.ones(4))
        Y = X * X if s.party == 0 else X[:2] * X[:2]
        return Y.reveal()

    with pytest.raises(mpc.ProtocolMismatchError):
        mpc.run_local(prog, seed=7, timeout=5)


def test_session_unusable_after_peer_failure():
    s0, s1 = _pair()
    s1.channel.abort("gone")
    x = mpc.from_public(s0, torch.ones(2))
    with pytest.raises(mpc.PeerError, match="gone"):
        x.reveal()
    with pytest.raises(mpc.PeerError, match="unusable"):
        x.reveal()


def test_reviewers_divergence_reproducer_raises_on_both_parties():
    """Issue 16 item 3: party 0 reveals X to both, party 1 reveals X to party 0 only, then
    both reveal Y. Without message tags party 1 silently got garbage."""
    seen = [None, None]

    def prog(s):
        X = mpc.share(s, torch.ones(4) if s.party == 0 else None, owner=0)
        Y = mpc.share(s, torch.full((4,), 2.0) if s.party == 0 else None, owner=0)
        try:
            X.reveal() if s.party == 0 else X.reveal(to=0)
            return Y.reveal()
        except Exception as exc:
            seen[s.party] = exc
            raise

    with pytest.raises(mpc.ProtocolMismatchError, match="diverged"):
        mpc.run_local(prog, seed=8, timeout=5)
    assert isinstance(seen[0], mpc.ProtocolMismatchError)
    assert isinstance(seen[1], mpc.MpcError)  # its own mismatch, or the abort that party 0 sent


def test_same_size_swap_of_send_and_exchange_is_detected():
    s0, s1 = _pair()
    s0.channel.send(np.zeros(8, np.uint8))
    with pytest.raises(mpc.ProtocolMismatchError, match="exchange"):
        s1.channel.exchange(np.zeros(8, np.uint8), 8)
    with pytest.raises(mpc.PeerError, match="broken"):
        s1.channel.recv(8)


def test_bad_runtime_arguments_are_value_errors():
    for t in (float("inf"), float("nan"), 0, -1, "5", True):
        with pytest.raises(ValueError, match="timeout"):
            mpc.local_sessions(timeout=t)
        with pytest.raises(ValueError, match="timeout"):
            mpc.run_local(lambda s: None, timeout=t)
    s0, s1 = _pair()
    for bad in ("abc", b"abc", ["a", "b"], [[1, 2], [3]], object()):
        with pytest.raises(ValueError, match="value"):
            mpc.share(s0, bad, owner=0)


def test_share_header_with_huge_dims_is_refused_before_allocating():
    """Issue 16 item 6: a peer claiming a 2^31 x 2^30 share."""
    import struct as _struct

    s0, s1 = _pair()
    hdr = _struct.pack("<16sBB6x8Q", bytes(16), 16, 2, 1 << 31, 1 << 30, 0, 0, 0, 0, 0, 0)
    s0.send_raw(np.frombuffer(hdr, np.uint8))
    with pytest.raises(ValueError, match="more than"):
        mpc.share(s1, None, owner=0)
    hdr = _struct.pack("<16sBB6x8Q", bytes(16), 16, 2, 3, 3, 7, 0, 0, 0, 0, 0)  # dims beyond ndim
    s0.send_raw(np.frombuffer(hdr, np.uint8))
    with pytest.raises(ValueError, match="malformed"):
        mpc.share(s1, None, owner=0)
