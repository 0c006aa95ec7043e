"""Helpers for the nn/ tests: a tiny random BERT (hidden 32, 2 heads, vocab 100) with its
state dict and initial trainable values, and fixed-point rounding of plaintext inputs."""
from __future__ import annotations

import torch

F16 = 2.0 ** -16


def fx(t, f: int = 16) -> torch.Tensor:
    """t rounded to the fixed-point grid (what the shared value actually is)."""
    return torch.round(torch.as_tensor(t, dtype=torch.float64) * 2.0 ** f) / 2.0 ** f


def tiny_config(num_layers: int = 1, num_labels: int = 3, **kw):
    from transformers import BertConfig

    base = dict(vocab_size=100, hidden_size=32, num_hidden_layers=num_layers, num_attention_heads=2,
                intermediate_size=64, max_position_embeddings=16, num_labels=num_labels, hidden_dropout_prob=0.0,
                attention_probs_dropout_prob=0.0, layer_norm_eps=1e-5)
    base.update(kw)
    return BertConfig(**base)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)  # csprng-ok: public test data


def randn(*shape, seed: int, scale: float = 1.0) -> torch.Tensor:
    return torch.randn(*shape, generator=gen(seed), dtype=torch.float64) * scale
