"""KeyBatch: a batch of DPF or DCF keys of one party in one contiguous, versioned buffer
(format: docs/kernels.md section 5). Keys are secret and one-time: never pickled."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import _C


class KeyBatch:
    """N keys of one party. Attributes: scheme ("dpf" or "dcf"), party, bits, out_bits,
    key_size (body bytes per key), nbytes (whole buffer incl. the 32-byte header).

    Build with dpf_gen / dcf_gen or KeyBatch.from_bytes (which validates every field, the
    exact length and the checksum, raising ValueError). Slicing (kb[i], kb[i:j]) copies the
    selected keys into a new batch. kb.to("cuda") returns a batch whose buffer lives on
    the GPU (needs the CUDA module)."""

    __slots__ = ("_buf", "_info", "_device", "_dev_buf")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("KeyBatch is created by dpf_gen / dcf_gen or KeyBatch.from_bytes")

    @classmethod
    def _wrap(cls, buf: np.ndarray, *, validate: bool) -> "KeyBatch":
        obj = object.__new__(cls)
        obj._buf = buf
        obj._info = dict(_C.key_parse(buf, validate))
        obj._device = "cpu"
        obj._dev_buf = None
        return obj

    @classmethod
    def _from_device(cls, host_header: dict, dev_buf: Any, device: str) -> "KeyBatch":
        """A batch whose bytes live only on a CUDA device (made by the CUDA backend)."""
        obj = object.__new__(cls)
        obj._buf = None
        obj._info = dict(host_header)
        obj._device = device
        obj._dev_buf = dev_buf
        return obj

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview | np.ndarray) -> "KeyBatch":
        """Parse and fully validate serialized keys (ValueError naming "keys" on any defect)."""
        if isinstance(data, np.ndarray):
            if data.dtype != np.uint8 or data.ndim != 1:
                raise ValueError("keys: expected a 1-D uint8 array or bytes")
            buf = np.array(data, dtype=np.uint8, copy=True)
        elif isinstance(data, (bytes, bytearray, memoryview)):
            buf = np.frombuffer(bytes(data), dtype=np.uint8).copy()
        else:
            raise ValueError(f"keys: expected bytes, got {type(data).__name__}")
        return cls._wrap(buf, validate=True)

    def to_bytes(self) -> bytes:
        """The serialized batch (header + body), identical across C++, C and Python."""
        return self.host_buffer().tobytes()

    def host_buffer(self) -> np.ndarray:
        """The buffer as a uint8 numpy array (copied from the GPU if the keys live there)."""
        if self._buf is not None:
            return self._buf
        from . import _cuda

        return _cuda.download_keys(self._dev_buf)

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
                f"out_bits={self.out_bits}, count={len(self)}, device={self.device!r})")

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
        return KeyBatch._wrap(_C.key_slice(self.host_buffer(), start, count), validate=False)

    def to(self, device: str) -> "KeyBatch":
        """This batch on `device` ("cpu", "cuda", "cuda:N"); returns self if already there."""
        if not isinstance(device, str):
            device = str(device)
        if device == self._device or (device == "cuda" and self._device.startswith("cuda")):
            return self
        if device == "cpu":
            return KeyBatch._wrap(self.host_buffer().copy(), validate=False)
        if device.startswith("cuda"):
            from . import _cuda

            return _cuda.upload_keys(self, device)
        raise ValueError(f"device: expected 'cpu' or 'cuda[:N]', got {device!r}")

    def _cpu_buffer_for(self, party: int, scheme: str) -> np.ndarray:
        """The host buffer after checking scheme and party (ValueError naming the argument)."""
        if self.scheme != scheme:
            raise ValueError(f"keys: are {self.scheme.upper()} keys, expected {scheme.upper()} keys")
        if self.party != party:
            raise ValueError(f"party: keys belong to party {self.party}, not party {party}")
        if self._buf is None:
            raise ValueError("keys: live on a CUDA device but x is on the CPU; use keys.to('cpu') or CUDA inputs")
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
