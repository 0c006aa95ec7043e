"""CUDA backend glue: what fss.py, keys.py and ring.py call for CUDA inputs.

Arrays: torch CUDA tensors and CuPy arrays (anything with ``__cuda_array_interface__`` from
CuPy; CuPy is imported lazily and is optional). Integer dtypes only (bool / float raise
ValueError naming the argument); int64 and uint64 are used as they are, narrower integer
types are sign- or zero-extended to 64 bits like the CPU path, non-contiguous inputs are
copied. Results come back as the caller's kind on the same device: torch int64 (the uint64
bits) or CuPy uint64. Work runs on the caller's current stream of that device
(``torch.cuda.current_stream`` / ``cupy.cuda.get_current_stream``); gen and the evaluations
synchronize that stream once to report out-of-range alpha / x as ValueError (as the CPU
path does).

Key batches on the GPU keep their bytes in a torch uint8 tensor or a CuPy uint8 array and a
host copy of the 32-byte header (``KeyBatch._info["header"]``). Mixed CPU / GPU arguments,
or arguments on different GPUs, raise ValueError naming the argument; keys are never moved
implicitly (use ``keys.to("cuda")`` / ``keys.to("cpu")``).
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import _C
from ._arrays import KIND_CUPY, KIND_NUMPY, KIND_TORCH, KIND_TORCH_CUDA, array_kind, check_torch_dense, is_cuda_kind
from .keys import KeyBatch

try:
    from . import _C_cuda as _M  # type: ignore[attr-defined]
except ImportError as exc:  # pragma: no cover - depends on the build
    raise ImportError("fsskernels was built without the CUDA backend (module _C_cuda)") from exc

_FW_TORCH = "torch"
_FW_CUPY = "cupy"


# --------------------------------------------------------------------------- arrays
class _DevArray:
    """A contiguous 64-bit integer device array plus what the kernels need to know."""

    __slots__ = ("obj", "fw", "ptr", "shape", "size", "device", "signed", "copied")

    def __init__(self, obj: Any, fw: str, ptr: int, shape: tuple, size: int, device: int, signed: bool,
                 copied: bool) -> None:
        self.obj = obj
        self.fw = fw
        self.ptr = ptr
        self.shape = shape
        self.size = size
        self.device = device
        self.signed = signed
        self.copied = copied


def _as_device_array(obj: Any, name: str, other: str) -> _DevArray:
    """obj as a contiguous int64/uint64 CUDA array; `other` names what is on the GPU (for
    the mixed CPU/GPU message)."""
    kind = array_kind(obj)
    if isinstance(obj, bool) or isinstance(obj, np.bool_):
        raise ValueError(f"{name}: expected integers, got bool")
    if kind == KIND_TORCH_CUDA:
        import torch

        check_torch_dense(obj, name)
        dt = obj.dtype
        if dt == torch.bool or dt.is_floating_point or dt.is_complex:
            raise ValueError(f"{name}: expected an integer dtype, got {dt}")
        wide = (torch.int64, getattr(torch, "uint64", torch.int64))
        copied = False
        if dt not in wide:
            obj = obj.to(torch.int64)  # sign-extends signed, zero-extends unsigned types
            copied = True
        if not obj.is_contiguous():
            obj = obj.contiguous()
            copied = True
        signed = obj.dtype == torch.int64 and dt.is_signed
        return _DevArray(obj, _FW_TORCH, int(obj.data_ptr()), tuple(obj.shape), int(obj.numel()),
                         int(obj.device.index), signed, copied)
    if kind == KIND_CUPY:
        import cupy

        dt = np.dtype(obj.dtype)
        if dt.kind not in "iu" or dt == np.bool_:
            raise ValueError(f"{name}: expected an integer dtype, got {dt}")
        copied = False
        with cupy.cuda.Device(obj.device.id):
            if dt not in (np.dtype(np.uint64), np.dtype(np.int64)):
                obj = obj.astype(cupy.int64 if dt.kind == "i" else cupy.uint64)
                copied = True
            if not obj.flags.c_contiguous:
                obj = cupy.ascontiguousarray(obj)
                copied = True
        return _DevArray(obj, _FW_CUPY, int(obj.data.ptr), tuple(obj.shape), int(obj.size), int(obj.device.id),
                         dt.kind == "i", copied)
    if kind in (KIND_NUMPY, KIND_TORCH) or isinstance(obj, (list, tuple, numbers.Integral)):
        raise ValueError(f"{name}: is on the CPU, but {other} is on a CUDA device; move it to the same device")
    raise ValueError(f"{name}: expected a torch CUDA tensor or a CuPy array, got {type(obj).__name__}")


def _same_device(arr: _DevArray, name: str, device: int, other: str) -> None:
    if arr.device != device:
        raise ValueError(f"{name}: is on cuda:{arr.device}, but {other} is on cuda:{device}")


def _stream(fw: str, device: int) -> int:
    """The caller's current stream on `device` as an integer handle."""
    if fw == _FW_TORCH:
        import torch

        return int(torch.cuda.current_stream(device).cuda_stream)
    import cupy

    with cupy.cuda.Device(device):
        return int(cupy.cuda.get_current_stream().ptr)


