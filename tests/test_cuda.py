"""The CUDA backend (fsskernels._C_cuda, python/fsskernels/_cuda.py) against the CPU kernels,
bit for bit.

Without a GPU (or without the CUDA build) the GPU tests skip; what still runs when the
module was built:
  * the module imports without a driver, reports 0 devices, build_info says it is compiled;
  * the host emulation (fss::cuda::emulate): the GPU kernels' per-thread code (AES T-table
    round, tree walks, tile addressing, checksum lanes, eval_all level/leaf passes) run on
    the CPU, compared byte for byte with the CPU kernels;
  * the raw entry points fail cleanly (ValueError) instead of touching memory.
With a GPU (torch CUDA, or CuPy): seeded keys generated on the GPU equal the CPU keys byte for
byte, evaluations / full-domain evaluation / ring_matmul / prg_hash equal the CPU results,
torch and CuPy inputs, mixed-device errors.
"""
from __future__ import annotations

import numpy as np
import pytest

import fsskernels as fk
from fsskernels import _C
from kernel_helpers import HAVE_GPU, TORCH

try:
    from fsskernels import _C_cuda as M
except ImportError:  # not built
    M = None

needs_module = pytest.mark.skipif(M is None, reason="CUDA module _C_cuda was not built")


def _cupy():
    try:
        import cupy
    except ImportError:
        return None
    try:
        return cupy if cupy.cuda.runtime.getDeviceCount() > 0 else None
    except Exception:  # noqa: BLE001 - no driver
        return None


CUPY = _cupy() if HAVE_GPU else None
needs_gpu = pytest.mark.skipif(not HAVE_GPU or (TORCH is None and CUPY is None),
                               reason="no CUDA GPU (or neither torch with CUDA nor CuPy)")
needs_torch = pytest.mark.skipif(not HAVE_GPU or TORCH is None, reason="needs a GPU and torch with CUDA")
needs_cupy = pytest.mark.skipif(not HAVE_GPU or CUPY is None, reason="needs a GPU and CuPy")

U64 = np.uint64


def rand_bits(rng: np.random.Generator, n: int, bits: int) -> np.ndarray:
    v = np.frombuffer(rng.bytes(8 * n), dtype=np.uint64).copy()
    return v >> U64(64 - bits) if bits < 64 else v


def sample_inputs(rng, alpha: np.ndarray, bits: int) -> np.ndarray:
    """Per key: alpha, alpha - 1, alpha + 1, a random value, 0 or the top value."""
    n = alpha.size
    top = U64((1 << bits) - 1)
    x = rand_bits(rng, n, bits)
    kind = np.arange(n) % 6
    x = np.where(kind == 0, alpha, x)
    x = np.where(kind == 1, np.where(alpha > 0, alpha - U64(1), alpha), x)
    x = np.where(kind == 2, np.where(alpha < top, alpha + U64(1), alpha), x)
    x = np.where(kind == 4, U64(0), x)
    x = np.where(kind == 5, top, x)
    return x.astype(np.uint64)


def gen_inputs(rng, n: int, bits: int, out_bits: int):
    alpha = rand_bits(rng, n, bits)
    alpha[: min(n, 2)] = [0, (1 << bits) - 1][: min(n, 2)]
    beta = rand_bits(rng, n, out_bits)
    if out_bits == 1:
        beta[::3] = 0
    return alpha, beta


CASES = [(b, m) for b in (1, 2, 5, 7, 8, 13, 20, 31, 33, 63, 64) for m in (1, 8, 33, 64)] + [(16, 2), (24, 16), (9, 7)]


# =========================================================================== no GPU needed
@needs_module
def test_module_imports_and_reports_devices():
    info = fk.build_info()
    assert info["cuda_compiled"] is True
    assert isinstance(M.compiled_archs, str) and M.compiled_archs
    assert info["cuda_archs"] == M.compiled_archs
    n = M.device_count()
    assert isinstance(n, int) and n >= 0
    assert len(M.device_names()) == n
    if not HAVE_GPU:
        assert n == 0
        assert M.device_names() == []
        assert fk.available_backends() == ["cpu"]
        assert info["gpus"] == []


@needs_module
@pytest.mark.skipif(HAVE_GPU, reason="checks the behaviour without a GPU")
def test_entry_points_fail_cleanly_without_gpu():
    hdr = bytes(32)
    with pytest.raises(ValueError, match="^device: "):
        M.eval("dpf", 0, 0, 32, hdr, 0, 0, 0, 0)
    with pytest.raises(ValueError, match="^device: "):
        M.ring_matmul(0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0)


