"""Soft prompts from a low-dimensional z (the client's search space) and their insertion.

``PromptProjection``: prompts(Z) = reshape(Z @ P, (K, prompt_len, hidden)) for a population
Z (K, z_dim); P (z_dim, prompt_len * hidden) has N(0, scale^2 / z_dim) entries drawn from a
seeded generator: it is PUBLIC (a fixed random projection, as in black-box prompt tuning,
Sun et al. ICML 2022); the secret is z, which only the client knows.
``insert_shared`` / ``insert_plain``: for embeddings (B, T, d) with attention mask (B, T) and
prompts (K, Lp, d), the population batch (K * B, T + Lp, d) = [CLS], prompt_k, tokens 1..T-1
for every candidate k and example b (row k * B + b), and its mask (prompt positions are
valid). The prompt goes after [CLS] so that BERT's pooler still reads position 0. The cached
embeddings keep their own position embeddings; the prompt vectors get none.
Errors: ValueError naming the argument on shape mismatches.
"""
from __future__ import annotations

import math

import torch

from ...mpc.tensor import SharedTensor, cat


class PromptProjection:
    def __init__(self, z_dim: int, prompt_len: int, hidden: int, seed: int, scale: float = 1.0) -> None:
        if z_dim < 1:
            raise ValueError(f"z-dim: must be >= 1, got {z_dim}")
        if prompt_len < 1:
            raise ValueError(f"prompt-len: must be >= 1, got {prompt_len}")
        self.z_dim, self.prompt_len, self.hidden = int(z_dim), int(prompt_len), int(hidden)
        g = torch.Generator().manual_seed(int(seed))  # csprng-ok: P is public (a fixed random projection)
        self.P = torch.randn(z_dim, prompt_len * hidden, generator=g,  # csprng-ok: public projection
                             dtype=torch.float64) * (scale / math.sqrt(z_dim))

    def prompts(self, Z) -> torch.Tensor:
        Z = torch.as_tensor(Z, dtype=torch.float64)
        if Z.ndim != 2 or Z.shape[1] != self.z_dim:
            raise ValueError(f"Z: expected (population, {self.z_dim}), got {tuple(Z.shape)}")
        return (Z @ self.P).reshape(Z.shape[0], self.prompt_len, self.hidden)


def _check(emb_shape, mask_shape, prompt_shape) -> tuple:
    if len(emb_shape) != 3:
        raise ValueError(f"embeddings: expected (batch, seq, hidden), got {tuple(emb_shape)}")
    B, T, d = emb_shape
    if tuple(mask_shape) != (B, T):
        raise ValueError(f"mask: expected {(B, T)}, got {tuple(mask_shape)}")
    if len(prompt_shape) != 3 or prompt_shape[2] != d:
        raise ValueError(f"prompts: expected (population, prompt_len, {d}), got {tuple(prompt_shape)}")
    return B, T, d, prompt_shape[0], prompt_shape[1]


def insert_shared(emb: SharedTensor, mask: SharedTensor, prompts: SharedTensor):
    """(K * B, T + Lp, d) embeddings and (K * B, T + Lp) mask on shares (local operations)."""
    B, T, d, K, Lp = _check(emb.shape, mask.shape, prompts.shape)
    e = emb.unsqueeze(0).expand(K, B, T, d)
    p = prompts.unsqueeze(1).expand(K, B, Lp, d)
    x = cat([e[:, :, :1], p, e[:, :, 1:]], 2).reshape(K * B, T + Lp, d)
    ones = mask[:, :1] * 0 + 1.0
    m = cat([mask[:, :1], ones.expand(B, Lp), mask[:, 1:]], 1)
    m = m.unsqueeze(0).expand(K, B, T + Lp).reshape(K * B, T + Lp)
    return x, m


def insert_plain(emb: torch.Tensor, mask: torch.Tensor, prompts: torch.Tensor):
    """The float64 counterpart of ``insert_shared``."""
    B, T, d, K, Lp = _check(emb.shape, mask.shape, prompts.shape)
    e = emb.unsqueeze(0).expand(K, B, T, d)
    p = prompts.to(emb.dtype).unsqueeze(1).expand(K, B, Lp, d)
    x = torch.cat([e[:, :, :1], p, e[:, :, 1:]], 2).reshape(K * B, T + Lp, d)
    m = mask.to(torch.float64)
    m = torch.cat([m[:, :1], torch.ones(B, Lp, dtype=torch.float64), m[:, 1:]], 1)
    return x, m.unsqueeze(0).expand(K, B, T + Lp).reshape(K * B, T + Lp)
