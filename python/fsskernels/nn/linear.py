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
from ..mpc.beaver import matmul_unreduced
from ..mpc.tensor import SharedTensor
from ..mpc.unreduced import Unreduced
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

    def forward(self, x: SharedTensor, add=None) -> SharedTensor:
        """x @ W^T + b; ``add``: an optional Unreduced term (e.g. a LoRA adapter's) summed
        with x @ W^T before the product's one truncation."""
        if x.shape[-1] != self.in_features:
            raise ValueError(f"x: last dimension {x.shape[-1]} does not match in_features {self.in_features}")
        y = self.frozen.rmatmul(x, add=add)
        return y + self.bias if self.bias is not None else y

    def backward(self, g: SharedTensor, need_input_grad: bool = True, add=None) -> SharedTensor | None:
        """dx = g @ W (+ ``add``, an Unreduced term, before the truncation; no state needed:
        the layer is frozen); None if not needed."""
        if g.shape[-1] != self.out_features:
            raise ValueError(f"grad: last dimension {g.shape[-1]} does not match out_features {self.out_features}")
        return self.frozen.T.rmatmul(g, add=add) if need_input_grad else None


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

    # The adapter's last product and the base's are summed before one truncation when the
    # base is a FrozenLinear (mpc/unreduced.py); subclasses that replace adapter_forward or
    # adapter_backward set this to False.
    fuses_truncation = True

    def forward(self, x: SharedTensor) -> SharedTensor:
        if self.fuses_truncation and isinstance(self.base, FrozenLinear):
            return self.base.forward(x, add=self.adapter_forward(x, unreduced=True))
        return self.base(x) + self.adapter_forward(x)

    def backward(self, g: SharedTensor, need_input_grad: bool = True) -> SharedTensor | None:
        fuse = self.fuses_truncation and isinstance(self.base, FrozenLinear)
        dx = self.adapter_backward(g, need_input_grad, unreduced=fuse)
        if not need_input_grad:
            return None
        if isinstance(dx, SharedTensor):
            return self.base.backward(g) + dx
        return self.base.backward(g, add=dx)

    def adapter_forward(self, x: SharedTensor, unreduced: bool = False):
        """The adapter's term (alpha/r) B A dropout(x) alone (saves its backward state); with
        ``unreduced``, its last product is left untruncated (an Unreduced at scale 2f)."""
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
        if unreduced:
            return matmul_unreduced(hs, self.lora_B.value.T)
        return hs @ self.lora_B.value.T

    def adapter_backward(self, g: SharedTensor, need_input_grad: bool = True, unreduced: bool = False):
        """Accumulates dA, dB; returns the adapter's part of dx (None if not needed). With
        ``unreduced`` and no dropout, that part is an untruncated Unreduced at scale 2f (to be
        summed with the base's dx before one truncation); with dropout, a SharedTensor."""
        st = self._pop()
        xd, hs, dctx = st["xd"], st["hs"], st["dctx"]
        gf = _flat(g)
        self.lora_B.accumulate(gf.T @ _flat(hs))
        dhs = g @ self.lora_B.value
        dh = dhs * self._scale if self.scaling != 1.0 else dhs
        self.lora_A.accumulate(_flat(dh).T @ _flat(xd))
        if not need_input_grad:
            return None
        if unreduced and dctx is None:
            return matmul_unreduced(dh, self.lora_A.value)
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

    def forward_split(self, x: SharedTensor, add=None) -> list:
        """The parts' outputs; ``add``: an optional Unreduced term of the fused width."""
        y = self.linear.forward(x, add=add)
        out, i = [], 0
        for n in self.splits:
            out.append(y[..., i:i + n])
            i += n
        return out

    def backward_cat(self, grads, add=None) -> SharedTensor:
        """dx for the gradients of every part (one frozen product; ``add``: an optional
        Unreduced term of dx's shape summed before its truncation)."""
        return self.linear.backward(mpc.cat(list(grads), dim=-1), add=add)

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


def fused_lora_forward(fused: FusedFrozenLinear, modules, x: SharedTensor) -> list:
    """The outputs of ``fused``'s parts for ``modules`` (each a FrozenSlice of it, or a
    LoRALinear around one): the LoRA adapters' last products are summed with the frozen
    product before its one truncation (one truncation per output element instead of two);
    adapters that do not fuse (``fuses_truncation`` False) add their truncated term after."""
    scale = x.frac_bits + fused.linear.frozen.frac_bits
    terms = [m.adapter_forward(x, unreduced=True) if _fuses(m) else None for m in modules]
    outs = fused.forward_split(x, add=Unreduced.cat_parts(x.session, terms, fused.splits, scale))
    for i, m in enumerate(modules):
        if isinstance(m, LoRALinear) and not _fuses(m):
            outs[i] = outs[i] + m.adapter_forward(x)
    return outs


def fused_lora_backward(fused: FusedFrozenLinear, modules, grads, need_input_grad: bool) -> list:
    """Accumulates the LoRA modules' dA, dB for their gradients (``grads``, None where a part
    needs none) and returns the terms of dx to add (empty if not need_input_grad): the frozen
    product of every part's gradient, with the fusing adapters' untruncated dx terms summed in
    before its truncation, plus the terms of the adapters that do not fuse."""
    parts, terms = [], None
    for m, g in zip(modules, grads):
        if not isinstance(m, LoRALinear) or g is None:
            continue
        d = m.adapter_backward(g, need_input_grad, unreduced=True) if _fuses(m) else m.adapter_backward(g, need_input_grad)
        if isinstance(d, Unreduced):
            terms = d if terms is None else terms + d
        elif d is not None:
            parts.append(d)
    if need_input_grad:
        parts.append(fused.backward_cat(grads, add=terms))
    return parts


def _fuses(m) -> bool:
    return isinstance(m, LoRALinear) and m.fuses_truncation
