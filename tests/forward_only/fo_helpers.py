"""A tiny random BERT (hidden 32, 2 heads, vocab 100, 1 layer) with its server state dict
(classifier included), and a tiny separable task: class = whether token 7 or token 9 fills
the sentence (public test data)."""
from __future__ import annotations

import torch

from fsskernels.finetune.forward_only.config import ForwardOnlyConfig


def tiny_config(num_layers: int = 1, num_labels: int = 2):
    from transformers import BertConfig

    return BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=num_layers, num_attention_heads=2,
                      intermediate_size=64, max_position_embeddings=32, num_labels=num_labels, hidden_dropout_prob=0.0,
                      attention_probs_dropout_prob=0.0, layer_norm_eps=1e-5)


def tiny_model(num_layers: int = 1, seed: int = 0, init_range: float = 0.2):
    import transformers

    cfg = tiny_config(num_layers)
    cfg.initializer_range = init_range
    torch.manual_seed(seed)  # csprng-ok: public test weights
    m = transformers.BertForSequenceClassification(cfg).double().eval()
    sd = {k: v.detach().clone() for k, v in m.state_dict().items()}
    return cfg, sd


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)  # csprng-ok: public test data


def tiny_task(n: int, T: int = 6, seed: int = 1):
    """(ids, mask, labels): [CLS]=1, then T-1 tokens, all 7 (label 0) or all 9 (label 1);
    the last token of odd rows is padding (mask 0)."""
    labels = torch.arange(n) % 2
    ids = torch.where(labels[:, None] == 0, 7, 9).expand(n, T).clone()
    ids[:, 0] = 1
    mask = torch.ones(n, T, dtype=torch.int64)
    mask[1::2, -1] = 0
    ids[1::2, -1] = 0
    perm = torch.randperm(n, generator=gen(seed))
    return ids[perm], mask[perm], labels[perm]


def fo_config(**kw) -> ForwardOnlyConfig:
    base = dict(population=4, z_dim=4, prompt_len=2, generations=2, batch_size=2, rfa_features=16, seed=0)
    base.update(kw)
    return ForwardOnlyConfig(**base).check()
