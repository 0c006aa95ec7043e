"""Issue 16 (items 6, 7, 9, 10): sizes from the caller are bounded (no wrap-around), Python
lists are never silently coerced, the thread count is capped, and every bad argument is a
ValueError naming it. References: plain Python ints and the documented limits
(docs/kernels.md section 7)."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import fsskernels as fk
from fsskernels import _C

LIMIT = 1 << 40


def test_limit_constant_is_documented_value():
    assert _C.MAX_BUFFER_BYTES == LIMIT


# -- item 6: sizes -------------------------------------------------------------------------
def test_aes_ctr_block_count_that_would_wrap_is_rejected():
    key = bytes(range(16))
    for nblocks in (2**60, 2**64 - 1, LIMIT // 16 + 1):  # nblocks * 16 wraps / exceeds 2^40
        with pytest.raises(ValueError, match="nblocks"):
            _C.aes_ctr(key, 0, nblocks)
    assert _C.aes_ctr(key, 0, 2).shape == (32,)


def test_ctr_stream_of_2_to_64_bytes_is_a_value_error():
    from fsskernels.mpc.rng import CtrStream

    with pytest.raises(ValueError, match="nblocks"):
        CtrStream.from_os().random_bytes(2**64)


@pytest.mark.parametrize("scheme", ["dpf", "dcf"])
def test_key_count_limit(scheme):
    bpk = _C.key_size(scheme, 64, 64)
    max_n = (LIMIT - 32) // bpk
    assert _C.key_buffer_size(scheme, 64, 64, max_n) == 32 + bpk * max_n <= LIMIT
    for n in (max_n + 1, 2**61, 2**64 - 1):
        with pytest.raises(ValueError, match="count"):
            _C.key_buffer_size(scheme, 64, 64, n)


def test_key_header_with_huge_count_is_rejected():
    k0, _ = fk.dcf_gen(np.array([5], np.uint64), 1, bits=8, out_bits=8, seed=3)
    raw = bytearray(k0.to_bytes())
    raw[16:24] = (2**61).to_bytes(8, "little")
    with pytest.raises(ValueError, match="keys: count field too large"):
        fk.KeyBatch.from_bytes(bytes(raw))


def test_eval_all_output_bound():
    # 8193 keys x 2^24 values x 8 bytes > 2^40 bytes: refused before any allocation, by the
    # Python API and by the binding; 8192 keys would be exactly 2^40 bytes (not allocated here).
    n = (LIMIT >> 27) + 1
    k0, _ = fk.dpf_gen(np.arange(n, dtype=np.uint64), 1, bits=24, out_bits=8, seed=1)
    with pytest.raises(ValueError, match="keys: full-domain output"):
        fk.dpf_eval_all(0, k0)
    with pytest.raises(ValueError, match="keys: size too large"):
        _C.dpf_eval_all(0, k0._buf)


def test_ring_matmul_broadcast_size_is_bounded_before_allocation():
    # (2^21, 1, 1) @ (1, 1, 2^20): inputs of a few MB, output 2^41 x 8 bytes -> ValueError.
    a = np.broadcast_to(np.ones((1, 1, 1), np.uint64), (2**21, 1, 1))
    b = np.ones((1, 1, 2**20), np.uint64)
    with pytest.raises(ValueError, match="out: the broadcast product"):
        fk.ring_matmul(a, b)


# -- item 7: lists -------------------------------------------------------------------------
def test_float_in_alpha_list_is_rejected_not_truncated():
    for gen in (fk.dcf_gen, fk.dpf_gen):
        with pytest.raises(ValueError, match="alpha: element 0 is not an integer"):
            gen([2.9], 1, bits=8)


def test_eval_list_with_float_or_wrapped_value_is_rejected():
    k0, _ = fk.dpf_gen([3, 4, 7, 200], 1, bits=8, seed=2)
    with pytest.raises(ValueError, match="x: element 1 is not an integer"):
        fk.dpf_eval(0, k0, [3, 4.5, 7, 200])
    with pytest.raises(ValueError, match=r"x: element 3 = 18446744073709551816 is outside"):
        fk.dpf_eval(0, k0, [3, 4, 7, 2**64 + 200])
    for bad in (True, np.bool_(True), "3", 3.0, None):
        with pytest.raises(ValueError, match="x: element 0"):
            fk.dpf_eval(0, k0, [bad, 4, 7, 200])


def test_list_values_match_python_int_reference():
    # Integral values of every Python/numpy kind in [-2^63, 2^64) are taken exactly.
    vals = [0, 1, 2**64 - 1, -1, -(2**63), np.int64(-5), np.uint64(2**63)]
    got = fk.ring_matmul([vals], [[1]] * len(vals))
    assert int(got[0, 0]) == sum(int(v) for v in vals) % 2**64
    with pytest.raises(ValueError, match="a: element 0"):
        fk.ring_matmul([[-(2**63) - 1]], [[1]])
    with pytest.raises(ValueError, match="b: element 1"):
        fk.ring_matmul([[1, 1]], [[1], [0.5]])


def test_scalar_beta_out_of_range_and_ragged_lists():
    with pytest.raises(ValueError, match="beta"):
        fk.dpf_gen([1], 2**64, bits=8)
    with pytest.raises(ValueError, match="alpha"):
        fk.dpf_gen([[1, 2], [3]], 1, bits=8)


# -- item 9: thread cap --------------------------------------------------------------------
def test_thread_count_is_capped():
    before = fk.get_num_threads()
    cap = fk._backend.max_num_threads()
    assert cap == min(8 * os.cpu_count(), 1024)
    try:
        for bad in (100000, 2**40, cap + 1):
            with pytest.raises(ValueError, match="n: thread count"):
                fk.set_num_threads(bad)
        with pytest.raises(ValueError, match="n: thread count"):
            _C.set_num_threads(cap + 1)  # the C++ layer checks too
        fk.set_num_threads(cap)  # the cap itself works for the kernels that spawn teams
        k0, k1 = fk.dpf_gen(np.arange(4, dtype=np.uint64), 1, bits=8, out_bits=8, seed=1)
        full = (fk.dpf_eval_all(0, k0) + fk.dpf_eval_all(1, k1)) % 256
        assert np.array_equal(full, np.eye(4, 256, dtype=np.uint64))
        a = np.arange(2 * 64 * 64, dtype=np.uint64).reshape(2, 64, 64)
        ref = np.array([[[sum(int(a[b, i, t]) * int(a[b, t, j]) for t in range(64)) % 2**64 for j in range(3)]
                         for i in range(3)] for b in range(2)], dtype=np.uint64)
        assert np.array_equal(fk.ring_matmul(a, a)[:, :3, :3], ref)
    finally:
        fk.set_num_threads(before)


# -- item 10: exception types --------------------------------------------------------------
def test_meta_and_sparse_tensors_are_value_errors():
    meta = torch.zeros(3, dtype=torch.int64, device="meta")
    sparse = torch.zeros(3, dtype=torch.int64).to_sparse()
    k0, _ = fk.dcf_gen([1, 2, 3], 1, bits=8, seed=1)
    for t, what in ((meta, "meta"), (sparse, "sparse")):
        with pytest.raises(ValueError, match=f"a: .*{what}"):
            fk.ring_matmul(t, t)
        with pytest.raises(ValueError, match=f"alpha: .*{what}"):
            fk.dcf_gen(t, 1, bits=8)
        with pytest.raises(ValueError, match=f"x: .*{what}"):
            fk.dcf_eval(0, k0, t)


@pytest.mark.skipif("cuda" in fk.available_backends() or fk.build_info()["cuda_compiled"],
                    reason="checks the error without the CUDA module")
def test_keys_to_cuda_without_cuda_is_value_error():
    k0, _ = fk.dpf_gen([1], 1, bits=8, seed=1)
    with pytest.raises(ValueError, match="device: 'cuda' is not available"):
        k0.to("cuda")
