"""SharedTensor: one party's additive share of a tensor over Z_2^64.

The share is a torch.int64 tensor (two's complement bits of a ring element; wraparound
arithmetic) on the session's device; ``frac_bits`` is the scale of the shared value
(0: ring integers, exact arithmetic mod 2^64; f > 0: fixed point x = v / 2^f).
Local operations (add, sub, neg, public add, integer public mul, sum, transpose, reshape,
indexing, cat/stack) cost nothing; mul, matmul, float public mul, mean and trunc run
protocols (beaver.py, truncation.py, frozen.py). Mixing tensors of different sessions,
devices or scales raises ValueError naming the problem.
"""
from __future__ import annotations

import numbers

import torch

from . import fixedpoint as fx
from . import opened
from .material import broadcast_shape


class SharedTensor:
    __slots__ = ("session", "share", "frac_bits", "_ob")
    __array_priority__ = 1000  # make numpy defer to our reflected operators

    def __init__(self, session, share: torch.Tensor, frac_bits: int) -> None:
        if not isinstance(share, torch.Tensor) or share.dtype != torch.int64:
            raise ValueError(f"share: expected a torch.int64 tensor, got {getattr(share, 'dtype', type(share).__name__)}")
        if share.device != session.device:
            raise ValueError(f"share: is on {share.device}, but the session computes on {session.device}")
        self.session = session
        self.share = share
        self.frac_bits = fx.check_frac_bits(frac_bits)
        self._ob = None  # opened.py: this value's Beaver masks, for reuse by later products

    # -- metadata -----------------------------------------------------------------------------
    @property
    def shape(self) -> torch.Size:
        return self.share.shape

    @property
    def device(self) -> torch.device:
        return self.share.device

    @property
    def ndim(self) -> int:
        return self.share.ndim

    def numel(self) -> int:
        return self.share.numel()

    def size(self, dim=None):
        return self.share.size() if dim is None else self.share.size(dim)

    def __len__(self) -> int:
        return len(self.share)

    def __repr__(self) -> str:
        return f"SharedTensor(party={self.session.party}, shape={tuple(self.shape)}, frac_bits={self.frac_bits}, device={self.device})"

    def _new(self, share: torch.Tensor, frac_bits: int | None = None) -> "SharedTensor":
        return SharedTensor(self.session, share, self.frac_bits if frac_bits is None else frac_bits)

    # -- checks -------------------------------------------------------------------------------
    def _same_session(self, other: "SharedTensor", op: str) -> None:
        if other.session is not self.session:
            raise ValueError(f"{op}: operands belong to different sessions")
        if other.device != self.device:
            raise ValueError(f"{op}: operands are on different devices ({self.device} and {other.device})")

    def _same_scale(self, other: "SharedTensor", op: str) -> None:
        if other.frac_bits != self.frac_bits:
            raise ValueError(f"{op}: operands have different scales (frac_bits {self.frac_bits} and {other.frac_bits}); "
                             "rescale one first")

    def _public(self, value, op: str) -> torch.Tensor:
        """A public operand encoded at this tensor's scale, on its device."""
        if isinstance(value, SharedTensor):
            raise AssertionError
        if isinstance(value, torch.Tensor) and value.device != self.device:
            raise ValueError(f"{op}: public operand is on {value.device}, shares are on {self.device}")
        t = _as_public(value)
        if self.frac_bits == 0 and (t.is_floating_point() or t.is_complex()):
            raise ValueError(f"{op}: a ring-integer tensor (frac_bits 0) takes only integer public values")
        enc = fx.encode(t, self.frac_bits, device=self.device)
        broadcast_shape(tuple(self.shape), tuple(enc.shape))
        return enc

    # -- local arithmetic ---------------------------------------------------------------------
    def __add__(self, other) -> "SharedTensor":
        if isinstance(other, SharedTensor):
            self._same_session(other, "add")
            self._same_scale(other, "add")
            broadcast_shape(tuple(self.shape), tuple(other.shape))
            return self._new(self.share + other.share)
        enc = self._public(other, "add")
        return self._new(self.share + enc if self.session.party == 0 else self.share + torch.zeros_like(enc))

    __radd__ = __add__

    def __neg__(self) -> "SharedTensor":
        return self._new(-self.share)

    def __sub__(self, other) -> "SharedTensor":
        if isinstance(other, SharedTensor):
            self._same_session(other, "sub")
            self._same_scale(other, "sub")
            broadcast_shape(tuple(self.shape), tuple(other.shape))
            return self._new(self.share - other.share)
        return self + (-_as_public(other))

    def __rsub__(self, other) -> "SharedTensor":
        return (-self) + other

    def __mul__(self, other) -> "SharedTensor":
        from . import beaver

        if isinstance(other, SharedTensor):
            self._same_session(other, "mul")
            return beaver.mul(self, other)
        return beaver.mul_public(self, other)

    __rmul__ = __mul__

    def __truediv__(self, other) -> "SharedTensor":
        if isinstance(other, SharedTensor):
            raise ValueError("div: division by a shared tensor needs a reciprocal protocol (not in this runtime)")
        t = torch.as_tensor(other, dtype=torch.float64)
        if (t == 0).any():
            raise ValueError("div: division by zero")
        return self * (1.0 / t if t.ndim else 1.0 / float(t))

    def __matmul__(self, other) -> "SharedTensor":
        from . import beaver
        from .frozen import FrozenMatrix

        if isinstance(other, FrozenMatrix):
            return other.rmatmul(self)
        if isinstance(other, SharedTensor):
            self._same_session(other, "matmul")
            return beaver.matmul(self, other)
        raise ValueError("matmul: the other operand must be a SharedTensor or a FrozenMatrix "
                         "(for a public matrix use matmul_public)")

    def matmul_public(self, w, *, right: bool = True) -> "SharedTensor":
        """self @ w (or w @ self if right=False) for a public matrix w (float: fixed point,
        truncated; integer: exact ring product)."""
        from . import beaver

        return beaver.matmul_public(self, w, right=right)

    def trunc(self, shift: int | None = None, bits: int | None = None) -> "SharedTensor":
        """Divide by 2^shift exactly (floor; docs/runtime.md section 4);
        the value must satisfy |v| < 2^(bits-2) ring units (default bits: mul_bits).
        Reduces frac_bits by shift (default: the session's frac_bits)."""
        from .truncation import truncate

        s = self.session
        shift = s.frac_bits if shift is None else int(shift)
        bits = s.config.mul_bits if bits is None else int(bits)
        if shift > self.frac_bits:
            raise ValueError(f"trunc: shift {shift} exceeds the tensor's frac_bits {self.frac_bits}")
        return self._new(truncate(s, self.share, shift, bits), self.frac_bits - shift)

    # -- reductions and shape ------------------------------------------------------------------
    def sum(self, dim=None, keepdim: bool = False) -> "SharedTensor":
        return self._new(self.share.sum() if dim is None else self.share.sum(dim=dim, keepdim=keepdim))

    def mean(self, dim=None, keepdim: bool = False) -> "SharedTensor":
        """Sum, then divide by the public count n with the truncation protocol.
        n a power of two: the sum is truncated by log2(n) (error < 1 unit). Otherwise the sum
        is multiplied by round(2^f / n) and truncated by f (f: the session's frac_bits):
        error < 1 unit + |sum| / 2^(f+1) (the encoding error of 1/n).
        Precondition: |sum| * 2^f < 2^(mul_bits-2) ring units (|sum| < 2^(mul_bits-2) for n = 2^k)."""
        from .truncation import truncate

        if self.frac_bits == 0:
            raise ValueError("mean: needs a fixed-point tensor (frac_bits > 0)")
        if dim is None:
            n = self.numel()
        else:
            n = 1
            for d in ((dim,) if isinstance(dim, int) else tuple(dim)):
                n *= self.shape[d]
        if n == 0:
            raise ValueError("mean: over an empty dimension")
        s = self.sum(dim=dim, keepdim=keepdim)
        if n == 1:
            return s
        sess = self.session
        L = sess.config.mul_bits
        with sess.protocol("mean"):
            if n & (n - 1) == 0 and n.bit_length() - 1 <= L - 2:
                return s._new(truncate(sess, s.share, n.bit_length() - 1, L))
            f = sess.frac_bits
            c = round(2 ** f / n)
            return s._new(truncate(sess, s.share * c, f, L))

    def _same_value(self, share: torch.Tensor, transposed: bool) -> "SharedTensor":
        """A reshape (then a last-two-dims transpose) of this value: it keeps its masks."""
        out = self._new(share)
        opened.derive(self, out, transposed)
        return out

    def transpose(self, d0: int = -2, d1: int = -1) -> "SharedTensor":
        n = self.ndim
        if n >= 2 and {d0 % n, d1 % n} == {n - 2, n - 1}:
            return self._same_value(self.share.transpose(d0, d1), True)
        return self._new(self.share.transpose(d0, d1))

    @property
    def T(self) -> "SharedTensor":
        return self._same_value(self.share.transpose(-2, -1), True) if self.ndim >= 2 else self

    def reshape(self, *shape) -> "SharedTensor":
        return self._same_value(self.share.reshape(*shape), False)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "SharedTensor":
        return self._same_value(self.share.flatten(start_dim, end_dim), False)

    def unsqueeze(self, dim: int) -> "SharedTensor":
        return self._new(self.share.unsqueeze(dim))

    def squeeze(self, dim=None) -> "SharedTensor":
        return self._new(self.share.squeeze() if dim is None else self.share.squeeze(dim))

    def expand(self, *shape) -> "SharedTensor":
        return self._new(self.share.expand(*shape))

    def permute(self, *dims) -> "SharedTensor":
        return self._new(self.share.permute(*dims))

    def __getitem__(self, idx) -> "SharedTensor":
        if isinstance(idx, SharedTensor):
            raise ValueError("index: cannot index with a shared tensor")
        return self._new(self.share[idx])

    def __setitem__(self, idx, value: "SharedTensor") -> None:
        if not isinstance(value, SharedTensor):
            raise ValueError("setitem: value must be a SharedTensor (add a public value with +)")
        self._same_session(value, "setitem")
        self._same_scale(value, "setitem")
        self.share[idx] = value.share

    def clone(self) -> "SharedTensor":
        return self._new(self.share.clone())

    # -- FSS gates as methods (torch names; see fsskernels.mpc.functional) -------------------
    def _mf(self, name: str, *args, **kwargs):
        from . import functional as MF

        return getattr(MF, name)(self, *args, **kwargs)

    def relu(self, **kw) -> "SharedTensor":
        return self._mf("relu", **kw)

    def exp(self, **kw) -> "SharedTensor":
        return self._mf("exp", **kw)

    def log(self, **kw) -> "SharedTensor":
        return self._mf("log", **kw)

    def reciprocal(self, **kw) -> "SharedTensor":
        return self._mf("reciprocal", **kw)

    def rsqrt(self, **kw) -> "SharedTensor":
        return self._mf("rsqrt", **kw)

    def sqrt(self, **kw) -> "SharedTensor":
        return self._mf("sqrt", **kw)

    def tanh(self, **kw) -> "SharedTensor":
        return self._mf("tanh", **kw)

    def sigmoid(self, **kw) -> "SharedTensor":
        return self._mf("sigmoid", **kw)

    def sin(self) -> "SharedTensor":
        return self._mf("sin")

    def cos(self) -> "SharedTensor":
        return self._mf("cos")

    def softmax(self, dim: int = -1, **kw) -> "SharedTensor":
        return self._mf("softmax", dim, **kw)

    def log_softmax(self, dim: int = -1, **kw) -> "SharedTensor":
        return self._mf("log_softmax", dim, **kw)

    def clamp(self, min=None, max=None, **kw) -> "SharedTensor":
        return self._mf("clamp", min, max, **kw)

    def amax(self, dim: int = -1, keepdim: bool = False, **kw) -> "SharedTensor":
        return self._mf("amax", dim, keepdim, **kw)

    def max(self, dim: int = -1, keepdim: bool = False, **kw) -> "SharedTensor":
        return self._mf("amax", dim, keepdim, **kw)

    def lt(self, other, **kw) -> "SharedTensor":
        return self._mf("lt", other, **kw)

    def gt(self, other, **kw) -> "SharedTensor":
        return self._mf("gt", other, **kw)

    def le(self, other, **kw) -> "SharedTensor":
        return self._mf("le", other, **kw)

    def ge(self, other, **kw) -> "SharedTensor":
        return self._mf("ge", other, **kw)

    __lt__, __gt__, __le__, __ge__ = lt, gt, le, ge

    # -- reveal -------------------------------------------------------------------------------
    def reveal(self, to: int | None = None):
        """The plaintext: float64 tensor for fixed point, int64 (signed) for ring integers.
        ``to=None``: both parties learn it (one round, 8 bytes per element each way);
        ``to=k``: only party k (one message); the other party gets None."""
        s = self.session
        with s.protocol("reveal"):
            if to is None:
                (v,) = s.open([self.share], 64)
            else:
                res = s.open_to([self.share], 64, to)
                if res is None:
                    return None
                (v,) = res
        return v if self.frac_bits == 0 else fx.decode(v, self.frac_bits)

    def reveal_ring(self, to: int | None = None):
        """The shared ring elements (int64 bit patterns) without decoding."""
        s = self.session
        with s.protocol("reveal"):
            if to is None:
                return s.open([self.share], 64)[0]
            res = s.open_to([self.share], 64, to)
            return None if res is None else res[0]