def _synchronize(fw: str, device: int) -> None:
    if fw == _FW_TORCH:
        import torch

        torch.cuda.current_stream(device).synchronize()
    else:
        import cupy

        with cupy.cuda.Device(device):
            cupy.cuda.get_current_stream().synchronize()


def _empty(fw: str, shape: tuple, dtype: str, device: int) -> Any:
    """A new device array; dtype "u64" (torch: int64) or "u8"."""
    if fw == _FW_TORCH:
        import torch

        tdt = torch.int64 if dtype == "u64" else torch.uint8
        return torch.empty(shape, dtype=tdt, device=f"cuda:{device}")
    import cupy

    with cupy.cuda.Device(device):
        return cupy.empty(shape, dtype=cupy.uint64 if dtype == "u64" else cupy.uint8)


def _ptr(buf: Any) -> int:
    if type(buf).__module__.startswith("torch"):
        return int(buf.data_ptr())
    return int(buf.data.ptr)


def _fw_of_buffer(buf: Any) -> str:
    return _FW_TORCH if type(buf).__module__.startswith("torch") else _FW_CUPY


def _default_fw() -> str:
    """torch when it has CUDA, else CuPy."""
    try:
        import torch

        if torch.cuda.is_available():
            return _FW_TORCH
    except ImportError:
        pass
    try:
        import cupy  # noqa: F401

        return _FW_CUPY
    except ImportError:
        raise ValueError("device: CUDA keys need torch or CuPy to hold device memory; install one") from None


def _device_index(device: str) -> int:
    """'cuda' (the current device) or 'cuda:N' -> N, checked against the visible devices."""
    n = int(_M.device_count())
    if device == "cuda":
        idx = 0
        try:
            import torch

            if torch.cuda.is_available():
                idx = int(torch.cuda.current_device())
        except ImportError:
            try:
                import cupy

                idx = int(cupy.cuda.Device().id)
            except ImportError:
                pass
    else:
        try:
            idx = int(device.split(":", 1)[1])
        except (IndexError, ValueError):
            raise ValueError(f"device: expected 'cuda' or 'cuda:N', got {device!r}") from None
    if not 0 <= idx < n:
        raise ValueError(f"device: cuda:{idx} does not exist ({n} CUDA devices visible)")
    return idx


def _keys_device(keys: KeyBatch) -> int:
    return int(keys.device.split(":", 1)[1])


