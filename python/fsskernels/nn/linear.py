"""Linear layers on shares: frozen (masked-once) base, trainable linear, and LoRA.

FrozenLinear: y = x @ W^T + b with W (out x in) the model owner's frozen weight, masked
  once (``mpc.freeze_owned``, owner mode: the non-owner receives F = W^T - B once) or a
  shared weight masked once (``mpc.freeze``); b shared (owner's ``mpc.share``, 88 bytes).
  backward: dx = g @ W (the same mask, transposed: ``F.T``). Per product: L/8 (n_x + n_y)
  bytes one way + n_y/8 bits back, 2 rounds (docs/runtime.md section 5).
Linear: trainable shared weight and bias (the classifier head): y = x @ W^T + b (Beaver
  matrix triple); backward fills dW = g^T x, db = sum g and returns dx = g @ W.
LoRALinear (Hu et al. 2021, "LoRA", as in peft's lora.Linear): y = base(x) +
  (s * (drop(x) @ A^T)) @ B^T with A (r x in), B (out x r) trainable and shared,
  s = alpha / r, drop = dropout with probability ``dropout`` in training mode.
  The scaling multiplies the r-wide intermediate (fewer elements than the output).

Preconditions: inputs are fixed point at the session's frac_bits; |products| within the
runtime's range (FixedPointConfig). Errors: ValueError naming the argument for bad shapes.
"""
from __future__ import annotations

import torch

from .. import mpc
from ..mpc.tensor import SharedTensor
from .gates import gates
from .module import Module, Param


def _flat(t: SharedTensor) -> SharedTensor:
    return t.reshape(-1, t.shape[-1])


def share_param(session, value, *, owner: int, shape, name: str) -> SharedTensor:
    """Share a torch tensor held by ``owner`` (float64 fixed point); the other party passes
    None. A SharedTensor is returned as is (after a shape check)."""
    shape = tuple(int(d) for d in shape)
    if isinstance(value, SharedTensor):
        if tuple(value.shape) != shape:
            raise ValueError(f"{name}: expected shape {shape}, got {tuple(value.shape)}")
        return value
    if session.party == owner:
        if value is None:
            raise ValueError(f"{name}: party {owner} owns this value and must pass it")
        t = torch.as_tensor(value, dtype=torch.float64).detach().cpu()
        if tuple(t.shape) != shape:
            raise ValueError(f"{name}: expected shape {shape}, got {tuple(t.shape)}")
        return mpc.share(session, t.to(session.device), owner=owner, shape=shape)
    if value is not None:
        raise ValueError(f"{name}: only party {owner} passes this value")
    return mpc.share(session, None, owner=owner, shape=shape)


class FrozenLinear(Module):
    """Frozen y = x @ W^T + b. ``weight``: (out, in) torch tensor at the owner (None at the
    other party), or a SharedTensor (shared mode, both parties pass their share).
    ``bias``: (out,) torch tensor at the owner / None, a SharedTensor, or has_bias=False."""

    def __init__(self, session, in_features: int, out_features: int, weight=None, bias=None, *, owner: int = 1,
                 has_bias: bool = True, name: str = "linear") -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        if isinstance(weight, SharedTensor):
            if tuple(weight.shape) != (self.out_features, self.in_features):
                raise ValueError(f"{name}.weight: expected shape {(self.out_features, self.in_features)}, "
                                 f"got {tuple(weight.shape)}")
            self.frozen = mpc.freeze(weight.T)
        else:
            w = None
            if session.party == owner:
                if weight is None:
                    raise ValueError(f"{name}.weight: party {owner} owns the weight and must pass it")
                w = torch.as_tensor(weight, dtype=torch.float64).detach().cpu()
                if tuple(w.shape) != (self.out_features, self.in_features):
                    raise ValueError(f"{name}.weight: expected shape {(self.out_features, self.in_features)}, "
                                     f"got {tuple(w.shape)}")
                w = w.T.contiguous().to(session.device)
            elif weight is not None:
                raise ValueError(f"{name}.weight: only party {owner} passes the weight")
            self.frozen = mpc.freeze_owned(session, w, owner=owner, shape=(self.in_features, self.out_features))
        self.bias = (share_param(session, bias, owner=owner, shape=(self.out_features,), name=f"{name}.bias")
                     if has_bias else None)

    def forward(self, x: SharedTensor) -> SharedTensor:
        if x.shape[-1] != self.in_features:
            raise ValueError(f"x: last dimension {x.shape[-1]} does not match in_features {self.in_features}")
        y = x @ self.frozen
        return y + self.bias if self.bias is not None else y

    def backward(self, g: SharedTensor, need_input_grad: bool = True) -> SharedTensor | None:
        """dx = g @ W (no state needed: the layer is frozen); None if not needed."""
        if g.shape[-1] != self.out_features:
            raise ValueError(f"grad: last dimension {g.shape[-1]} does not match out_features {self.out_features}")
        return g @ self.frozen.T if need_input_grad else None


