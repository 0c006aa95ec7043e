"""ring_matmul: bit-exact products over Z_{2^64} on every CPU kernel path.

References: Python integers (numpy object arrays, reduced mod 2^64) on small shapes, and
numpy's uint64 matmul (integer loop that wraps mod 2^64; checked against Python integers
below) on larger ones. Each test runs on every path this CPU supports, forced through the
FSS_RING_PATH environment variable (read by the kernel on every call); a path this CPU
lacks (avx2 without AVX2, avx512 / ifma without those extensions) is skipped with that reason.
"""
from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest

import fsskernels
from fsskernels import _C, ring_matmul

MOD = 1 << 64
PATHS = ["portable", "avx2", "avx512", "ifma"]


def _supported(path: str) -> bool:
    import os

    old = os.environ.get("FSS_RING_PATH")
    os.environ["FSS_RING_PATH"] = path
    try:
        _C.ring_matmul(np.zeros((1, 1, 1), np.uint64), np.zeros((1, 1, 1), np.uint64), np.zeros((1, 1, 1), np.uint64))
        return True
    except ValueError:
        return False
    finally:
        if old is None:
            del os.environ["FSS_RING_PATH"]
        else:
            os.environ["FSS_RING_PATH"] = old


SUPPORTED = [p for p in PATHS if _supported(p)]


@pytest.fixture(params=PATHS)
def path(request, monkeypatch):
    if request.param not in SUPPORTED:
        pytest.skip(f"kernel path {request.param} not supported on this CPU")
    monkeypatch.setenv("FSS_RING_PATH", request.param)
    return request.param


@pytest.fixture
def one_thread():
    old = fsskernels.get_num_threads()
    fsskernels.set_num_threads(1)
    yield
    fsskernels.set_num_threads(old)


def rand_u64(rng: np.random.Generator, shape, edge: bool = True) -> np.ndarray:
    """Uniform uint64 values, with a share of edge values (0, 1, 2^64-1, 2^64-2, 2^63,
    2^52 +- 1, 2^12 - 1 ...) that exercise the limb splits of the kernels."""
    x = rng.integers(0, MOD, size=shape, dtype=np.uint64, endpoint=False)
    if edge and x.size:
        specials = np.array(
            [0, 1, MOD - 1, MOD - 2, 1 << 63, (1 << 63) - 1, (1 << 52) - 1, 1 << 52, (1 << 52) + 1,
             0xFFF, 0xFFF << 52, (1 << 32) - 1, 1 << 32],
            dtype=np.uint64,
        )
        mask = rng.random(shape) < 0.3
        x[mask] = rng.choice(specials, size=int(mask.sum()))
    return x