def _as_public(value) -> torch.Tensor:
    """A public operand as a tensor; Python floats (and lists of them) become float64, not
    torch's default float32, which would round e.g. 1024 - 2^-16 to 1024."""
    if isinstance(value, torch.Tensor):
        return value
    t = torch.as_tensor(value)
    if t.is_floating_point() and t.dtype != torch.float64 and not hasattr(value, "dtype"):
        t = torch.as_tensor(value, dtype=torch.float64)
    return t


def _check_list(tensors, op: str) -> list:
    tensors = list(tensors)
    if not tensors or not all(isinstance(t, SharedTensor) for t in tensors):
        raise ValueError(f"{op}: expected a non-empty sequence of SharedTensor")
    for t in tensors[1:]:
        tensors[0]._same_session(t, op)
        tensors[0]._same_scale(t, op)
    return tensors


def cat(tensors, dim: int = 0) -> SharedTensor:
    """Concatenate shared tensors (same session, device and scale) along ``dim``."""
    ts = _check_list(tensors, "cat")
    try:
        return ts[0]._new(torch.cat([t.share for t in ts], dim=dim))
    except RuntimeError as exc:
        raise ValueError(f"cat: {exc}") from None


def stack(tensors, dim: int = 0) -> SharedTensor:
    """Stack shared tensors (same session, device, scale and shape) along a new ``dim``."""
    ts = _check_list(tensors, "stack")
    try:
        return ts[0]._new(torch.stack([t.share for t in ts], dim=dim))
    except RuntimeError as exc:
        raise ValueError(f"stack: {exc}") from None


def is_integer_public(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return True
    t = torch.as_tensor(value)
    return not (t.is_floating_point() or t.is_complex() or t.dtype == torch.bool)
