"""The plaintext counterpart of the private forward-only run: the same loop, projection,
optimizer seed, minibatch order and (for RFA) the same public random matrices, on the float64
twin (nn/twin.py). Its z trajectory equals the private one as long as the optimizer sees the
same loss ranking (fixed-point differences can reorder near-ties, after which they diverge).
"""
from __future__ import annotations

import time

import torch

from ...nn import LoraSettings
from ...nn.rfa_attention import rfa_self_attention_plain, rfa_weights
from ...nn.twin import TwinBertClassifier
from . import lora_target, loop
from .population import plain_logits
from .prompt import PromptProjection
from .session import NO_LORA, split_head


def build_twin(fo, hf_config, state_dict, layers):
    sd, head = split_head(state_dict)
    att = None
    if fo.attention == "rfa":
        dh = hf_config.hidden_size // hf_config.num_attention_heads
        att = [rfa_self_attention_plain(rfa_weights(dh, fo.rfa_features, fo.seed + 1000 + i)) for i in range(layers)]
    lora, init = NO_LORA, dict(head)
    if fo.target == "lora":  # adapters set per candidate by ``Candidates``; scaling alpha / r = 1
        lora = LoraSettings(r=fo.lora_r, alpha=float(fo.lora_r), target_modules=fo.lora_targets)
        d = hf_config.hidden_size
        for a, b in lora_target.twin_names(layers, fo.lora_targets):
            init[a] = torch.zeros(fo.lora_r, d, dtype=torch.float64)
            init[b] = torch.zeros(d, fo.lora_r, dtype=torch.float64)
    return TwinBertClassifier(hf_config, sd, num_layers=layers, lora=lora, init=init, attention=att)


class Candidates:
    """The plaintext counterpart of session.Candidates: logits (K * B, C), candidate-major."""

    def __init__(self, fo, hf_config, layers, twin) -> None:
        self.fo, self.twin, self.layers = fo, twin, layers
        if fo.target == "prompt":
            self.proj = PromptProjection(fo.z_dim, fo.prompt_len, hf_config.hidden_size, fo.seed, fo.prompt_scale)
        else:
            self.proj = lora_target.LoraProjection(
                fo.z_dim, lora_target.shapes_for(hf_config, layers, fo.lora_r, fo.lora_targets), fo.seed, fo.lora_scale)

    def logits(self, Z, emb, mask):
        Z = torch.as_tensor(Z, dtype=torch.float64)
        if self.fo.target == "prompt":
            return plain_logits(self.twin, emb, mask, self.proj.prompts(Z))
        names = lora_target.twin_names(self.layers, self.fo.lora_targets)
        outs = []
        with torch.no_grad():
            per_mod = self.proj.split(self.proj.flat(Z))
            for k in range(Z.shape[0]):
                for (an, bn), (A, B) in zip(names, per_mod):
                    self.twin.p(an).copy_(A[k])
                    self.twin.p(bn).copy_(B[k])
                outs.append(self.twin(emb, torch.as_tensor(mask, dtype=torch.float64)))
        return torch.cat(outs)


def run_plain(fo, hf_config, state_dict, layers, train, evals, *, on_gen=None, eval_batch: int = 64) -> dict:
    """train/evals: (input_ids, mask, labels). Returns the loop's log plus acc_before/acc_after."""
    t0 = time.perf_counter()
    twin = build_twin(fo, hf_config, state_dict, layers)
    with torch.no_grad():
        emb = twin.embed(train[0])
        eemb = twin.embed(evals[0]) if len(evals[2]) else None
    cands = Candidates(fo, hf_config, layers, twin)
    mask = torch.as_tensor(train[1], dtype=torch.float64)

    def evaluate(Z, idx):
        return cands.logits(Z, emb[idx], mask[idx])

    def accuracy(z):
        if eemb is None:
            return None
        z1 = torch.as_tensor(z, dtype=torch.float64).reshape(1, -1)
        em = torch.as_tensor(evals[1], dtype=torch.float64)
        lg = torch.cat([cands.logits(z1, eemb[a:a + eval_batch], em[a:a + eval_batch])
                        for a in range(0, len(evals[2]), eval_batch)])
        return float((lg.argmax(-1) == torch.as_tensor(evals[2])).to(torch.float64).mean()), lg

    before = accuracy(torch.zeros(fo.z_dim))
    log = loop.tune(fo, evaluate, torch.as_tensor(train[2]), len(train[2]), is_client=True, on_gen=on_gen)
    after = accuracy(log["best_z"])
    log.update(acc_before=None if before is None else before[0], acc_after=None if after is None else after[0],
               eval_logits=None if after is None else after[1], seconds=time.perf_counter() - t0)
    return log
