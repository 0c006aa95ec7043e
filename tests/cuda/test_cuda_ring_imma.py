"""Ring GEMM mod 2^64 on integer tensor cores (csrc/cuda/ring_gemm_imma.cu, algo="imma").

Without a GPU:
  * the limb identity itself, a @ b = sum_{i+j<8} 2^(8(i+j)) A_i @ B_j mod 2^64, against
    Python integers (no fsskernels code involved);
  * the kernel's host emulation (fsskernels._C_cuda._emulate_ring_matmul_imma: the same
    staging into byte planes, fragment loads, 36 limb-pair mma per n8 tile, folds and stores
    as the device code, the warp-collective mma computed from the PTX fragment tables) against
    the CPU ring_matmul, bit for bit: edge shapes, batches, broadcast B, all-ones inputs at the
    s32 accumulator bound, and the multi-fold path (K > 4096, or small fold intervals);
  * argument errors of the entry points.
With a GPU (skipped here): the IMMA kernel against the CPU, and against the SIMT kernel.
"""
from __future__ import annotations

import numpy as np
import pytest

import fsskernels as fk

try:
    from fsskernels import _C_cuda as M
except ImportError:  # not built
    M = None

needs_module = pytest.mark.skipif(M is None, reason="CUDA module _C_cuda was not built")
from kernel_helpers import HAVE_GPU, TORCH  # noqa: E402
U64 = np.uint64
MASK = (1 << 64) - 1


def rand_u64(rng: np.random.Generator, shape) -> np.ndarray:
    n = int(np.prod(shape))
    return np.frombuffer(rng.bytes(8 * n), dtype=np.uint64).copy().reshape(shape)