@needs_module
def test_emulated_prg_matches_cpu():
    rng = np.random.default_rng(1)
    blocks = rng.integers(0, 256, (67, 16), dtype=np.uint8)
    for tweak in (0, 1, 2, 3, (1 << 64) - 1):
        assert np.array_equal(M._emulate_prg_hash(blocks, tweak), _C.prg_hash(blocks, tweak))


@needs_module
@pytest.mark.parametrize("scheme", ["dpf", "dcf"])
@pytest.mark.parametrize("bits,out_bits", CASES)
def test_emulated_kernels_match_cpu(scheme, bits, out_bits):
    """The GPU kernels' code, run on the host: keys byte for byte, evaluations bit for bit."""
    rng = np.random.default_rng(bits * 131 + out_bits + (7 if scheme == "dcf" else 0))
    n = 45  # one full tile and a partial one
    alpha, beta = gen_inputs(rng, n, bits, out_bits)
    seed = rng.bytes(16)
    cpu_gen = _C.dpf_gen if scheme == "dpf" else _C.dcf_gen
    c0, c1 = cpu_gen(alpha, beta, False, bits, out_bits, seed)
    e0, e1 = M._emulate_gen(scheme, alpha, beta, False, bits, out_bits, seed)
    assert np.array_equal(e0, c0)  # header checksum (tile digests) included
    assert np.array_equal(e1, c1)
    x = sample_inputs(rng, alpha, bits)
    cpu_eval = _C.dpf_eval if scheme == "dpf" else _C.dcf_eval
    for party, kb in ((0, c0), (1, c1)):
        assert np.array_equal(M._emulate_eval(scheme, party, kb, x), cpu_eval(party, kb, x))
    if scheme == "dpf" and bits <= 10:
        for party, kb in ((0, c0), (1, c1)):
            assert np.array_equal(M._emulate_eval_all(party, kb), _C.dpf_eval_all(party, kb))


@needs_module
def test_emulated_scalar_beta_and_errors():
    rng = np.random.default_rng(5)
    alpha = rand_bits(rng, 10, 12)
    beta = np.array([12345], dtype=np.uint64)
    for scheme in ("dpf", "dcf"):
        cpu_gen = _C.dpf_gen if scheme == "dpf" else _C.dcf_gen
        c0, _ = cpu_gen(alpha, beta, True, 12, 16, b"k" * 16)
        e0, _ = M._emulate_gen(scheme, alpha, beta, True, 12, 16, b"k" * 16)
        assert np.array_equal(e0, c0)
        bad = alpha.copy()
        bad[7] = 1 << 12
        with pytest.raises(ValueError, match="^alpha: value at index 7"):
            M._emulate_gen(scheme, bad, beta, True, 12, 16, b"k" * 16)
        x = alpha.copy()
        x[3] = 1 << 40
        with pytest.raises(ValueError, match="^x: value at index 3"):
            M._emulate_eval(scheme, 0, c0, x)
        # Unchecked evaluation ignores the bits above `bits`.
        x_low = x & U64((1 << 12) - 1)
        assert np.array_equal(M._emulate_eval(scheme, 0, c0, x, False), M._emulate_eval(scheme, 0, c0, x_low))
        with pytest.raises(ValueError, match="^party: "):
            M._emulate_eval(scheme, 1, c0, alpha)


# =========================================================================== glue, no GPU
# python/fsskernels/_cuda.py driven through a stand-in CuPy whose "device" arrays are host
# numpy arrays, and a stand-in _C_cuda whose raw-pointer entry points run the host emulation
# of the kernels on those pointers: checks the Python glue (dtype / shape / device handling,
# broadcasting, KeyBatch plumbing, error messages) on machines without a GPU.
import ctypes  # noqa: E402
import sys  # noqa: E402
import types  # noqa: E402


