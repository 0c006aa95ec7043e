"""GPU paths that small tests never reach (skipped without a GPU): full-domain evaluation split
into several key chunks (a 24-bit key's last level is 128 MiB, above half the 256 MiB scratch),
and ring GEMM batches beyond the 65,535 blocks of grid.z (the kernels loop over batch entries)."""
from __future__ import annotations

import numpy as np
import pytest

import fsskernels as fk

from kernel_helpers import HAVE_GPU, TORCH  # noqa: E402


needs_gpu = pytest.mark.skipif(not HAVE_GPU or TORCH is None, reason="no CUDA GPU (or torch without CUDA)")


def _dev(a: np.ndarray):
    return TORCH.from_numpy(np.ascontiguousarray(a).view(np.int64)).cuda()


@needs_gpu
def test_gpu_eval_all_several_chunks():
    alpha = np.array([0, (1 << 24) - 1, 12345], dtype=np.uint64)
    k0, _ = fk.dpf_gen(alpha, np.array([5, 6, 7], np.uint64), bits=24, out_bits=64, seed=3)
    got = fk.dpf_eval_all(0, k0.to("cuda"))
    assert tuple(got.shape) == (3, 1 << 24)
    assert np.array_equal(got.cpu().numpy().view(np.uint64), fk.dpf_eval_all(0, k0))


@needs_gpu
@pytest.mark.parametrize("algo", ["simt", "imma"])
def test_gpu_ring_matmul_batch_beyond_grid_z(algo):
    import fsskernels._cuda as glue

    rng = np.random.default_rng(4)
    a = np.frombuffer(rng.bytes(8 * 70000 * 2 * 3), np.uint64).reshape(70000, 2, 3)
    b = np.frombuffer(rng.bytes(8 * 70000 * 3 * 2), np.uint64).reshape(70000, 3, 2)
    got = glue.ring_matmul(_dev(a), _dev(b), algo=algo)
    assert np.array_equal(got.cpu().numpy().view(np.uint64), fk.ring_matmul(a, b))