class Linear(Module):
    """Trainable y = x @ W^T + b with shared W (out, in) and b (out,) (Params ``weight``,
    ``bias``). Initial values: torch tensors from party ``owner`` (None at the other) or
    SharedTensors."""

    def __init__(self, session, in_features: int, out_features: int, weight=None, bias=None, *, owner: int = 0,
                 has_bias: bool = True, name: str = "linear") -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Param(share_param(session, weight, owner=owner, shape=(self.out_features, self.in_features),
                                        name=f"{name}.weight"))
        if has_bias:
            self.bias = Param(share_param(session, bias, owner=owner, shape=(self.out_features,), name=f"{name}.bias"))
        else:
            object.__setattr__(self, "bias", None)

    def forward(self, x: SharedTensor) -> SharedTensor:
        if x.shape[-1] != self.in_features:
            raise ValueError(f"x: last dimension {x.shape[-1]} does not match in_features {self.in_features}")
        self._save(x=x)
        y = x @ self.weight.value.T
        return y + self.bias.value if self.bias is not None else y

    def backward(self, g: SharedTensor, need_input_grad: bool = True) -> SharedTensor | None:
        x = self._pop()["x"]
        gf, xf = _flat(g), _flat(x)
        self.weight.accumulate(gf.T @ xf)
        if self.bias is not None:
            self.bias.accumulate(gf.sum(0))
        return g @ self.weight.value if need_input_grad else None


class LoRALinear(Module):
    """base(x) + (alpha/r) * B(A(dropout(x))) with trainable Params ``lora_A`` (r, in) and
    ``lora_B`` (out, r) (peft's names). ``A``, ``B``: initial values, torch tensors at party
    ``owner`` (None at the other) or SharedTensors."""

    def __init__(self, session, base: FrozenLinear, r: int, alpha: float, dropout: float = 0.0, A=None, B=None, *,
                 owner: int = 0, name: str = "lora") -> None:
        super().__init__()
        if isinstance(r, bool) or not isinstance(r, int) or r < 1:
            raise ValueError(f"r: must be a positive integer, got {r!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout: must be in [0, 1), got {dropout!r}")
        self.base = base
        self.r, self.alpha, self.p = r, float(alpha), float(dropout)
        self.scaling = self.alpha / r
        # an integral scaling (e.g. alpha = 2r) multiplies shares locally and exactly
        self._scale = int(self.scaling) if float(self.scaling).is_integer() else self.scaling
        self.lora_A = Param(share_param(session, A, owner=owner, shape=(r, base.in_features), name=f"{name}.lora_A"))
        self.lora_B = Param(share_param(session, B, owner=owner, shape=(base.out_features, r), name=f"{name}.lora_B"))

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    def forward(self, x: SharedTensor) -> SharedTensor:
        return self.base(x) + self.adapter_forward(x)

    def backward(self, g: SharedTensor, need_input_grad: bool = True) -> SharedTensor | None:
        dx = self.adapter_backward(g, need_input_grad)
        return self.base.backward(g) + dx if need_input_grad else None

    def adapter_forward(self, x: SharedTensor) -> SharedTensor:
        """The adapter's term (alpha/r) B A dropout(x) alone (saves its backward state)."""
        MF = gates()
        dctx = None
        if self.training and self.p > 0:
            dctx = MF.Ctx()
            xd = MF.dropout(x, p=self.p, training=True, ctx=dctx)
        else:
            xd = x
        h = xd @ self.lora_A.value.T
        hs = h * self._scale if self.scaling != 1.0 else h
        self._save(xd=xd, hs=hs, dctx=dctx)
        return hs @ self.lora_B.value.T

    def adapter_backward(self, g: SharedTensor, need_input_grad: bool = True) -> SharedTensor | None:
        """Accumulates dA, dB; returns the adapter's part of dx (None if not needed)."""
        st = self._pop()
        xd, hs, dctx = st["xd"], st["hs"], st["dctx"]
        gf = _flat(g)
        self.lora_B.accumulate(gf.T @ _flat(hs))
        dhs = g @ self.lora_B.value
        dh = dhs * self._scale if self.scaling != 1.0 else dhs
        self.lora_A.accumulate(_flat(dh).T @ _flat(xd))
        if not need_input_grad:
            return None
        dxd = dh @ self.lora_A.value
        if dctx is not None:
            dxd = gates().dropout_backward(dctx, dxd)
        return dxd