class _FakeCupyArray:
    def __init__(self, arr):
        self._a = arr

    dtype = property(lambda self: self._a.dtype)
    shape = property(lambda self: self._a.shape)
    size = property(lambda self: self._a.size)
    ndim = property(lambda self: self._a.ndim)
    T = property(lambda self: _FakeCupyArray(self._a.T))
    flags = property(lambda self: types.SimpleNamespace(c_contiguous=self._a.flags.c_contiguous))
    data = property(lambda self: types.SimpleNamespace(ptr=self._a.ctypes.data))
    device = property(lambda self: types.SimpleNamespace(id=0))

    def astype(self, dt):
        return _FakeCupyArray(self._a.astype(dt))

    def reshape(self, *shape):
        return _FakeCupyArray(self._a.reshape(*shape))

    def view(self, dt):
        return _FakeCupyArray(self._a.view(dt))


_FakeCupyArray.__module__ = "cupy._fake"


class _FakeDevice:
    def __init__(self, i=0):
        self.id = i

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def synchronize(self):
        pass


def _fake_cupy():
    cp = types.ModuleType("cupy")
    cp.ndarray = _FakeCupyArray
    cp.int64, cp.uint64, cp.uint8 = np.int64, np.uint64, np.uint8
    cp.asarray = lambda a: _FakeCupyArray(np.array(a))
    cp.asnumpy = lambda x: x._a.copy()
    cp.empty = lambda shape, dtype: _FakeCupyArray(np.empty(shape, dtype))
    cp.empty_like = lambda x: _FakeCupyArray(np.empty_like(x._a))
    cp.ascontiguousarray = lambda x: _FakeCupyArray(np.ascontiguousarray(x._a))
    cp.broadcast_to = lambda x, shape: _FakeCupyArray(np.broadcast_to(x._a, shape))
    stream = types.SimpleNamespace(ptr=0, synchronize=lambda: None)
    cp.cuda = types.SimpleNamespace(Device=_FakeDevice, get_current_stream=lambda: stream,
                                    runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))
    return cp


def _at(ptr, n, dtype):
    """A numpy view of n elements at a host address."""
    if n == 0:
        return np.zeros(0, dtype)
    ctype = {np.uint8: ctypes.c_uint8, np.uint64: ctypes.c_uint64}[dtype]
    return np.frombuffer((ctype * n).from_address(ptr), dtype=dtype)


class _FakeCudaModule:
    """_C_cuda's raw entry points on host pointers, via the host emulation."""

    calls: list = []

    @staticmethod
    def device_count():
        return 1

    @classmethod
    def gen(cls, scheme, alpha, beta, beta_scalar, beta_value, count, bits, out_bits, seed, key0, key1, key_len,
            device, stream):
        cls.calls.append("gen")
        a = _at(alpha, count, np.uint64).copy()
        if beta:
            b = _at(beta, 1 if beta_scalar else count, np.uint64).copy()
        else:
            b, beta_scalar = np.array([beta_value], np.uint64), True
        k0, k1 = M._emulate_gen(scheme, a, b, beta_scalar, bits, out_bits, seed)
        _at(key0, key_len, np.uint8)[:] = k0
        _at(key1, key_len, np.uint8)[:] = k1
        # Like the real binding: header metadata rebuilt on the host, checksum bytes zero.
        h0, h1 = k0[:32].copy(), k1[:32].copy()
        h0[24:] = 0
        h1[24:] = 0
        return M.header_info(h0.tobytes(), key_len), M.header_info(h1.tobytes(), key_len)

    @classmethod
    def eval(cls, scheme, party, key, key_len, header, x, out, device, stream, check=True):
        cls.calls.append("eval")
        kb = _at(key, key_len, np.uint8).copy()
        assert header is None or header[:24] == kb[:24].tobytes()
        n = int(kb[16:24].view(np.uint64)[0])
        res = M._emulate_eval(scheme, party, kb, _at(x, n, np.uint64).copy(), check)
        _at(out, n, np.uint64)[:] = res

    @classmethod
    def eval_all(cls, party, key, key_len, header, out, out_len, device, stream):
        cls.calls.append("eval_all")
        res = M._emulate_eval_all(party, _at(key, key_len, np.uint8).copy())
        _at(out, out_len, np.uint64)[:] = res.ravel()

    @classmethod
    def dpf_lookup(cls, party, key, key_len, header, c, tables, ntab, out, device, stream):
        cls.calls.append("dpf_lookup")
        kb = _at(key, key_len, np.uint8).copy()
        n = int(kb[16:24].view(np.uint64)[0])
        dom = 1 << int(kb[8])
        res = M._emulate_dpf_lookup(party, kb, _at(c, n, np.uint64).copy(),
                                    _at(tables, ntab * dom, np.uint64).reshape(ntab, dom).copy())
        _at(out, ntab * n, np.uint64)[:] = res.ravel()

    @classmethod
    def ring_matmul(cls, a, b, c, batch, m, k, n, sa, sb, device, stream, algo="auto"):
        cls.calls.append(f"ring_matmul:{algo}")
        A = _at(a, (batch - 1) * sa + m * k, np.uint64)
        B = _at(b, (batch - 1) * sb + k * n, np.uint64)
        C = _at(c, batch * m * n, np.uint64)
        for z in range(batch):
            az = A[z * sa:z * sa + m * k].reshape(m, k)
            bz = B[z * sb:z * sb + k * n].reshape(k, n)
            if algo == "imma":  # the tensor-core kernel's host emulation
                res = M._emulate_ring_matmul_imma(az.reshape(1, m, k).copy(), bz.reshape(1, k, n).copy())
            else:
                res = fk.ring_matmul(az, bz)
            C[z * m * n:(z + 1) * m * n] = res.ravel()


