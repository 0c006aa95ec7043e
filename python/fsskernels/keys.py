"""KeyBatch: a batch of DPF or DCF keys of one party in one contiguous, versioned buffer
(format: docs/kernels.md section 5). Keys are secret and one-time: never pickled.

One-time use (docs/kernels.md section 6): a batch made with ``one_time=True`` (or marked with
``mark_one_time()``) is consumed by its first successful evaluation; evaluating it again,
slicing it, serializing it (``to_bytes``/``host_buffer``) or copying it raises ValueError
naming "keys". ``mark_consumed()`` retires any batch explicitly. Plain batches (the default)
can be evaluated repeatedly, as benchmarks and tests do. The host buffer handed out by
``host_buffer()`` is a read-only view (an in-place edit would bypass the checksum), and key
buffers made by the C++ side are erased when freed.
"""
from __future__ import annotations

import numbers
import threading
from typing import Any

import numpy as np

from . import _C

_CLAIM_LOCK = threading.Lock()  # makes "check not consumed, then claim" atomic across threads


class KeyBatch:
    """N keys of one party. Attributes: scheme ("dpf" or "dcf"), party, bits, out_bits,
    key_size (body bytes per key), nbytes (whole buffer incl. the 32-byte header).

    Build with dpf_gen / dcf_gen or KeyBatch.from_bytes (which validates every field, the
    exact length and the checksum, raising ValueError). Slicing (kb[i], kb[i:j]) copies the
    selected keys into a new batch. kb.to("cuda") returns a batch whose buffer lives on
    the GPU (needs the CUDA module)."""

    __slots__ = ("_buf", "_info", "_device", "_dev_buf", "_one_time", "_state")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("KeyBatch is created by dpf_gen / dcf_gen or KeyBatch.from_bytes")

    @classmethod
    def _wrap(cls, buf: np.ndarray, *, validate: bool) -> "KeyBatch":
        obj = object.__new__(cls)
        obj._buf = buf
        obj._info = dict(_C.key_parse(buf, validate))
        obj._device = "cpu"
        obj._dev_buf = None
        obj._one_time = False
        obj._state = "fresh"  # "fresh" -> "claimed" (evaluation running) -> "consumed"
        return obj

    @classmethod
    def _from_device(cls, host_header: dict, dev_buf: Any, device: str) -> "KeyBatch":
        """A batch whose bytes live only on a CUDA device (made by the CUDA backend)."""
        obj = object.__new__(cls)
        obj._buf = None
        obj._info = dict(host_header)
        obj._device = device
        obj._dev_buf = dev_buf
        obj._one_time = False
        obj._state = "fresh"
        return obj

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview | np.ndarray, *, one_time: bool = False) -> "KeyBatch":
        """Parse and fully validate serialized keys (ValueError naming "keys" on any defect).
        one_time=True: the batch is consumed by its first evaluation (module docstring)."""
        if isinstance(data, np.ndarray):
            if data.dtype != np.uint8 or data.ndim != 1:
                raise ValueError("keys: expected a 1-D uint8 array or bytes")
            src = np.ascontiguousarray(data)
        elif isinstance(data, (bytes, bytearray, memoryview)):
            try:
                src = np.frombuffer(data, dtype=np.uint8)
            except (ValueError, TypeError, BufferError) as exc:
                raise ValueError(f"keys: expected contiguous bytes ({exc})") from None
        else:
            raise ValueError(f"keys: expected bytes, got {type(data).__name__}")
        kb = cls._wrap(_C.key_copy(src), validate=True)  # erase-on-free copy
        if one_time:
            kb.mark_one_time()
        return kb

    # -- one-time use -------------------------------------------------------------------
    @property
    def one_time(self) -> bool:
        """True if the first successful evaluation consumes this batch."""
        return self._one_time

    @property
    def consumed(self) -> bool:
        """True once a one-time batch was evaluated, or after mark_consumed()."""
        return self._state == "consumed"

    def mark_one_time(self) -> "KeyBatch":
        """Make this batch one-time (irreversible): the next successful evaluation consumes
        it; slicing, to_bytes(), host_buffer() and copies are refused. Returns self."""
        self._check_usable()
        self._one_time = True
        return self

    def mark_consumed(self) -> None:
        """Retire this batch: every later evaluation, slice or serialization raises ValueError.
        The host buffer is erased."""
        with _CLAIM_LOCK:
            self._state = "consumed"
        self._erase()

    def _check_usable(self) -> None:
        if self._state == "consumed":
            raise ValueError("keys: this key batch was already used (consumed); FSS keys are one-time")

    def _check_exportable(self, what: str) -> None:
        self._check_usable()
        if self._one_time:
            raise ValueError(f"keys: {what} of a one-time key batch is not allowed (it would allow reuse)")

    def _claim(self) -> None:
        """Before an evaluation: refuse a consumed batch; claim a one-time one (atomically)."""
        with _CLAIM_LOCK:
            if self._state == "consumed":
                raise ValueError("keys: this key batch was already used (consumed); FSS keys are one-time")
            if self._one_time:
                if self._state == "claimed":
                    raise ValueError("keys: this one-time key batch is being evaluated by another call")
                self._state = "claimed"

    def _settle(self, ok: bool) -> None:
        """After an evaluation: a one-time batch becomes consumed on success; on failure (bad
        x, nothing computed) it can be evaluated again."""
        if not self._one_time:
            return
        with _CLAIM_LOCK:
            self._state = "consumed" if ok else "fresh"
        if ok:
            self._erase()

    def _erase(self) -> None:
        if self._buf is not None and self._buf.flags.writeable:
            self._buf.fill(0)

    def to_bytes(self) -> bytes:
        """The serialized batch (header + body), identical across C++, C and Python.
        Refused (ValueError) for one-time or consumed batches."""
        return self.host_buffer().tobytes()

    def host_buffer(self) -> np.ndarray:
        """The buffer as a read-only uint8 numpy array (copied from the GPU if the keys live
        there). Refused (ValueError) for one-time or consumed batches."""
        self._check_exportable("exporting the bytes")
        return self._host_view()

    def _host_view(self) -> np.ndarray:
        if self._buf is None:
            from . import _cuda

            view = _cuda.download_keys(self._dev_buf)
            view.flags.writeable = False
            return view
        # Through a read-only memoryview: the flag cannot be switched back to writable.
        return np.frombuffer(memoryview(self._buf).toreadonly(), dtype=np.uint8)

    # -- metadata ---------------------------------------------------------------------
    @property
    def scheme(self) -> str:
        return self._info["scheme"]

    @property
    def party(self) -> int:
        return int(self._info["party"])

    @property
    def bits(self) -> int:
        return int(self._info["bits"])

    @property
    def out_bits(self) -> int:
        return int(self._info["out_bits"])

    @property
    def key_size(self) -> int:
        """Bytes per key (body only; the batch adds one 32-byte header)."""
        return int(self._info["key_size"])

    @property
    def nbytes(self) -> int:
        return 32 + self.key_size * len(self)

    @property
    def device(self) -> str:
        return self._device

    def __len__(self) -> int:
        return int(self._info["count"])

    def __repr__(self) -> str:
        return (f"KeyBatch(scheme={self.scheme!r}, party={self.party}, bits={self.bits}, "
                f"out_bits={self.out_bits}, count={len(self)}, device={self.device!r}"
                + (", one_time=True" if self._one_time else "") + (", consumed=True" if self.consumed else "") + ")")

    def __getitem__(self, index: int | slice) -> "KeyBatch":
        n = len(self)
        if isinstance(index, slice):
            start, stop, step = index.indices(n)
            if step != 1:
                raise ValueError("index: only contiguous slices (step 1) are supported")
            count = max(0, stop - start)
        elif isinstance(index, numbers.Integral) and not isinstance(index, bool):
            i = int(index)
            if i < 0:
                i += n
            if not 0 <= i < n:
                raise IndexError(f"index: {index} out of range for {n} keys")
            start, count = i, 1
        else:
            raise ValueError(f"index: expected an int or a slice, got {type(index).__name__}")
        self._check_exportable("slicing")
        return KeyBatch._wrap(_C.key_slice(self._host_view(), start, count), validate=False)

    def to(self, device: str) -> "KeyBatch":
        """This batch on `device` ("cpu", "cuda", "cuda:N"); returns self if already there.
        A one-time batch moves: the copy is one-time and the source is consumed. ValueError
        naming "device" for an unknown device or when CUDA is not available."""
        if not isinstance(device, str):
            device = str(device)
        self._check_usable()
        if device == self._device or (device == "cuda" and self._device.startswith("cuda")):
            return self
        if device == "cpu":
            moved = KeyBatch._wrap(_C.key_copy(self._host_view()), validate=False)
        elif device.startswith("cuda"):
            try:
                from . import _cuda
            except ImportError:
                raise ValueError(f"device: {device!r} is not available: fsskernels was built without the CUDA "
                                 "backend (module _C_cuda)") from None
            moved = _cuda.upload_keys(self, device)
        else:
            raise ValueError(f"device: expected 'cpu' or 'cuda[:N]', got {device!r}")
        if self._one_time:
            moved._one_time = True
            self.mark_consumed()
        return moved

    def _cpu_buffer_for(self, party: int, scheme: str) -> np.ndarray:
        """The host buffer after checking scheme and party (ValueError naming the argument)."""
        if self.scheme != scheme:
            raise ValueError(f"keys: are {self.scheme.upper()} keys, expected {scheme.upper()} keys")
        if self.party != party:
            raise ValueError(f"party: keys belong to party {self.party}, not party {party}")
        if self._buf is None:
            raise ValueError("keys: live on a CUDA device but x is on the CPU; use keys.to('cpu') or CUDA inputs")
        self._check_usable()
        return self._buf

    # Keys are secret one-time material: refuse pickling (serialize explicitly instead).
    def __reduce__(self):  # noqa: D105
        raise TypeError("KeyBatch must not be pickled; use to_bytes() / KeyBatch.from_bytes()")

    def __reduce_ex__(self, protocol):  # noqa: D105
        raise TypeError("KeyBatch must not be pickled; use to_bytes() / KeyBatch.from_bytes()")

    def __copy__(self):
        raise TypeError("KeyBatch is one-time key material and is not copied")

    def __deepcopy__(self, memo):
        raise TypeError("KeyBatch is one-time key material and is not copied")
