"""A tiny explicit module system for layers on secret shares (no autograd on shares).

Each layer computes ``forward(...)`` on SharedTensors and keeps what its backward needs
(its inputs, gate contexts ``MF.Ctx``); ``backward(grad)`` takes the shared gradient of the
layer's output and returns the shared gradient of its input, adding the gradients of its
trainable parameters to ``Param.grad``. A forward must be followed by at most one backward
(the saved state is dropped by it). Only trainable parameters are ``Param``s: in our use the
LoRA adapters and the classifier head; frozen weights live inside the layers as frozen
(masked-once) matrices or shared tensors and never have a gradient.

Errors: ``backward`` before ``forward`` raises RuntimeError naming the layer.
Security: nothing here touches a channel; all traffic goes through the runtime's protocols
and the gates (fsskernels.mpc.functional).
"""
from __future__ import annotations

from ..mpc.tensor import SharedTensor


class Param:
    """A trainable shared parameter: ``value`` (SharedTensor) and ``grad`` (SharedTensor of
    the same shape and scale, or None before the first backward / after ``zero_grad``)."""

    __slots__ = ("value", "grad")

    def __init__(self, value: SharedTensor) -> None:
        if not isinstance(value, SharedTensor):
            raise ValueError(f"value: a Param holds a SharedTensor, got {type(value).__name__}")
        self.value = value
        self.grad: SharedTensor | None = None

    @property
    def shape(self):
        return self.value.shape

    def accumulate(self, g: SharedTensor) -> None:
        """grad += g (local: additive shares)."""
        if tuple(g.shape) != tuple(self.value.shape):
            raise ValueError(f"grad: shape {tuple(g.shape)} does not match the parameter's {tuple(self.value.shape)}")
        self.grad = g if self.grad is None else self.grad + g

    def __repr__(self) -> str:
        return f"Param(shape={tuple(self.value.shape)}, frac_bits={self.value.frac_bits}, grad={'set' if self.grad is not None else 'None'})"


class Module:
    """Base class. Sub-modules and Params assigned as attributes are registered in order;
    ``parameters()`` returns {dotted name: Param} of the trainable ones."""

    def __init__(self) -> None:
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value) -> None:
        mods = self.__dict__.get("_modules")
        if mods is None:
            raise RuntimeError(f"{type(self).__name__}: call Module.__init__() before assigning attributes")
        if isinstance(value, Module):
            mods[name] = value
        elif isinstance(value, Param):
            self._params[name] = value
        object.__setattr__(self, name, value)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- traversal ------------------------------------------------------------------------
    def named_modules(self, prefix: str = ""):
        yield prefix, self
        for name, m in self._modules.items():
            yield from m.named_modules(f"{prefix}.{name}" if prefix else name)

    def parameters(self, prefix: str = "") -> dict:
        """{dotted name: Param} for every trainable parameter of this module and below."""
        out = {}
        for mname, m in self.named_modules(prefix):
            for pname, p in m._params.items():
                out[f"{mname}.{pname}" if mname else pname] = p
        return out

    def zero_grad(self) -> None:
        for p in self.parameters().values():
            p.grad = None

    def train(self, mode: bool = True) -> "Module":
        for _, m in self.named_modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        return self.train(False)

    # -- saved state ----------------------------------------------------------------------
    def _save(self, **state) -> None:
        object.__setattr__(self, "_saved", state)

    def _pop(self) -> dict:
        st = self.__dict__.get("_saved")
        if st is None:
            raise RuntimeError(f"{type(self).__name__}.backward: no saved forward state (call forward first, "
                               "and backward at most once per forward)")
        object.__setattr__(self, "_saved", None)
        return st


class Sequence(Module):
    """Modules applied in order; backward runs them in reverse."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, m in enumerate(modules):
            setattr(self, str(i), m)
        object.__setattr__(self, "_order", list(modules))

    def __len__(self) -> int:
        return len(self._order)

    def __getitem__(self, i: int) -> Module:
        return self._order[i]

    def __iter__(self):
        return iter(self._order)