@pytest.fixture
def fake_gpu(monkeypatch):
    import fsskernels._cuda as glue

    cp = _fake_cupy()
    monkeypatch.setitem(sys.modules, "cupy", cp)
    monkeypatch.setattr(glue, "_M", _FakeCudaModule)
    monkeypatch.setattr(glue, "_default_fw", lambda: "cupy")
    _FakeCudaModule.calls = []
    return cp


@needs_module
@pytest.mark.parametrize("scheme,bits,out_bits", [("dpf", 20, 1), ("dcf", 64, 64), ("dcf", 64, 1), ("dpf", 9, 33),
                                                  ("dcf", 12, 8)])
def test_glue_gen_eval(fake_gpu, scheme, bits, out_bits):
    cp = fake_gpu
    rng = np.random.default_rng(bits)
    alpha, beta = gen_inputs(rng, 40, bits, out_bits)
    gen = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
    ev = fk.dpf_eval if scheme == "dpf" else fk.dcf_eval
    c0, c1 = gen(alpha, beta, bits=bits, out_bits=out_bits, seed=5)
    g0, g1 = gen(cp.asarray(alpha), cp.asarray(beta), bits=bits, out_bits=out_bits, seed=5)
    assert g0.device == "cuda:0" and g0.party == 0 and g1.party == 1 and len(g0) == 40
    assert g0.to_bytes() == c0.to_bytes() and g1.to_bytes() == c1.to_bytes()
    gs, _ = gen(cp.asarray(alpha), 3, bits=bits, out_bits=out_bits, seed=5)  # scalar beta
    assert gs.to_bytes() == gen(alpha, 3, bits=bits, out_bits=out_bits, seed=5)[0].to_bytes()
    x = sample_inputs(rng, alpha, bits).reshape(5, 8)
    for party, (ck, gk) in enumerate(((c0, g0), (c1, g1))):
        got = ev(party, gk, cp.asarray(x))
        assert isinstance(got, cp.ndarray) and got.shape == (5, 8) and got.dtype == np.uint64
        assert np.array_equal(cp.asnumpy(got), ev(party, ck, x))
        up = ck.to("cuda")
        assert up.device == "cuda:0" and up.to_bytes() == ck.to_bytes()
        assert np.array_equal(cp.asnumpy(ev(party, up, cp.asarray(x.astype(np.int64)))), ev(party, ck, x))
    assert g0.to("cpu").to_bytes() == c0.to_bytes()
    assert g0[3:9].to_bytes() == c0[3:9].to_bytes()
    if scheme == "dpf" and bits <= 10:
        for party, (ck, gk) in enumerate(((c0, g0), (c1, g1))):
            got = fk.dpf_eval_all(party, gk, like=cp.empty(1, np.uint64))
            assert np.array_equal(cp.asnumpy(got), fk.dpf_eval_all(party, ck))
    assert "gen" in _FakeCudaModule.calls and "eval" in _FakeCudaModule.calls
    # Unchecked evaluation (no stream synchronization): bits above `bits` are ignored.
    import fsskernels._cuda as glue

    if bits < 64:
        high = x | (U64(1) << U64(bits))
        for party, (ck, gk) in enumerate(((c0, g0), (c1, g1))):
            got = glue.evaluate(scheme, party, gk, cp.asarray(high), check=False)
            assert np.array_equal(cp.asnumpy(got), ev(party, ck, x))


