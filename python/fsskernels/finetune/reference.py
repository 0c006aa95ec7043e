"""The plaintext twin: the same LoRA fine-tuning by transformers + peft + torch.optim.

Computes, for a ``TrainConfig`` and tokenized data: per-step mean cross-entropy (the loss
of the batch before the step), held-out accuracy before and after each epoch, and the final
adapters, training with torch.optim.SGD(momentum) or torch.optim.AdamW on exactly the batch
order of ``schedule.all_steps`` and starting from the initial adapters it returns (which the
private run receives). float32 like a normal peft run. Used as the accuracy reference of the
report and as the oracle in tests.
"""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from . import hf, schedule


def make_optimizer(cfg, params):
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(params, lr=cfg.lr, betas=tuple(cfg.betas), eps=cfg.eps, weight_decay=cfg.weight_decay)


@torch.no_grad()
def predict(pm, ids, mask, batch_size: int = 64) -> torch.Tensor:
    pm.eval()
    out = [pm(input_ids=ids[i:i + batch_size], attention_mask=mask[i:i + batch_size]).logits
           for i in range(0, len(ids), batch_size)]
    return torch.cat(out).to(torch.float64)


def accuracy(logits: torch.Tensor, labels) -> float:
    return float((logits.argmax(-1) == torch.as_tensor(labels)).to(torch.float64).mean())


def train_twin(cfg, pm, train, evals, *, progress=None, threads: int | None = None) -> dict:
    """train/evals: (input_ids, attention_mask, labels LongTensor). Returns a dict with
    ``losses`` (per step), ``eval_acc`` (before training, then after each epoch), ``seconds``,
    ``initial`` and ``final`` adapter states (canonical names, float64)."""
    if threads:
        torch.set_num_threads(threads)
    ids, mask, y = train
    eids, emask, ey = evals
    params = hf.trainable(pm)
    initial = hf.adapter_state(pm)
    opt = make_optimizer(cfg, list(params.values()))
    t0 = time.perf_counter()
    accs = [accuracy(predict(pm, eids, emask), ey)]
    losses = []
    steps = schedule.all_steps(len(ids), cfg.batch_size, cfg.epochs, cfg.seed)
    for k, (epoch, _, b) in enumerate(steps):
        pm.train()
        opt.zero_grad()
        logits = pm(input_ids=ids[b], attention_mask=mask[b]).logits
        loss = F.cross_entropy(logits, y[b])
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if progress is not None:
            progress(k, float(loss.detach()))
        if k + 1 == len(steps) or steps[k + 1][0] != epoch:
            accs.append(accuracy(predict(pm, eids, emask), ey))
    return {"losses": losses, "eval_acc": accs, "seconds": time.perf_counter() - t0, "initial": initial,
            "final": hf.adapter_state(pm)}
