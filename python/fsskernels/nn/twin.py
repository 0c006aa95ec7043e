"""Plaintext twin of the nn/ layers: the same math in torch float64 (autograd for the
backward), used as the oracle in tests and for accuracy reports.

Every function takes plaintext float64 tensors and the same weights the shared layers were
built from; ``TwinBertClassifier`` mirrors PrivateBertClassifier exactly (post-LN BERT,
erf GELU, additive padding mask (m - 1) * big, LoRA (alpha/r) B A on the target modules,
pooler tanh on [CLS], classifier). Dropout is the identity (eval mode / p = 0): tests
compare deterministic paths. Names of trainable tensors are peft's saved-adapter names.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .attention import DEFAULT_MASK_BIG
from .lora_config import LoraSettings, from_peft_name, to_peft_name

_D = torch.float64


def linear(x, w, b=None):
    y = x @ w.T
    return y if b is None else y + b


def lora_linear(x, w, b, A, B, scaling):
    return linear(x, w, b) + (x @ A.T * scaling) @ B.T


def layer_norm(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def self_attention(x, q, k, v, num_heads, mask=None, big=DEFAULT_MASK_BIG):
    """q, k, v: callables (the projections); mask: (B, T) 0/1 or None."""
    Bn, T, d = x.shape
    dh = d // num_heads

    def split(t):
        return t.reshape(Bn, T, num_heads, dh).permute(0, 2, 1, 3)

    qs = split(q(x) * (1.0 / math.sqrt(dh)))
    scores = qs @ split(k(x)).transpose(-1, -2)
    if mask is not None:
        scores = scores + ((mask - 1.0) * big).reshape(Bn, 1, 1, T)
    probs = torch.softmax(scores, dim=-1)
    return (probs @ split(v(x))).permute(0, 2, 1, 3).reshape(Bn, T, d)


class TwinBertClassifier(torch.nn.Module):
    """float64 twin of PrivateBertClassifier: build from the same config, state dict and
    initial trainable values; ``trainable()`` gives {peft name: tensor with requires_grad}."""

    def __init__(self, config, state_dict: dict, *, num_layers=None, lora: LoraSettings = LoraSettings(),
                 init: dict, mask_big: int = DEFAULT_MASK_BIG, attention=None) -> None:
        super().__init__()
        self.c, self.lora, self.big = config, lora, mask_big
        # attention(x, q, k, v, num_heads, mask, big) per layer i: a callable, a list of them
        # (one per layer, e.g. random-feature attention with per-layer W), or None (softmax)
        self.attention = attention
        self.L = config.num_hidden_layers if num_layers is None else num_layers
        self.w = {(k[5:] if k.startswith("bert.") else k): torch.as_tensor(v, dtype=_D).detach().clone()
                  for k, v in state_dict.items()}
        iv = {from_peft_name(k): v for k, v in init.items()}
        self.params = torch.nn.ParameterDict()
        self._names = {}
        for k, v in iv.items():
            p = torch.nn.Parameter(torch.as_tensor(v, dtype=_D).detach().clone())
            key = k.replace(".", "__")
            self.params[key] = p
            self._names[k] = key

    def p(self, name):
        return self.params[self._names[name]]

    def trainable(self) -> dict:
        return {to_peft_name(k): self.params[v] for k, v in self._names.items()}

    def _lin(self, path):
        w, b = self.w[f"{path}.weight"], self.w[f"{path}.bias"]
        if self.lora.targets(path):
            A, B = self.p(f"bert.{path}.lora_A"), self.p(f"bert.{path}.lora_B")
            s = self.lora.alpha / self.lora.r
            return lambda x: lora_linear(x, w, b, A, B, s)
        return lambda x: linear(x, w, b)

    def embed(self, input_ids, token_type_ids=None):
        ids = torch.as_tensor(input_ids)
        tt = torch.zeros_like(ids) if token_type_ids is None else torch.as_tensor(token_type_ids)
        T = ids.shape[1]
        e = (self.w["embeddings.word_embeddings.weight"][ids] + self.w["embeddings.token_type_embeddings.weight"][tt]
             + self.w["embeddings.position_embeddings.weight"][:T])
        return layer_norm(e, self.w["embeddings.LayerNorm.weight"], self.w["embeddings.LayerNorm.bias"],
                          self.c.layer_norm_eps)

    def layer(self, i, x, mask=None):
        p, eps = f"encoder.layer.{i}", self.c.layer_norm_eps
        att = self.attention[i] if isinstance(self.attention, (list, tuple)) else (self.attention or self_attention)
        a = att(x, self._lin(f"{p}.attention.self.query"), self._lin(f"{p}.attention.self.key"),
                  self._lin(f"{p}.attention.self.value"), self.c.num_attention_heads, mask, self.big)
        a = layer_norm(self._lin(f"{p}.attention.output.dense")(a) + x, self.w[f"{p}.attention.output.LayerNorm.weight"],
                       self.w[f"{p}.attention.output.LayerNorm.bias"], eps)
        approx = "none" if self.c.hidden_act == "gelu" else "tanh"
        h = F.gelu(self._lin(f"{p}.intermediate.dense")(a), approximate=approx)
        return layer_norm(self._lin(f"{p}.output.dense")(h) + a, self.w[f"{p}.output.LayerNorm.weight"],
                          self.w[f"{p}.output.LayerNorm.bias"], eps)

    def head(self, h):
        pooled = torch.tanh(self._lin("pooler.dense")(h[:, 0]))
        return linear(pooled, self.p("classifier.weight"), self.p("classifier.bias"))

    def forward(self, embeddings, attention_mask=None):
        """Logits from (cached) embeddings, as PrivateBertClassifier.forward."""
        m = None if attention_mask is None else torch.as_tensor(attention_mask, dtype=_D)
        h = embeddings
        for i in range(self.L):
            h = self.layer(i, h, m)
        return self.head(h)