@needs_module
def test_glue_errors(fake_gpu):
    cp = fake_gpu
    alpha = np.arange(10, dtype=np.uint64)
    c0, _ = fk.dpf_gen(alpha, 1, bits=8, out_bits=8, seed=1)
    g0, _ = fk.dpf_gen(cp.asarray(alpha), 1, bits=8, out_bits=8, seed=1)
    xd = cp.asarray(alpha)
    with pytest.raises(ValueError, match=r"^keys: are on the CPU .*keys.to\('cuda:0'\)"):
        fk.dpf_eval(0, c0, xd)
    with pytest.raises(ValueError, match="^keys: live on a CUDA device"):
        fk.dpf_eval(0, g0, alpha)
    with pytest.raises(ValueError, match="^beta: is on the CPU"):
        fk.dpf_gen(xd, np.ones(10, np.uint64), bits=8, out_bits=8)
    with pytest.raises(ValueError, match="^beta: is on a CUDA device"):
        fk.dpf_gen(alpha, cp.asarray(np.ones(10, np.uint64)), bits=8, out_bits=8)
    with pytest.raises(ValueError, match="^beta: expected a scalar or 10 values"):
        fk.dpf_gen(xd, cp.asarray(np.ones(3, np.uint64)), bits=8, out_bits=8)
    with pytest.raises(ValueError, match="^x: has 3 values but there are 10 keys"):
        fk.dpf_eval(0, g0, cp.asarray(np.ones(3, np.uint64)))
    with pytest.raises(ValueError, match="^x: expected an integer dtype"):
        fk.dpf_eval(0, g0, cp.asarray(np.ones(10, np.float32)))
    with pytest.raises(ValueError, match="^alpha: expected an integer dtype"):
        fk.dcf_gen(cp.asarray(np.ones(10, np.float64)), 1, bits=8, out_bits=8)
    with pytest.raises(ValueError, match="^party: keys belong to party 0"):
        fk.dpf_eval(1, g0, xd)
    with pytest.raises(ValueError, match="^keys: are DPF keys, expected DCF keys"):
        fk.dcf_eval(0, g0, xd)
    with pytest.raises(ValueError, match="^x: value at index 4 does not fit"):
        bad = alpha.copy()
        bad[4] = 256
        fk.dpf_eval(0, g0, cp.asarray(bad))
    with pytest.raises(ValueError, match="^alpha: value at index 0 does not fit"):
        fk.dpf_gen(cp.asarray(np.full(3, 256, np.uint64)), 1, bits=8, out_bits=8)
    with pytest.raises(ValueError, match="^b: is on the CPU"):
        fk.ring_matmul(cp.asarray(np.ones((2, 2), np.uint64)), np.ones((2, 2), np.uint64))
    with pytest.raises(ValueError, match="^a: is on the CPU"):
        fk.ring_matmul(np.ones((2, 2), np.uint64), cp.asarray(np.ones((2, 2), np.uint64)))
    with pytest.raises(ValueError, match="^b: shape"):
        fk.ring_matmul(cp.asarray(np.ones((2, 3), np.uint64)), cp.asarray(np.ones((2, 3), np.uint64)))
    with pytest.raises(ValueError, match="^b: leading dims"):
        fk.ring_matmul(cp.asarray(np.ones((2, 2, 3), np.uint64)), cp.asarray(np.ones((3, 3, 2), np.uint64)))
    with pytest.raises(ValueError, match="^a: expected an integer dtype"):
        fk.ring_matmul(cp.asarray(np.ones((2, 2), np.float64)), cp.asarray(np.ones((2, 2), np.uint64)))
    with pytest.raises(ValueError, match="^device: cuda:3 does not exist"):
        c0.to("cuda:3")


@needs_module
@pytest.mark.parametrize("sa,sb", [((3, 5), (5, 4)), ((7,), (7, 3)), ((4, 7), (7,)), ((7,), (7,)),
                                   ((2, 3, 9, 5), (5, 6)), ((9, 5), (4, 5, 6)), ((4, 1, 3, 5), (2, 5, 2)),
                                   ((3, 0), (0, 4)), ((1, 3, 4), (2, 4, 5)), ((2, 3, 4), (2, 4, 5))])