def py_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(m, k) @ (k, n) mod 2^64 with Python integers: the obviously-correct reference."""
    m, k = a.shape
    n = b.shape[1]
    A = [[int(v) for v in row] for row in a]
    B = [[int(v) for v in row] for row in b]
    out = np.zeros((m, n), dtype=np.uint64)
    for i in range(m):
        for j in range(n):
            out[i, j] = sum(A[i][t] * B[t][j] for t in range(k)) & MASK
    return out


# =========================================================================== the arithmetic
def test_limb_identity_matches_python_integers():
    """Keeping only the 36 limb pairs with 8(i+j) < 64 loses nothing mod 2^64."""
    rng = np.random.default_rng(20)
    for m, k, n in ((3, 5, 4), (7, 1, 2), (4, 33, 6)):
        a, b = rand_u64(rng, (m, k)), rand_u64(rng, (k, n))
        a[0, :] = U64(MASK)  # all-ones rows / columns: every limb at 255
        b[:, 0] = U64(MASK)
        planes_a = [((a >> U64(8 * i)) & U64(0xFF)).astype(object) for i in range(8)]
        planes_b = [((b >> U64(8 * j)) & U64(0xFF)).astype(object) for j in range(8)]
        acc = np.zeros((m, n), dtype=object)
        pairs = 0
        for i in range(8):
            for j in range(8 - i):
                acc = acc + (planes_a[i].dot(planes_b[j]) << (8 * (i + j)))
                pairs += 1
        assert pairs == 36
        got = np.array([[int(v) & MASK for v in row] for row in acc], dtype=np.uint64)
        assert np.array_equal(got, py_matmul(a, b))


# =========================================================================== host emulation
EMU_SHAPES = [  # (batch_a, batch_b, m, k, n)
    (1, 1, 1, 1, 1), (1, 1, 3, 5, 4), (1, 1, 64, 32, 64), (1, 1, 65, 33, 63), (1, 1, 16, 31, 8),
    (1, 1, 70, 100, 130), (2, 2, 17, 40, 9), (3, 1, 20, 64, 70), (1, 1, 1, 200, 1), (1, 1, 130, 7, 1),
]


@needs_module
@pytest.mark.parametrize("ba,bb,m,k,n", EMU_SHAPES)
def test_emulated_imma_matches_cpu(ba, bb, m, k, n):
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    a, b = rand_u64(rng, (ba, m, k)), rand_u64(rng, (bb, k, n))
    want = fk.ring_matmul(a, b)
    got = M._emulate_ring_matmul_imma(a, b)
    assert got.shape == (ba, m, n) and got.dtype == np.uint64
    assert np.array_equal(got, want)


@needs_module
@pytest.mark.parametrize("flush_tiles", [1, 2, 3])
def test_emulated_imma_multi_fold_matches_cpu(flush_tiles):
    """Folding every 1, 2, 3 slices of 32: the read-add-write path of later folds, a final
    partial interval, and k not a multiple of 32."""
    rng = np.random.default_rng(flush_tiles)
    a, b = rand_u64(rng, (2, 33, 161)), rand_u64(rng, (2, 161, 40))
    assert np.array_equal(M._emulate_ring_matmul_imma(a, b, flush_tiles), fk.ring_matmul(a, b))


@needs_module
def test_emulated_imma_all_ones_at_the_accumulator_bound():
    """Every limb 255 over K = 4096 + 40: the s32 sums reach 8 * 4096 * 255^2 before the first
    fold (the emulation raises on any s32 overflow), then a second fold adds the rest."""
    k = 4096 + 40
    a = np.full((1, 2, k), MASK, dtype=np.uint64)
    b = np.full((1, k, 3), MASK, dtype=np.uint64)
    got = M._emulate_ring_matmul_imma(a, b)
    assert np.all(got == U64(k % (1 << 64)))  # (-1) * (-1) summed k times
    assert np.array_equal(got, fk.ring_matmul(a, b))


@needs_module
def test_emulated_imma_k_zero_and_empty():
    z = M._emulate_ring_matmul_imma(np.zeros((1, 3, 0), np.uint64), np.zeros((1, 0, 4), np.uint64))
    assert z.shape == (1, 3, 4) and not z.any()
    e = M._emulate_ring_matmul_imma(np.zeros((1, 0, 5), np.uint64), np.zeros((1, 5, 4), np.uint64))
    assert e.shape == (1, 0, 4)


@needs_module
def test_emulated_imma_errors():
    a, b = np.zeros((1, 2, 3), np.uint64), np.zeros((1, 3, 2), np.uint64)
    with pytest.raises(ValueError, match="^flush_tiles: must be at most 128"):
        M._emulate_ring_matmul_imma(a, b, 129)
    with pytest.raises(ValueError, match="^b: has 2 rows but a has k=3"):
        M._emulate_ring_matmul_imma(a, np.zeros((1, 2, 2), np.uint64))
    with pytest.raises(ValueError, match="^a: expected shape"):
        M._emulate_ring_matmul_imma(np.zeros((2, 3), np.uint64), b)
    with pytest.raises(ValueError, match="^b: batch must be 1"):
        M._emulate_ring_matmul_imma(np.zeros((2, 2, 3), np.uint64), np.zeros((3, 3, 2), np.uint64))


@needs_module
def test_entry_point_rejects_unknown_algo():
    # The algorithm name is checked before the device (works without a GPU).
    with pytest.raises(ValueError, match="^algo: must be 'auto', 'simt' or 'imma'"):
        M.ring_matmul(0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, "tensor")


# =========================================================================== on a GPU
needs_gpu = pytest.mark.skipif(M is None or not HAVE_GPU or TORCH is None,
                               reason="no CUDA GPU (or torch without CUDA)")


def _dev(x: np.ndarray):
    return TORCH.from_numpy(np.ascontiguousarray(x).view(np.int64)).cuda()


def _host(t) -> np.ndarray:
    return t.cpu().numpy().view(np.uint64)


GPU_SHAPES = [((3, 5), (5, 4)), ((64, 64), (64, 64)), ((65, 17), (17, 130)), ((1, 300), (300, 1)), ((7,), (7, 3)),
              ((2, 3, 9, 5), (5, 6)), ((9, 5), (4, 5, 6)), ((4, 1, 3, 5), (2, 5, 2)), ((3, 0), (0, 4)),
              ((129, 33), (33, 65)), ((200, 777), (777, 150)), ((5, 4100), (4100, 70)), ((3, 9000), (9000, 5))]


@needs_gpu
@pytest.mark.parametrize("sa,sb", GPU_SHAPES)
def test_gpu_imma_matches_cpu(sa, sb):
    import fsskernels._cuda as glue

    rng = np.random.default_rng(len(sa) * 7 + sb[-1])
    a, b = rand_u64(rng, sa), rand_u64(rng, sb)
    want = fk.ring_matmul(a, b)
    got = glue.ring_matmul(_dev(a), _dev(b), algo="imma")
    assert tuple(got.shape) == want.shape
    assert np.array_equal(_host(got), want)


@needs_gpu
def test_gpu_imma_all_ones_and_simt_agree():
    import fsskernels._cuda as glue

    k = 4096 + 40  # two folds; every limb 255
    a = np.full((2, k), MASK, dtype=np.uint64)
    b = np.full((k, 3), MASK, dtype=np.uint64)
    assert np.all(_host(glue.ring_matmul(_dev(a), _dev(b), algo="imma")) == U64(k))
    rng = np.random.default_rng(99)
    a, b = rand_u64(rng, (4, 512, 512)), rand_u64(rng, (4, 512, 512))
    ad, bd = _dev(a), _dev(b)
    imma = _host(glue.ring_matmul(ad, bd, algo="imma"))
    simt = _host(glue.ring_matmul(ad, bd, algo="simt"))
    assert np.array_equal(imma, simt)
    assert np.array_equal(imma[1, :16], fk.ring_matmul(a[1, :16], b[1]))
