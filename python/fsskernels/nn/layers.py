"""Elementwise and normalisation layers on shares, each a thin wrapper over a gate
(fsskernels.mpc.functional) that keeps the gate's context for the backward.

LayerNorm: y = (x - mean) / sqrt(var + eps) * weight + bias over the last dimension, with
  weight/bias frozen (public torch tensors, SharedTensors, or torch tensors of the model
  owner shared on construction); backward returns dx only (weight/bias are frozen).
GELU: the erf form (``approximate="none"``, BERT's ``hidden_act="gelu"``) or "tanh".
Tanh, Dropout (dealer-made shared Bernoulli mask, scaled by 1/(1-p); identity in eval mode
  or for p = 0).
Accuracy, domains, bytes and rounds are those of the gates (docs/gates.md).
"""
from __future__ import annotations

import torch

from ..mpc.tensor import SharedTensor
from .gates import gates
from .linear import share_param
from .module import Module


class LayerNorm(Module):
    """Frozen LayerNorm over the last ``dim`` features. ``weight``/``bias``: torch tensors
    at party ``owner`` (None at the other; shared once), SharedTensors, or
    ``public=True`` for a public affine (both parties pass the same tensors)."""

    def __init__(self, session, dim: int, weight=None, bias=None, *, eps: float = 1e-5, owner: int = 1,
                 public: bool = False, name: str = "LayerNorm") -> None:
        super().__init__()
        self.dim, self.eps = int(dim), float(eps)
        if public:
            if weight is None or bias is None:
                raise ValueError(f"{name}: a public LayerNorm needs weight and bias at both parties")
            self.weight = torch.as_tensor(weight, dtype=torch.float64)
            self.bias = torch.as_tensor(bias, dtype=torch.float64)
        else:
            self.weight = share_param(session, weight, owner=owner, shape=(self.dim,), name=f"{name}.weight")
            self.bias = share_param(session, bias, owner=owner, shape=(self.dim,), name=f"{name}.bias")

    def forward(self, x: SharedTensor) -> SharedTensor:
        if x.shape[-1] != self.dim:
            raise ValueError(f"x: last dimension {x.shape[-1]} does not match the LayerNorm size {self.dim}")
        MF = gates()
        ctx = MF.Ctx()
        y = MF.layer_norm(x, (self.dim,), weight=self.weight, bias=self.bias, eps=self.eps, ctx=ctx)
        self._save(ctx=ctx)
        return y

    def backward(self, g: SharedTensor) -> SharedTensor:
        return gates().layer_norm_backward(self._pop()["ctx"], g)


class GELU(Module):
    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate: must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: SharedTensor) -> SharedTensor:
        MF = gates()
        ctx = MF.Ctx()
        y = MF.gelu(x, approximate=self.approximate, ctx=ctx)
        self._save(ctx=ctx)
        return y

    def backward(self, g: SharedTensor) -> SharedTensor:
        return gates().gelu_backward(self._pop()["ctx"], g)


class Tanh(Module):
    def forward(self, x: SharedTensor) -> SharedTensor:
        MF = gates()
        ctx = MF.Ctx()
        y = MF.tanh(x, ctx=ctx)
        self._save(ctx=ctx)
        return y

    def backward(self, g: SharedTensor) -> SharedTensor:
        return gates().tanh_backward(self._pop()["ctx"], g)


class Dropout(Module):
    """Dropout with probability ``p`` in training mode (dealer-made shared mask)."""

    def __init__(self, p: float = 0.1) -> None:
        super().__init__()
        if not 0.0 <= float(p) < 1.0:
            raise ValueError(f"p: must be in [0, 1), got {p!r}")
        self.p = float(p)

    def forward(self, x: SharedTensor) -> SharedTensor:
        if not self.training or self.p == 0.0:
            self._save(ctx=None)
            return x
        MF = gates()
        ctx = MF.Ctx()
        y = MF.dropout(x, p=self.p, training=True, ctx=ctx)
        self._save(ctx=ctx)
        return y

    def backward(self, g: SharedTensor) -> SharedTensor:
        ctx = self._pop()["ctx"]
        return g if ctx is None else gates().dropout_backward(ctx, g)