def test_glue_ring_matmul(fake_gpu, sa, sb):
    cp = fake_gpu
    rng = np.random.default_rng(len(sa) + 3 * len(sb))
    a = rand_bits(rng, int(np.prod(sa)), 64).reshape(sa)
    b = rand_bits(rng, int(np.prod(sb)), 64).reshape(sb)
    want = fk.ring_matmul(a, b)
    got = fk.ring_matmul(cp.asarray(a), cp.asarray(b))
    assert tuple(got.shape) == want.shape and got.dtype == np.uint64
    assert np.array_equal(cp.asnumpy(got), want)
    signed = fk.ring_matmul(cp.asarray(a.view(np.int64)), cp.asarray(b.view(np.int64)))
    assert signed.dtype == np.int64 and np.array_equal(cp.asnumpy(signed).view(np.uint64), want)
    if a.ndim == 2:
        at = cp.asarray(np.ascontiguousarray(a.T)).T  # non-contiguous view
        assert np.array_equal(cp.asnumpy(fk.ring_matmul(at, cp.asarray(b))), want)
    import fsskernels._cuda as glue

    for algo in ("simt", "imma"):
        got = glue.ring_matmul(cp.asarray(a), cp.asarray(b), algo=algo)
        assert np.array_equal(cp.asnumpy(got), want)
    if 0 not in a.shape + b.shape:
        assert "ring_matmul:imma" in _FakeCudaModule.calls


@needs_module
def test_glue_ring_matmul_algo_errors(fake_gpu):
    import fsskernels._cuda as glue

    cp = fake_gpu
    x = cp.asarray(np.ones((2, 2), np.uint64))
    for bad in ("tensor", "IMMA", None, 1):
        with pytest.raises(ValueError, match="^algo: must be one of"):
            glue.ring_matmul(x, x, algo=bad)


# =========================================================================== GPU helpers
def to_dev(arr: np.ndarray, fw: str = "torch"):
    if fw == "torch":
        return TORCH.from_numpy(np.ascontiguousarray(arr).view(np.int64)).cuda()
    return CUPY.asarray(arr)


def from_dev(obj) -> np.ndarray:
    if TORCH is not None and isinstance(obj, TORCH.Tensor):
        return obj.cpu().numpy().view(np.uint64)
    return CUPY.asnumpy(obj).view(np.uint64)


def gpu_frameworks():
    fws = []
    if TORCH is not None:
        fws.append("torch")
    if CUPY is not None:
        fws.append("cupy")
    return fws or ["torch"]


FW = pytest.mark.parametrize("fw", gpu_frameworks())


# =========================================================================== GPU tests
@needs_gpu
@FW
@pytest.mark.parametrize("scheme", ["dpf", "dcf"])
@pytest.mark.parametrize("bits,out_bits", CASES)
def test_gpu_keys_and_eval_match_cpu(fw, scheme, bits, out_bits):
    rng = np.random.default_rng(bits * 17 + out_bits)
    n = 77
    alpha, beta = gen_inputs(rng, n, bits, out_bits)
    seed = int.from_bytes(rng.bytes(16), "little")
    gen = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
    ev = fk.dpf_eval if scheme == "dpf" else fk.dcf_eval
    c0, c1 = gen(alpha, beta, bits=bits, out_bits=out_bits, seed=seed)
    g0, g1 = gen(to_dev(alpha, fw), to_dev(beta, fw), bits=bits, out_bits=out_bits, seed=seed)
    assert g0.device.startswith("cuda") and len(g0) == n
    assert (g0.scheme, g0.party, g0.bits, g0.out_bits, g0.key_size) == (c0.scheme, 0, bits, out_bits, c0.key_size)
    assert g0.to_bytes() == c0.to_bytes()
    assert g1.to_bytes() == c1.to_bytes()
    x = sample_inputs(rng, alpha, bits)
    xd = to_dev(x, fw)
    for party, (ck, gk) in enumerate(((c0, g0), (c1, g1))):
        want = ev(party, ck, x)
        got = ev(party, gk, xd)
        assert type(got) is type(xd)
        assert np.array_equal(from_dev(got), want)
        # CPU keys uploaded evaluate the same.
        assert np.array_equal(from_dev(ev(party, ck.to("cuda"), xd)), want)