def ref_python(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact reference: Python integers, reduced mod 2^64 at the end."""
    r = np.matmul(a.astype(object), b.astype(object))
    return (np.vectorize(lambda v: int(v) % MOD, otypes=[object])(r)).astype(np.uint64)


def ref_numpy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.matmul(a, b)


# --------------------------------------------------------------------------- exactness


def test_numpy_reference_wraps_exactly():
    rng = np.random.default_rng(1)
    a, b = rand_u64(rng, (2, 9, 33)), rand_u64(rng, (2, 33, 7))
    assert np.array_equal(ref_numpy(a, b), ref_python(a, b))


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (1, 5, 1), (3, 1, 4), (2, 3, 9), (13, 7, 17), (12, 40, 24), (7, 30, 49)])
def test_small_against_python_ints(path, m, k, n):
    rng = np.random.default_rng(1000 * m + 100 * k + n)
    a, b = rand_u64(rng, (m, k)), rand_u64(rng, (k, n))
    assert np.array_equal(ring_matmul(a, b), ref_python(a, b))


def test_all_ones_max_values(path):
    # (2^64 - 1)^2 * k = k mod 2^64: every limb product saturated.
    for m, k, n in [(5, 300, 70), (13, 257, 9), (1, 1000, 1), (24, 64, 48)]:
        a = np.full((m, k), MOD - 1, dtype=np.uint64)
        b = np.full((k, n), MOD - 1, dtype=np.uint64)
        assert np.array_equal(ring_matmul(a, b), np.full((m, n), k, dtype=np.uint64))


@pytest.mark.parametrize(
    "m,k,n",
    [
        (37, 91, 53), (53, 37, 91), (91, 53, 37), (1, 300, 300), (300, 300, 1), (97, 257, 65),
        (11, 256, 16), (13, 255, 17), (25, 513, 49), (96, 96, 96), (95, 1, 95), (6, 10, 48),
        (12, 33, 8), (7, 20, 9), (130, 70, 770), (5, 40, 1000), (301, 1000, 5), (97, 2900, 8),
    ],
)
def test_shapes_against_numpy(path, m, k, n):
    rng = np.random.default_rng(7 * m + 11 * k + 13 * n)
    a, b = rand_u64(rng, (m, k)), rand_u64(rng, (k, n))
    assert np.array_equal(ring_matmul(a, b), ref_numpy(a, b))


@pytest.mark.parametrize("n", [3, 16, 40, 80])
def test_large_k(path, n):
    rng = np.random.default_rng(n)
    a, b = rand_u64(rng, (7, 5000)), rand_u64(rng, (5000, n))
    assert np.array_equal(ring_matmul(a, b), ref_numpy(a, b))


# Every combination of m, k, n in GRID: single rows and columns, odd sizes, register-tile and
# panel tails (3-row tiles and 8-column panels of the avx2 path, 4/6/12-row tiles of the
# AVX-512 paths), the avx2 path's direct driver (m <= 4) and its packed one.
GRID = (1, 3, 17, 64, 130)


@functools.lru_cache(maxsize=None)
def _grid_case(m: int, k: int, n: int, batch: int = 0):
    """Operands (full-range values with edge values mixed in) and their Python-int product;
    batch > 0 gives A a batch dimension with B broadcast. Cached: shared by all paths."""
    rng = np.random.default_rng(10_000 * m + 100 * k + n + 7 * batch)
    a = rand_u64(rng, (batch, m, k) if batch else (m, k))
    b = rand_u64(rng, (k, n))
    return a, b, ref_python(a, b)


def test_grid_against_python_ints(path):
    for m, k, n in itertools.product(GRID, GRID, GRID):
        a, b, ref = _grid_case(m, k, n)
        assert np.array_equal(ring_matmul(a, b), ref), (path, m, k, n)


@pytest.mark.parametrize("m,k,n", [(1, 17, 3), (3, 130, 17), (17, 3, 130), (64, 64, 1), (130, 1, 64)])
def test_grid_batched_against_python_ints(path, m, k, n):
    a, b, ref = _grid_case(m, k, n, batch=3)
    assert np.array_equal(ring_matmul(a, b), ref)
    # batched B as well (a different B per item), against Python ints item by item
    rng = np.random.default_rng(m + k + n)
    b3 = rand_u64(rng, (3, k, n))
    out = ring_matmul(a, b3)
    for i in range(3):
        assert np.array_equal(out[i], ref_python(a[i], b3[i])), (path, i)


def test_edge_values_only(path):
    # Operands drawn from the edge values alone: 0, 1, 2^63, 2^64 - 1 and the limb borders.
    rng = np.random.default_rng(11)
    specials = np.array([0, 1, 2, (1 << 63), (1 << 63) - 1, MOD - 1, MOD - 2, (1 << 32) - 1, 1 << 32,
                         (1 << 32) + 1, 0xFFFFFFFF00000000], dtype=np.uint64)
    for m, k, n in [(1, 1, 1), (3, 17, 9), (5, 64, 8), (17, 130, 3), (4, 257, 17), (9, 300, 33)]:
        a = rng.choice(specials, size=(m, k))
        b = rng.choice(specials, size=(k, n))
        assert np.array_equal(ring_matmul(a, b), ref_python(a, b)), (path, m, k, n)


def test_tile_edges_sweep(path):
    # m, n around the register tiles (4/6/8/12 rows, 8/16/24 columns) and k around KC.
    rng = np.random.default_rng(5)
    for m in (1, 5, 6, 7, 11, 12, 13, 23, 25):
        for n in (1, 7, 8, 9, 15, 17, 47, 49, 63, 65):
            k = int(rng.choice([1, 2, 9, 255, 256, 257]))
            a, b = rand_u64(rng, (m, k)), rand_u64(rng, (k, n))
            assert np.array_equal(ring_matmul(a, b), ref_numpy(a, b)), (m, k, n)


def test_signed_values_match_int64_matmul(path):
    rng = np.random.default_rng(3)
    a = rng.integers(-(1 << 40), 1 << 40, size=(20, 30), dtype=np.int64)
    b = rng.integers(-(1 << 20), 1 << 20, size=(30, 25), dtype=np.int64)
    out = ring_matmul(a, b)
    assert out.dtype == np.int64
    assert np.array_equal(out, a @ b)  # no overflow here: plain int64 products


def test_zero_sizes(path):
    z = ring_matmul(np.zeros((4, 0), np.uint64), np.zeros((0, 3), np.uint64))
    assert z.shape == (4, 3) and z.dtype == np.uint64 and not z.any()
    assert ring_matmul(np.zeros((0, 5), np.uint64), np.ones((5, 3), np.uint64)).shape == (0, 3)
    assert ring_matmul(np.ones((2, 5), np.uint64), np.ones((5, 0), np.uint64)).shape == (2, 0)
    assert ring_matmul(np.ones((0, 2, 5), np.uint64), np.ones((5, 3), np.uint64)).shape == (0, 2, 3)
    rng = np.random.default_rng(0)
    assert not ring_matmul(rng.integers(0, 9, (2, 3, 0)).astype(np.uint64), np.zeros((2, 0, 4), np.uint64)).any()


# --------------------------------------------------------------------------- batching


@pytest.mark.parametrize(
    "sa,sb",
    [
        ((8, 64, 64), (8, 64, 64)),
        ((3, 17, 29), (29, 31)),
        ((17, 29), (4, 29, 31)),
        ((2, 3, 9, 10), (10, 70)),
        ((2, 1, 9, 10), (1, 3, 10, 11)),
        ((2, 3, 5, 6), (3, 6, 7)),
        ((1, 5, 6), (4, 6, 50)),
        ((4, 5, 6), (1, 6, 50)),
    ],
)
def test_broadcast_batches(path, sa, sb):
    rng = np.random.default_rng(len(sa) * 10 + len(sb))
    a, b = rand_u64(rng, sa), rand_u64(rng, sb)
    out = ring_matmul(a, b)
    ref = ref_numpy(a, b)
    assert out.shape == ref.shape
    assert np.array_equal(out, ref)


def test_vectors(path):
    rng = np.random.default_rng(9)
    m, k, n = 5, 33, 7
    a, b = rand_u64(rng, (m, k)), rand_u64(rng, (k, n))
    v, w = rand_u64(rng, (k,)), rand_u64(rng, (k,))
    assert np.array_equal(ring_matmul(v, b), ref_numpy(v, b)) and ring_matmul(v, b).shape == (n,)
    assert np.array_equal(ring_matmul(a, v), ref_numpy(a, v)) and ring_matmul(a, v).shape == (m,)
    vw = ring_matmul(v, w)
    assert vw.shape == () and int(vw) == int(ref_numpy(v, w))
    a3 = rand_u64(rng, (2, m, k))
    assert np.array_equal(ring_matmul(a3, v), ref_numpy(a3, v))


def test_non_contiguous_inputs(path):
    rng = np.random.default_rng(4)
    a, b = rand_u64(rng, (40, 30)), rand_u64(rng, (50, 40))
    at, bt = a.T, b.T  # (30, 40) @ (40, 50)
    assert np.array_equal(ring_matmul(at, bt), ref_numpy(at, bt))
    assert np.array_equal(ring_matmul(a[::2, ::3], b[:10:, :40:4].T[:, :10]), ref_numpy(a[::2, ::3], b[:10:, :40:4].T[:, :10]))


# --------------------------------------------------------------------------- threads


@pytest.mark.parametrize(
    "sa,sb",
    [((3, 200, 70), (3, 70, 90)), ((1, 400, 300), (300, 20)), ((30, 70), (70, 500)), ((5, 64, 64), (64, 64)), ((2, 7, 6, 50), (2, 1, 50, 100))],
)
def test_threads_bit_identical(path, sa, sb):
    rng = np.random.default_rng(sum(sa) + sum(sb))
    a, b = rand_u64(rng, sa), rand_u64(rng, sb)
    old = fsskernels.get_num_threads()
    try:
        results = []
        for t in (1, 2, 3, 8):
            fsskernels.set_num_threads(t)
            results.append(ring_matmul(a, b))
    finally:
        fsskernels.set_num_threads(old)
    ref = ref_numpy(a, b)
    for r in results:
        assert np.array_equal(r, ref)


def test_deterministic_repeat(one_thread):
    rng = np.random.default_rng(8)
    a, b = rand_u64(rng, (50, 300)), rand_u64(rng, (300, 100))
    first = ring_matmul(a, b)
    for _ in range(3):
        assert np.array_equal(ring_matmul(a, b), first)


# --------------------------------------------------------------------------- kinds and dtypes


def test_dtypes_numpy():
    rng = np.random.default_rng(2)
    a, b = rand_u64(rng, (6, 7)), rand_u64(rng, (7, 5))
    ref = ref_numpy(a, b)
    assert ring_matmul(a, b).dtype == np.uint64
    out = ring_matmul(a.view(np.int64), b.view(np.int64))
    assert out.dtype == np.int64 and np.array_equal(out.view(np.uint64), ref)
    mixed = ring_matmul(a.view(np.int64), b)
    assert mixed.dtype == np.uint64 and np.array_equal(mixed, ref)
    # narrow types are sign- (or zero-) extended to 64 bits
    a32 = rng.integers(-1000, 1000, size=(6, 7)).astype(np.int32)
    b8 = rng.integers(0, 255, size=(7, 5)).astype(np.uint8)
    r = ring_matmul(a32, b8)
    assert r.dtype == np.uint64
    assert np.array_equal(r.view(np.int64), a32.astype(np.int64) @ b8.astype(np.int64))
    assert ring_matmul(a32, a32.T).dtype == np.int64
    # nested lists
    assert np.array_equal(ring_matmul([[1, 2], [3, 4]], [[MOD - 1], [1]]), np.array([[1], [1]], np.uint64))


def test_torch_in_out():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    a, b = rand_u64(rng, (3, 9, 11)), rand_u64(rng, (11, 13))
    ref = ref_numpy(a, b)
    ta, tb = torch.from_numpy(a.view(np.int64)), torch.from_numpy(b.view(np.int64))
    out = ring_matmul(ta, tb)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.int64 and out.device.type == "cpu"
    assert tuple(out.shape) == (3, 9, 13)
    assert np.array_equal(out.numpy().view(np.uint64), ref)
    # mixed torch / numpy -> torch; non-contiguous and requires-grad-free views
    out2 = ring_matmul(ta, b)
    assert isinstance(out2, torch.Tensor) and np.array_equal(out2.numpy().view(np.uint64), ref)
    tt = torch.from_numpy(b.view(np.int64)).t().contiguous().t()
    assert np.array_equal(ring_matmul(ta, tt).numpy().view(np.uint64), ref)
    assert np.array_equal(ring_matmul(ta.transpose(1, 2).contiguous().transpose(1, 2), tb).numpy().view(np.uint64), ref)


def test_torch_float_rejected():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="^a: "):
        ring_matmul(torch.ones(2, 2), torch.ones(2, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match="^b: "):
        ring_matmul(torch.ones(2, 2, dtype=torch.int64), torch.ones(2, 2, dtype=torch.float64))


def test_cuda_inputs_without_cuda_backend():
    try:
        from fsskernels import _cuda  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("CUDA backend present")

    class FakeCudaTensor:  # looks like a CUDA torch tensor to array_kind
        is_cuda = True

    FakeCudaTensor.__module__ = "torch.fake"
    with pytest.raises(ValueError, match="CUDA"):
        ring_matmul(FakeCudaTensor(), np.ones((2, 2), np.uint64))


# --------------------------------------------------------------------------- bad inputs


def test_bad_inputs():
    u = np.ones((3, 4), np.uint64)
    with pytest.raises(ValueError, match="^a: "):
        ring_matmul(np.ones((3, 4)), u.T)
    with pytest.raises(ValueError, match="^b: "):
        ring_matmul(u, np.ones((4, 2), np.float32))
    with pytest.raises(ValueError, match="^a: "):
        ring_matmul(np.ones((3, 4), bool), u.T)
    with pytest.raises(ValueError, match="^b: "):
        ring_matmul(u, u)  # (3, 4) @ (3, 4)
    with pytest.raises(ValueError, match="^a: "):
        ring_matmul(np.uint64(3), u)
    with pytest.raises(ValueError, match="^b: "):
        ring_matmul(u, np.array(5, np.uint64))
    with pytest.raises(ValueError, match="^b: "):
        ring_matmul(np.ones((2, 3, 4), np.uint64), np.ones((3, 4, 5), np.uint64))  # batch 2 vs 3
    with pytest.raises(ValueError, match="^a: "):
        ring_matmul("abc", u)


def test_binding_checks():
    a = np.ones((2, 3, 4), np.uint64)
    b = np.ones((2, 4, 5), np.uint64)
    out = np.zeros((2, 3, 5), np.uint64)
    _C.ring_matmul(a, b, out)
    assert (out == 4).all()
    _C.ring_matmul(a, b[:1].copy(), out)  # b batch 1 broadcasts
    assert (out == 4).all()
    with pytest.raises(ValueError, match="^a: "):
        _C.ring_matmul(a.astype(np.int64), b, out)
    with pytest.raises(ValueError, match="^a: "):
        _C.ring_matmul(a[0], b, out)
    with pytest.raises(ValueError, match="^b: "):
        _C.ring_matmul(a, np.ones((2, 3, 5), np.uint64), out)
    with pytest.raises(ValueError, match="^b: "):
        _C.ring_matmul(a, np.ones((3, 4, 5), np.uint64), np.zeros((2, 3, 5), np.uint64))
    with pytest.raises(ValueError, match="^out: "):
        _C.ring_matmul(a, b, np.zeros((2, 3, 4), np.uint64))
    with pytest.raises(ValueError, match="^b: "):
        _C.ring_matmul(a, np.ones((2, 5, 4), np.uint64)[:, ::1, :].transpose(0, 2, 1), out)  # not C-contiguous
    sq = np.ones((1, 4, 4), np.uint64)
    with pytest.raises(ValueError, match="^c: .*overlap"):
        _C.ring_matmul(sq, np.ones((1, 4, 4), np.uint64), sq)
    ro = np.zeros((2, 3, 5), np.uint64)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="^out: "):
        _C.ring_matmul(a, b, ro)


def test_bad_path_env(monkeypatch):
    monkeypatch.setenv("FSS_RING_PATH", "nonsense")
    with pytest.raises(ValueError, match="FSS_RING_PATH.*avx2"):
        ring_matmul(np.ones((2, 2), np.uint64), np.ones((2, 2), np.uint64))
