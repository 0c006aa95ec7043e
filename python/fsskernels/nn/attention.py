"""Multi-head self-attention on shares with a secret padding mask (BERT's BertSelfAttention).

For x (B, T, d) and H heads of size dh = d / H:
    q, k, v = query(x), key(x), value(x)               (FrozenLinear or LoRALinear)
    scores = (q / sqrt(dh)) @ k^T + mask_add            (B, H, T, T)
    probs = dropout(softmax(scores, -1));  out = probs @ v, heads merged back to (B, T, d)
``mask_add`` (B, 1, 1, T) is the SECRET additive mask (1 - m) * (-big) computed from the
client's shared attention mask m (``additive_mask``): the server never learns which positions
are padding. The exp gate saturates to exactly 0 below -16, so a padded key gets probability
exactly 0 whenever its raw score is less than big - 16 = 48 above the row's largest valid
score (transformers adds finfo.min instead; the difference is below exp(-48)).
The 1/sqrt(dh) scaling multiplies q (B*T*d elements: fewer than the scores for T > dh/H).

Backward (manual): dprobs = dout @ v^T, dv = probs^T @ dout, dscores = softmax_backward,
dq = (dscores @ k) / sqrt(dh), dk = dscores^T @ (q / sqrt(dh)); dx sums the three
projections' input gradients. Products of two shared tensors are Beaver matrix triples
(batched over B, H). Rounds and bytes: those of the products and the gates.
"""
from __future__ import annotations

import math

from ..mpc.tensor import SharedTensor
from .gates import gates
from .layers import Dropout
from .linear import FrozenSlice, LoRALinear, fused_lora_backward, fused_lora_forward
from .module import Module

DEFAULT_MASK_BIG = 64


def additive_mask(mask: SharedTensor, big: int = DEFAULT_MASK_BIG) -> SharedTensor:
    """(1 - m) * (-big) = (m - 1) * big for the shared 0/1 attention mask m (B, T) at any
    fixed-point scale, reshaped to (B, 1, 1, T). Local: an integer public product."""
    if not isinstance(mask, SharedTensor) or mask.ndim != 2:
        raise ValueError("mask: expected a shared (batch, seq) attention mask")
    if isinstance(big, bool) or not isinstance(big, int) or big < 1:
        raise ValueError(f"big: must be a positive integer, got {big!r}")
    B, T = mask.shape
    return ((mask - 1.0) * big).reshape(B, 1, 1, T)


class SelfAttention(Module):
    """HF BertSelfAttention: sub-modules ``query``, ``key``, ``value`` (given, built by the
    caller as FrozenLinear or LoRALinear), ``num_heads``, attention-probability dropout."""

    def __init__(self, query: Module, key: Module, value: Module, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        d = query.out_features
        if num_heads < 1 or d % num_heads:
            raise ValueError(f"num_heads: {num_heads} does not divide the hidden size {d}")
        self.query, self.key, self.value = query, key, value
        self.num_heads, self.head_dim = int(num_heads), d // num_heads
        self.dropout = Dropout(dropout)

    def _split(self, t: SharedTensor) -> SharedTensor:
        B, T, _ = t.shape
        return t.reshape(B, T, self.num_heads, self.head_dim).permute(0, 2, 1, 3)

    @staticmethod
    def _merge(t: SharedTensor) -> SharedTensor:
        B, H, T, dh = t.shape
        return t.permute(0, 2, 1, 3).reshape(B, T, H * dh)

    def forward(self, x: SharedTensor, mask_add: SharedTensor | None = None) -> SharedTensor:
        if x.ndim != 3:
            raise ValueError(f"x: expected (batch, seq, hidden), got shape {tuple(x.shape)}")
        MF = gates()
        c = 1.0 / math.sqrt(self.head_dim)
        fused = self._fused()
        if fused is not None:  # one frozen product for the three projections
            yq, yk, yv = fused_lora_forward(fused, [self.query, self.key, self.value], x)
        else:
            yq, yk, yv = self.query(x), self.key(x), self.value(x)
        q = self._split(yq * c)
        k = self._split(yk)
        v = self._split(yv)
        scores = q @ k.transpose(-1, -2)
        if mask_add is not None:
            scores = scores + mask_add
        ctx = MF.Ctx()
        probs = MF.softmax(scores, dim=-1, ctx=ctx)
        probs_d = self.dropout(probs)
        self._save(q=q, k=k, v=v, probs_d=probs_d, ctx=ctx, c=c)
        return self._merge(probs_d @ v)

    def backward(self, g: SharedTensor, need_input_grad: bool = True) -> SharedTensor | None:
        """dx (None if not needed). Without need_input_grad, the branches of projections
        that have no trainable parameters are skipped (e.g. the key's in the first layer)."""
        st = self._pop()
        names = ("query", "key", "value")
        need = {n: need_input_grad or bool(getattr(self, n).parameters()) for n in names}
        gc = self._split(g)
        grads = {}
        if need["query"] or need["key"]:
            dprobs = self.dropout.backward(gc @ st["v"].transpose(-1, -2))
            dscores = gates().softmax_backward(st["ctx"], dprobs)
            if need["query"]:
                grads["query"] = self._merge(dscores @ st["k"]) * st["c"]
            if need["key"]:
                grads["key"] = self._merge(dscores.transpose(-1, -2) @ st["q"])
        else:
            self.dropout._pop()
        if need["value"]:
            grads["value"] = self._merge(st["probs_d"].transpose(-1, -2) @ gc)
        fused = self._fused()
        parts = []
        if fused is not None:
            mods = [getattr(self, n) for n in names]
            parts = fused_lora_backward(fused, mods, [grads.get(n) for n in names], need_input_grad)
        else:
            parts = [getattr(self, n).backward(grads[n], need_input_grad) for n in names if n in grads]
        if not need_input_grad:
            return None
        out = parts[0]
        for p in parts[1:]:
            out = out + p
        return out

    def _fused(self):
        """The FusedFrozenLinear behind query, key and value (parts 0, 1, 2), or None."""
        bases = [m.base if isinstance(m, LoRALinear) else m for m in (self.query, self.key, self.value)]
        if not all(isinstance(b, FrozenSlice) for b in bases):
            return None
        f = bases[0].fused
        if any(b.fused is not f for b in bases) or [b.index for b in bases] != [0, 1, 2]:
            return None
        return f