@needs_gpu
@pytest.mark.parametrize("bits,out_bits", [(1, 1), (6, 64), (10, 1), (12, 8), (16, 33), (7, 2)])
def test_gpu_eval_all_matches_cpu(bits, out_bits):
    rng = np.random.default_rng(bits)
    n = 37
    alpha, beta = gen_inputs(rng, n, bits, out_bits)
    c0, c1 = fk.dpf_gen(alpha, beta, bits=bits, out_bits=out_bits, seed=9)
    for party, kb in ((0, c0), (1, c1)):
        want = fk.dpf_eval_all(party, kb)
        like = CUPY.empty(1) if TORCH is None else None
        got = fk.dpf_eval_all(party, kb.to("cuda"), like=like)
        assert got.shape == (n, 1 << bits)
        assert np.array_equal(from_dev(got), want)


@needs_gpu
def test_gpu_gen_large_batch_and_scalar_beta():
    fw = gpu_frameworks()[0]
    rng = np.random.default_rng(3)
    n = 5000
    alpha = rand_bits(rng, n, 32)
    for scheme, gen in (("dpf", fk.dpf_gen), ("dcf", fk.dcf_gen)):
        c0, c1 = gen(alpha, 77, bits=32, out_bits=16, seed=4)
        g0, g1 = gen(to_dev(alpha, fw), 77, bits=32, out_bits=16, seed=4)
        assert g0.to_bytes() == c0.to_bytes() and g1.to_bytes() == c1.to_bytes()
        g0b, _ = gen(to_dev(alpha, fw), to_dev(np.array([77], np.uint64), fw), bits=32, out_bits=16, seed=4)
        assert g0b.to_bytes() == c0.to_bytes()
        # Unseeded keys still reconstruct.
        k0, k1 = gen(to_dev(alpha, fw), 77, bits=32, out_bits=16)
        ev = fk.dpf_eval if scheme == "dpf" else fk.dcf_eval
        xd = to_dev(alpha, fw)
        s = (from_dev(ev(0, k0, xd)) + from_dev(ev(1, k1, xd))) & U64(0xFFFF)
        assert np.all(s == (77 if scheme == "dpf" else 0))


@needs_gpu
def test_gpu_prg_matches_cpu():
    fw = gpu_frameworks()[0]
    rng = np.random.default_rng(2)
    blocks = rng.integers(0, 256, (1000, 16), dtype=np.uint8)
    src = to_dev(blocks.reshape(-1).view(np.uint64), fw)
    dst = to_dev(np.zeros(2000, np.uint64), fw)
    ptr = (lambda t: t.data_ptr()) if fw == "torch" else (lambda t: t.data.ptr)
    dev = src.device.index if fw == "torch" else src.device.id
    for tweak in (0, 2, 99):
        M.prg_hash(ptr(src), ptr(dst), 1000, tweak, dev, 0)
        got = from_dev(dst).view(np.uint8).reshape(1000, 16)
        assert np.array_equal(got, _C.prg_hash(blocks, tweak))


RING_SHAPES = [
    ((3, 5), (5, 4)), ((64, 64), (64, 64)), ((65, 17), (17, 130)), ((1, 300), (300, 1)), ((7,), (7, 3)),
    ((4, 7), (7,)), ((7,), (7,)), ((2, 3, 9, 5), (5, 6)), ((9, 5), (4, 5, 6)), ((4, 1, 3, 5), (2, 5, 2)),
    ((3, 0), (0, 4)), ((0, 3), (3, 2)), ((129, 33), (33, 65)),
]


@needs_gpu
@FW
@pytest.mark.parametrize("sa,sb", RING_SHAPES)
def test_gpu_ring_matmul_matches_cpu(fw, sa, sb):
    rng = np.random.default_rng(len(sa) * 10 + len(sb))
    a = rand_bits(rng, int(np.prod(sa)), 64).reshape(sa)
    b = rand_bits(rng, int(np.prod(sb)), 64).reshape(sb)
    want = fk.ring_matmul(a, b)
    got = fk.ring_matmul(to_dev(a, fw), to_dev(b, fw))
    assert tuple(got.shape) == want.shape
    assert np.array_equal(from_dev(got), want)