# --------------------------------------------------------------------------- keys
def gen(scheme: str, alpha: Any, beta: Any, bits: int, out_bits: int, seed_bytes: bytes | None
        ) -> tuple[KeyBatch, KeyBatch]:
    """Gen on alpha's device; beta: a Python int or an array on the same device (1 or N values)."""
    a = _as_device_array(alpha, "alpha", "alpha")
    n = a.size
    beta_ptr, beta_scalar, beta_value, b = 0, False, 0, None
    if isinstance(beta, numbers.Integral) and not isinstance(beta, (bool, np.bool_)):
        beta_value = int(beta) % (1 << 64)
        beta_scalar = True
    else:
        b = _as_device_array(beta, "beta", "alpha")
        _same_device(b, "beta", a.device, "alpha")
        if b.size == 1 and n != 1:
            beta_scalar = True
        elif b.size != n:
            raise ValueError(f"beta: expected a scalar or {n} values, got {b.size}")
        beta_ptr = b.ptr
    key_len = int(_C.key_buffer_size(scheme, bits, out_bits, n))
    k0 = _empty(a.fw, (key_len,), "u8", a.device)
    k1 = _empty(a.fw, (key_len,), "u8", a.device)
    info0, info1 = _M.gen(scheme, a.ptr, beta_ptr, beta_scalar, beta_value, n, bits, out_bits, seed_bytes,
                          _ptr(k0), _ptr(k1), key_len, a.device, _stream(a.fw, a.device))
    dev = f"cuda:{a.device}"
    return KeyBatch._from_device(dict(info0), k0, dev), KeyBatch._from_device(dict(info1), k1, dev)


def _check_keys(keys: KeyBatch, scheme: str, party: int, device: int, other: str) -> None:
    if keys.scheme != scheme:
        raise ValueError(f"keys: are {keys.scheme.upper()} keys, expected {scheme.upper()} keys")
    if keys.party != party:
        raise ValueError(f"party: keys belong to party {keys.party}, not party {party}")
    if keys.device == "cpu":
        raise ValueError(f"keys: are on the CPU but {other} is on cuda:{device}; "
                         f"move them first with keys.to('cuda:{device}')")
    kd = _keys_device(keys)
    if kd != device:
        raise ValueError(f"keys: are on cuda:{kd} but {other} is on cuda:{device}; use keys.to('cuda:{device}')")


def evaluate(scheme: str, party: int, keys: KeyBatch, x: Any, check: bool = True) -> Any:
    """Party `party`'s shares for CUDA x (one value per key); result like x (shape, kind).

    check=True verifies x < 2^bits on the GPU and synchronizes the caller's stream once to
    report a bad index as ValueError. check=False enqueues the kernel and returns at once (no
    synchronization; bits of x above `bits` are ignored): for callers whose x is reduced mod
    2^bits by construction, such as the runtime's opened masked values."""
    xa = _as_device_array(x, "x", "x")
    _check_keys(keys, scheme, party, xa.device, "x")
    if xa.size != len(keys):
        raise ValueError(f"x: has {xa.size} values but there are {len(keys)} keys")
    out = _empty(xa.fw, xa.shape, "u64", xa.device)
    _M.eval(scheme, party, _ptr(keys._dev_buf), keys.nbytes, keys._info.get("header"), xa.ptr, _ptr(out),
            xa.device, _stream(xa.fw, xa.device), bool(check))
    return out


def evaluate_all(party: int, keys: KeyBatch, like: Any = None) -> Any:
    """Full-domain DPF evaluation of CUDA keys: (N, 2^bits) shares, torch int64 (CuPy uint64
    when `like` is a CuPy array, or when torch is not installed)."""
    if keys.scheme != "dpf":
        raise ValueError(f"keys: are {keys.scheme.upper()} keys, expected DPF keys")
    if keys.party != party:
        raise ValueError(f"party: keys belong to party {keys.party}, not party {party}")
    kind = array_kind(like) if like is not None else None
    if kind == KIND_CUPY:
        fw = _FW_CUPY
    elif kind in (KIND_TORCH, KIND_TORCH_CUDA):
        fw = _FW_TORCH
    else:
        fw = _default_fw()
    dev = _keys_device(keys)
    n, dom = len(keys), 1 << keys.bits
    out = _empty(fw, (n, dom), "u64", dev)
    _M.eval_all(party, _ptr(keys._dev_buf), keys.nbytes, keys._info.get("header"), _ptr(out), n * dom, dev,
                _stream(fw, dev))
    if fw != _fw_of_buffer(keys._dev_buf):
        _synchronize(fw, dev)  # the key buffer belongs to another framework's stream
    return out