class FusedFrozenLinear(Module):
    """Several frozen linears on the same input as one frozen matrix [W_1; W_2; ...]: one
    product (one masked copy of x, 2 rounds) instead of one per linear, forward and
    backward. Built from the owner's (out_i, in) weights and biases (None at the other
    party); ``part(i)`` gives a FrozenSlice usable wherever a FrozenLinear is."""

    def __init__(self, session, in_features: int, out_sizes, weights=None, biases=None, *, owner: int = 1,
                 name: str = "fused") -> None:
        super().__init__()
        self.splits = [int(o) for o in out_sizes]
        cat_w = cat_b = None
        if session.party == owner:
            if weights is None or biases is None or len(weights) != len(self.splits) or len(biases) != len(self.splits):
                raise ValueError(f"{name}: party {owner} must pass one weight and one bias per part")
            cat_w = torch.cat([torch.as_tensor(w, dtype=torch.float64) for w in weights], 0)
            cat_b = torch.cat([torch.as_tensor(b, dtype=torch.float64) for b in biases], 0)
        self.linear = FrozenLinear(session, in_features, sum(self.splits), cat_w, cat_b, owner=owner, name=name)

    @property
    def in_features(self) -> int:
        return self.linear.in_features

    def forward_split(self, x: SharedTensor) -> list:
        y = self.linear(x)
        out, i = [], 0
        for n in self.splits:
            out.append(y[..., i:i + n])
            i += n
        return out

    def backward_cat(self, grads) -> SharedTensor:
        """dx for the gradients of every part (one frozen product)."""
        from .. import mpc

        return self.linear.backward(mpc.cat(list(grads), dim=-1))

    def part(self, i: int) -> "FrozenSlice":
        return FrozenSlice(self, i)


class FrozenSlice(Module):
    """Part i of a FusedFrozenLinear. Used alone it computes the whole fused product and
    keeps its slice (correct, not economical); SelfAttention uses the fused product directly."""

    def __init__(self, fused: FusedFrozenLinear, index: int) -> None:
        super().__init__()
        object.__setattr__(self, "fused", fused)  # not a child: the fused matrix has no Params
        self.index = int(index)
        self.in_features, self.out_features = fused.in_features, fused.splits[self.index]

    def forward(self, x: SharedTensor) -> SharedTensor:
        return self.fused.forward_split(x)[self.index]

    def backward(self, g: SharedTensor, need_input_grad: bool = True) -> SharedTensor | None:
        if not need_input_grad:
            return None
        s = g.session
        parts = [g if i == self.index else
                 SharedTensor(s, torch.zeros(tuple(g.shape[:-1]) + (n,), dtype=torch.int64, device=g.device), g.frac_bits)
                 for i, n in enumerate(self.fused.splits)]
        return self.fused.backward_cat(parts)