@needs_gpu
def test_gpu_ring_matmul_noncontiguous_and_narrow():
    fw = gpu_frameworks()[0]
    rng = np.random.default_rng(11)
    a = rand_bits(rng, 40 * 30, 64).reshape(40, 30)
    b = rand_bits(rng, 30 * 20, 64).reshape(30, 20)
    want = fk.ring_matmul(a, b)
    at = to_dev(np.ascontiguousarray(a.T), fw).T  # a transposed view: not contiguous
    assert np.array_equal(from_dev(fk.ring_matmul(at, to_dev(b, fw))), want)
    small = rng.integers(-100, 100, (5, 6), dtype=np.int32)
    smallb = rng.integers(-100, 100, (6, 2), dtype=np.int32)
    want = fk.ring_matmul(small, smallb).view(np.uint64)
    got = fk.ring_matmul(TORCH.from_numpy(small).cuda(), TORCH.from_numpy(smallb).cuda()) if fw == "torch" else \
        fk.ring_matmul(CUPY.asarray(small), CUPY.asarray(smallb))
    assert np.array_equal(from_dev(got), want)


@needs_torch
def test_gpu_mixed_device_errors():
    torch = TORCH
    rng = np.random.default_rng(8)
    alpha = rand_bits(rng, 10, 16)
    c0, _ = fk.dpf_gen(alpha, 1, bits=16, out_bits=8, seed=1)
    xd = torch.from_numpy(alpha.view(np.int64)).cuda()
    with pytest.raises(ValueError, match="^keys: .*keys.to"):
        fk.dpf_eval(0, c0, xd)  # CPU keys, CUDA x
    g0 = c0.to("cuda")
    with pytest.raises(ValueError, match="^keys: live on a CUDA device"):
        fk.dpf_eval(0, g0, alpha)  # CUDA keys, CPU x
    with pytest.raises(ValueError, match="^beta: "):
        fk.dpf_gen(xd, np.ones(10, np.uint64), bits=16, out_bits=8)
    with pytest.raises(ValueError, match="^beta: "):
        fk.dpf_gen(alpha, torch.ones(10, dtype=torch.int64, device="cuda"), bits=16, out_bits=8)
    with pytest.raises(ValueError, match="^b: "):
        fk.ring_matmul(torch.ones(2, 2, dtype=torch.int64, device="cuda"), np.ones((2, 2), np.uint64))
    with pytest.raises(ValueError, match="^a: "):
        fk.ring_matmul(np.ones((2, 2), np.uint64), torch.ones(2, 2, dtype=torch.int64, device="cuda"))
    with pytest.raises(ValueError, match="^x: "):
        fk.dpf_eval(0, g0, torch.ones(3, dtype=torch.int64, device="cuda"))  # wrong count
    with pytest.raises(ValueError, match="^x: value at index 2"):
        bad = alpha.copy()
        bad[2] = 1 << 20
        fk.dpf_eval(0, g0, torch.from_numpy(bad.view(np.int64)).cuda())
    with pytest.raises(ValueError, match="^alpha: value at index 0"):
        fk.dpf_gen(torch.full((4,), 1 << 20, dtype=torch.int64, device="cuda"), 1, bits=16, out_bits=8)
    with pytest.raises(ValueError, match="^x: "):
        fk.dpf_eval(0, g0, torch.ones(10, dtype=torch.float32, device="cuda"))
    with pytest.raises(ValueError, match="^party: "):
        fk.dpf_eval(1, g0, xd)
    with pytest.raises(ValueError, match="^keys: "):
        fk.dcf_eval(0, g0, xd)
    # Round trips between devices keep the bytes.
    assert g0.to("cpu").to_bytes() == c0.to_bytes()
    assert fk.KeyBatch.from_bytes(g0.to_bytes()).to_bytes() == c0.to_bytes()
    if torch.cuda.device_count() > 1:
        x1 = xd.to("cuda:1")
        with pytest.raises(ValueError, match="^keys: are on cuda:0"):
            fk.dpf_eval(0, g0, x1)


@needs_cupy
def test_gpu_cupy_results_are_cupy():
    cp = CUPY
    rng = np.random.default_rng(12)
    alpha = rand_bits(rng, 50, 24)
    c0, c1 = fk.dcf_gen(alpha, 5, bits=24, out_bits=12, seed=2)
    g0, g1 = fk.dcf_gen(cp.asarray(alpha), 5, bits=24, out_bits=12, seed=2)
    assert g0.to_bytes() == c0.to_bytes()
    x = cp.asarray(alpha)
    y = fk.dcf_eval(0, g0, x)
    assert isinstance(y, cp.ndarray) and y.dtype == cp.uint64
    assert np.array_equal(cp.asnumpy(y), fk.dcf_eval(0, c0, alpha))