def lookup(party: int, keys: KeyBatch, x: Any, tables: Any) -> Any:
    """Table lookup with CUDA DPF keys (fss::cuda::dpf_lookup; the LUT protocol of Pika / SIGMA,
    as fsskernels.dpf_lookup on the CPU): party `party`'s shares of
    beta_i * tables[:, (x_i - alpha_i) mod 2^bits], shape (ntab, N), mod 2^out_bits.

    keys: DPF keys on a CUDA device, bits <= 16. x: N integers on the same device (any shape,
    flattened; reduced mod 2^bits). tables: integers of shape (ntab, 2^bits), 1 <= ntab <= 64,
    on the same device. Returns torch int64 (the uint64 bits) or CuPy uint64, like x. Enqueued
    on x's current stream without synchronization. ValueError naming the argument otherwise."""
    xa = _as_device_array(x, "x", "x")
    _check_keys(keys, "dpf", party, xa.device, "x")
    if keys.bits > 16:
        raise ValueError(f"bits: table lookups need bits <= 16, got {keys.bits}")
    n = len(keys)
    if xa.size != n:
        raise ValueError(f"x: has {xa.size} values but there are {n} keys")
    ta = _as_device_array(tables, "tables", "x")
    _same_device(ta, "tables", xa.device, "x")
    dom = 1 << keys.bits
    if len(ta.shape) != 2 or ta.shape[1] != dom or not 1 <= ta.shape[0] <= 64:
        raise ValueError(f"tables: expected shape (1..64, {dom}), got {tuple(ta.shape)}")
    ntab = int(ta.shape[0])
    out = _empty(xa.fw, (ntab, n), "u64", xa.device)
    _M.dpf_lookup(party, _ptr(keys._dev_buf), keys.nbytes, keys._info.get("header"), xa.ptr, ta.ptr, ntab, _ptr(out),
                  xa.device, _stream(xa.fw, xa.device))
    if ta.fw != xa.fw or _fw_of_buffer(keys._dev_buf) != xa.fw:
        _synchronize(xa.fw, xa.device)  # buffers owned by another framework's stream
    return out


def upload_keys(keys: KeyBatch, device: str) -> KeyBatch:
    """A copy of `keys` on `device` ('cuda' or 'cuda:N'), held by torch (or CuPy)."""
    idx = _device_index(device)
    host = np.ascontiguousarray(keys._host_view())
    fw = _default_fw()
    if fw == _FW_TORCH:
        import torch

        dev_buf = torch.from_numpy(host.copy()).to(f"cuda:{idx}")
    else:
        import cupy

        with cupy.cuda.Device(idx):
            dev_buf = cupy.asarray(host)
    info = dict(keys._info)
    info["header"] = bytes(host[:32].tobytes())
    return KeyBatch._from_device(info, dev_buf, f"cuda:{idx}")


def download_keys(dev_buf: Any) -> np.ndarray:
    """The bytes of a device key batch (a complete serialized batch) as a new numpy uint8 array."""
    if _fw_of_buffer(dev_buf) == _FW_TORCH:
        return dev_buf.detach().cpu().numpy().copy()
    import cupy

    return np.array(cupy.asnumpy(dev_buf), dtype=np.uint8, copy=True)


# --------------------------------------------------------------------------- ring
def _prod(shape: tuple) -> int:
    p = 1
    for s in shape:
        p *= int(s)
    return p


def _bshape(x: _DevArray, shape: tuple) -> Any:
    """x.obj broadcast to `shape`, contiguous."""
    if x.fw == _FW_TORCH:
        return x.obj.expand(*shape).contiguous()
    import cupy

    with cupy.cuda.Device(x.device):
        return cupy.ascontiguousarray(cupy.broadcast_to(x.obj, shape))


def _reshape(obj: Any, shape: tuple) -> Any:
    return obj.reshape(shape)


RING_ALGOS = ("auto", "simt", "imma")


