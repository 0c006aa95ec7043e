"""Issue 16 item 12: host_buffer() is read-only, and one-time key batches (docs/kernels.md
section 6) are consumed by their first successful evaluation; slices, serialization and
copies of a one-time batch are refused. Plain batches keep working repeatedly. The reference
is the plaintext point/comparison function on Python ints."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import fsskernels as fk

ALPHA = [3, 4, 7, 200]


def fresh(scheme="dpf", one_time=False):
    gen = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
    k0, k1 = gen(np.array(ALPHA, np.uint64), 9, bits=8, out_bits=16, seed=5)
    if one_time:
        k0 = fk.KeyBatch.from_bytes(k0.to_bytes(), one_time=True)
        k1.mark_one_time()
    return k0, k1


def reference(scheme, x):
    return [9 if (a == v if scheme == "dpf" else v < a) else 0 for a, v in zip(ALPHA, x)]


def ev(scheme):
    return fk.dpf_eval if scheme == "dpf" else fk.dcf_eval


def test_host_buffer_is_read_only_and_edits_cannot_reach_the_keys():
    k0, k1 = fresh()
    buf = k0.host_buffer()
    assert not buf.flags.writeable
    with pytest.raises(ValueError):
        buf[100] ^= 1
    with pytest.raises(ValueError):
        buf.flags.writeable = True  # a view of a private buffer cannot be made writable
    x = np.array(ALPHA, np.uint64)
    got = (fk.dpf_eval(0, k0, x) + fk.dpf_eval(1, k1, x)) % 2**16
    assert got.tolist() == reference("dpf", ALPHA)


@pytest.mark.parametrize("scheme", ["dpf", "dcf"])
def test_plain_batches_evaluate_repeatedly(scheme):
    k0, k1 = fresh(scheme)
    x = np.array([3, 5, 7, 0], np.uint64)
    for _ in range(3):
        got = (ev(scheme)(0, k0, x) + ev(scheme)(1, k1, x)) % 2**16
        assert got.tolist() == reference(scheme, x.tolist())
    assert not k0.one_time and not k0.consumed
    assert len(k0[1:3]) == 2 and fk.KeyBatch.from_bytes(k0.to_bytes()).to_bytes() == k0.to_bytes()


@pytest.mark.parametrize("scheme", ["dpf", "dcf"])
def test_one_time_batch_is_consumed_by_its_first_evaluation(scheme):
    k0, k1 = fresh(scheme, one_time=True)
    assert k0.one_time and k1.one_time
    x = np.array([3, 5, 7, 0], np.uint64)
    got = (ev(scheme)(0, k0, x) + ev(scheme)(1, k1, x)) % 2**16
    assert got.tolist() == reference(scheme, x.tolist())
    assert k0.consumed and k1.consumed
    for kb, party in ((k0, 0), (k1, 1)):
        with pytest.raises(ValueError, match="keys: .*already used"):
            ev(scheme)(party, kb, x)
        with pytest.raises(ValueError, match="keys: .*already used"):
            kb[0:2]
        with pytest.raises(ValueError, match="keys: .*already used"):
            kb.to_bytes()
        with pytest.raises(ValueError, match="keys: .*already used"):
            kb.to("cpu")
    assert not k0._buf.any()  # the consumed key bytes were erased


def test_one_time_batch_cannot_be_sliced_serialized_or_copied_before_use():
    k0, _ = fresh(one_time=True)
    for attempt in (lambda: k0[:], lambda: k0[0], lambda: k0.to_bytes(), lambda: k0.host_buffer()):
        with pytest.raises(ValueError, match="keys: .*one-time"):
            attempt()
    assert not k0.consumed


def test_one_time_batch_to_its_own_device_is_itself():
    k0, _ = fresh(one_time=True)
    assert k0.to("cpu") is k0 and k0.one_time and not k0.consumed


def test_failed_evaluation_does_not_consume():
    k0, k1 = fresh(one_time=True)
    with pytest.raises(ValueError, match="x: value at index 3"):
        fk.dpf_eval(0, k0, np.array([1, 2, 3, 256], np.uint64))  # nothing computed
    with pytest.raises(ValueError, match="party"):
        fk.dpf_eval(1, k0, np.array(ALPHA, np.uint64))
    assert not k0.consumed
    x = np.array(ALPHA, np.uint64)
    assert ((fk.dpf_eval(0, k0, x) + fk.dpf_eval(1, k1, x)) % 2**16).tolist() == [9] * 4


def test_eval_all_consumes_and_mark_consumed_retires_plain_batches():
    k0, k1 = fk.dpf_gen(np.array([1, 6], np.uint64), 1, bits=3, out_bits=8, seed=4)
    k0.mark_one_time()
    full = (fk.dpf_eval_all(0, k0) + fk.dpf_eval_all(1, k1)) % 256
    assert full.tolist() == [[int(j == a) for j in range(8)] for a in (1, 6)]
    with pytest.raises(ValueError, match="already used"):
        fk.dpf_eval_all(0, k0)
    k1.mark_consumed()  # a plain batch retired explicitly
    with pytest.raises(ValueError, match="already used"):
        fk.dpf_eval_all(1, k1)
    with pytest.raises(ValueError, match="already used"):
        k1.mark_one_time()


def test_concurrent_evaluations_of_one_time_batch_succeed_at_most_once():
    n = 20000
    k0, _ = fk.dcf_gen(np.arange(n, dtype=np.uint64), 1, bits=32, out_bits=8, seed=6)
    k0.mark_one_time()
    x = np.arange(n, dtype=np.uint64)
    ok, errors = [], []

    def worker():
        try:
            fk.dcf_eval(0, k0, x)
            ok.append(1)
        except ValueError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ok) == 1 and len(errors) == 3
    assert all("keys:" in e for e in errors)


def test_key_buffers_are_owned_by_the_erase_on_free_allocator():
    # Every host key buffer comes from the C++ allocator that erases it when freed (a capsule
    # owns the memory), not from numpy's allocator: generation, from_bytes, slices, .to("cpu").
    k0, _ = fresh()
    made = [k0, fk.KeyBatch.from_bytes(k0.to_bytes()), k0[1:3], fk.KeyBatch.from_bytes(bytearray(k0.to_bytes()))]
    for kb in made:
        assert type(kb._buf.base).__name__ == "PyCapsule", kb
