"""One batched forward of a whole population: K candidate prompts x B examples in one pass.

``private_logits(model, emb, mask, prompts)``: shared logits (K * B, C), row k * B + b for
candidate k and example b, from a PrivateBertClassifier (softmax or RFA attention) on the
shared cached embeddings and the client's shared prompts; ``plain_logits(twin, ...)`` the same
from the float64 twin (nn/twin.py). ``candidate_losses(logits, labels, K)``: the client's
plaintext mean cross-entropy per candidate (K,), from logits revealed to it only.
"""
from __future__ import annotations

import torch

from .prompt import insert_plain, insert_shared


def private_logits(model, emb, mask, prompts):
    x, m = insert_shared(emb, mask, prompts)
    return model.forward(x, m)


def plain_logits(twin, emb, mask, prompts):
    x, m = insert_plain(emb, mask, prompts)
    with torch.no_grad():
        return twin(x, m)


def candidate_losses(logits: torch.Tensor, labels: torch.Tensor, K: int) -> torch.Tensor:
    logits = torch.as_tensor(logits, dtype=torch.float64)
    labels = torch.as_tensor(labels, dtype=torch.int64)
    B = labels.shape[0]
    if logits.shape[0] != K * B:
        raise ValueError(f"logits: expected {K * B} rows (population {K} x batch {B}), got {logits.shape[0]}")
    ce = torch.nn.functional.cross_entropy(logits, labels.repeat(K), reduction="none")
    return ce.reshape(K, B).mean(1)