def ring_matmul(a: Any, b: Any, algo: str = "auto") -> Any:
    """a @ b mod 2^64 on the GPU, with np.matmul shapes (1-D vectors, broadcast leading dims).
    Returns torch int64 if either input is a torch tensor, else CuPy (int64 when both inputs
    are signed, uint64 otherwise).

    algo: "simt" (uint64 multiply-adds on the CUDA cores), "imma" (36 byte-limb products on
    the integer tensor cores, compute capability >= 8.0; docs/gpu.md) or "auto" (SIMT until a
    GPU run has validated IMMA). Every algorithm is exact; ValueError naming "algo" for another
    value or for "imma" on an older GPU."""
    if not isinstance(algo, str) or algo not in RING_ALGOS:
        raise ValueError(f"algo: must be one of {', '.join(repr(x) for x in RING_ALGOS)}, got {algo!r}")
    ka, kb = array_kind(a), array_kind(b)
    if not is_cuda_kind(ka) and is_cuda_kind(kb):
        A = _as_device_array(a, "a", "b")  # raises the mixed CPU/GPU error naming a
    A = _as_device_array(a, "a", "a")
    B = _as_device_array(b, "b", "a")
    _same_device(B, "b", A.device, "a")
    if len(A.shape) == 0:
        raise ValueError("a: expected at least 1 dimension, got a 0-d array")
    if len(B.shape) == 0:
        raise ValueError("b: expected at least 1 dimension, got a 0-d array")
    a_vec, b_vec = len(A.shape) == 1, len(B.shape) == 1
    a_shape = (1,) + A.shape if a_vec else A.shape
    b_shape = B.shape + (1,) if b_vec else B.shape
    if a_vec:
        A.obj = _reshape(A.obj, a_shape)
    if b_vec:
        B.obj = _reshape(B.obj, b_shape)
    m, k = a_shape[-2:]
    k2, n = b_shape[-2:]
    if k != k2:
        raise ValueError(f"b: shape {tuple(B.shape)} does not match a: {tuple(A.shape)} "
                         f"(a has k={k} columns, b has {k2} rows)")
    a_batch, b_batch = tuple(a_shape[:-2]), tuple(b_shape[:-2])
    try:
        batch = tuple(np.broadcast_shapes(a_batch, b_batch))
    except ValueError:
        raise ValueError(f"b: leading dims {b_batch} do not broadcast with a's {a_batch} "
                         f"(a: {tuple(A.shape)}, b: {tuple(B.shape)})") from None
    nb = _prod(batch)
    a_count, b_count = _prod(a_batch), _prod(b_batch)
    temps = []
    if b_count == 1 and a_count == nb:
        # One shared B: fold a's batch into the rows.
        a_c, b_c = _reshape(A.obj, (nb * m, k)), _reshape(B.obj, (k, n))
        gb, gm, sa, sb = 1, nb * m, 0, 0
    else:
        if a_count == 1:
            a_c, sa = A.obj, 0
        else:
            a_c = A.obj if a_batch == batch else _bshape(A, batch + (m, k))
            sa = m * k
        if b_count == 1:
            b_c, sb = B.obj, 0
        else:
            b_c = B.obj if b_batch == batch else _bshape(B, batch + (k, n))
            sb = k * n
        temps = [a_c, b_c]
        gb, gm = nb, m
    out_fw = _FW_TORCH if _FW_TORCH in (A.fw, B.fw) else _FW_CUPY
    out = _empty(out_fw, (gb, gm, n), "u64", A.device)
    _M.ring_matmul(_ptr(a_c), _ptr(b_c), _ptr(out), gb, gm, k, n, sa, sb, A.device, _stream(out_fw, A.device), algo)
    if A.fw != B.fw or any(_fw_of_buffer(t) != out_fw for t in temps) or (A.copied and A.fw != out_fw) or (
            B.copied and B.fw != out_fw):
        _synchronize(out_fw, A.device)  # inputs / temporaries owned by another framework's stream
    shape = batch + ((m,) if not a_vec else ()) + ((n,) if not b_vec else ())
    res = out.reshape(shape)
    if out_fw == _FW_CUPY and A.signed and B.signed:
        import cupy

        res = res.view(cupy.int64)
    return res
