"""The plaintext counterpart of the private forward-only run: the same loop, projection,
optimizer seed, minibatch order and (for RFA) the same public random matrices, on the float64
twin (nn/twin.py). Its z trajectory equals the private one as long as the optimizer sees the
same loss ranking (fixed-point differences can reorder near-ties, after which they diverge).
"""
from __future__ import annotations

import time

import torch

from ...nn.rfa_attention import rfa_self_attention_plain, rfa_weights
from ...nn.twin import TwinBertClassifier
from . import loop
from .population import plain_logits
from .prompt import PromptProjection
from .session import NO_LORA, split_head


def build_twin(fo, hf_config, state_dict, layers):
    sd, head = split_head(state_dict)
    att = None
    if fo.attention == "rfa":
        dh = hf_config.hidden_size // hf_config.num_attention_heads
        att = [rfa_self_attention_plain(rfa_weights(dh, fo.rfa_features, fo.seed + 1000 + i)) for i in range(layers)]
    return TwinBertClassifier(hf_config, sd, num_layers=layers, lora=NO_LORA, init=head, attention=att)


def run_plain(fo, hf_config, state_dict, layers, train, evals, *, on_gen=None, eval_batch: int = 64) -> dict:
    """train/evals: (input_ids, mask, labels). Returns the loop's log plus acc_before/acc_after."""
    t0 = time.perf_counter()
    twin = build_twin(fo, hf_config, state_dict, layers)
    with torch.no_grad():
        emb = twin.embed(train[0])
        eemb = twin.embed(evals[0]) if len(evals[2]) else None
    proj = PromptProjection(fo.z_dim, fo.prompt_len, hf_config.hidden_size, fo.seed, fo.prompt_scale)
    mask = torch.as_tensor(train[1], dtype=torch.float64)

    def evaluate(Z, idx):
        return plain_logits(twin, emb[idx], mask[idx], proj.prompts(Z))

    def accuracy(z):
        if eemb is None:
            return None
        P = proj.prompts(torch.as_tensor(z, dtype=torch.float64).reshape(1, -1))
        em = torch.as_tensor(evals[1], dtype=torch.float64)
        lg = torch.cat([plain_logits(twin, eemb[a:a + eval_batch], em[a:a + eval_batch], P)
                        for a in range(0, len(evals[2]), eval_batch)])
        return float((lg.argmax(-1) == torch.as_tensor(evals[2])).to(torch.float64).mean()), lg

    before = accuracy(torch.zeros(fo.z_dim))
    log = loop.tune(fo, evaluate, torch.as_tensor(train[2]), len(train[2]), is_client=True, on_gen=on_gen)
    after = accuracy(log["best_z"])
    log.update(acc_before=None if before is None else before[0], acc_after=None if after is None else after[0],
               eval_logits=None if after is None else after[1], seconds=time.perf_counter() - t0)
    return log
