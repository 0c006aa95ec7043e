"""The forward-only tuning loop, shared by the private run and its plaintext counterpart.

``schedule(n_train, batch_size, generations, seed)``: the public minibatch order (which cached
rows each generation uses; row contents stay secret). ``tune(cfg, evaluate, labels, ...)``:
for each generation the client asks the optimizer for K candidates, ``evaluate(Z, idx)``
returns the logits (K * B, C) to the client (None at the server), the client computes the
per-candidate losses and tells the optimizer. The server runs the same loop with Z = None
(SPMD: the number of generations and the shapes are public).
Log: per generation the population's mean and best loss, seconds, and what ``cost()`` adds
(bytes, rounds of the private run).
"""
from __future__ import annotations

import time

import numpy as np
import torch

from . import optimizers
from .population import candidate_losses


def schedule(n_train: int, batch_size: int, generations: int, seed: int) -> list:
    if batch_size > n_train:
        raise ValueError(f"batch-size: {batch_size} exceeds the {n_train} training examples")
    rng = np.random.default_rng(int(seed) + 7)  # csprng-ok: public minibatch order
    out, perm = [], []
    for _ in range(generations):
        if len(perm) < batch_size:
            perm = list(rng.permutation(n_train))
        out.append(torch.tensor(sorted(perm[:batch_size]), dtype=torch.int64))
        perm = perm[batch_size:]
    return out


def tune(cfg, evaluate, labels, n_train: int, *, is_client: bool, on_gen=None, cost=None) -> dict:
    """Runs cfg.generations steps; returns {"best_z", "losses", "best_losses", "step_seconds", ...}
    (the losses and z at the client only)."""
    opt = optimizers.make(cfg) if is_client else None
    if is_client and (labels is None or len(labels) != n_train):
        raise ValueError(f"labels: the client passes the {n_train} training labels")
    sched = schedule(n_train, cfg.batch_size, cfg.generations, cfg.seed)
    log = {"losses": [], "best_losses": [], "step_seconds": [], "step_bytes": [], "step_rounds": []}
    for g, idx in enumerate(sched):
        t0 = time.perf_counter()
        c0 = cost() if cost else None
        Z = opt.ask() if is_client else None
        logits = evaluate(Z, idx)
        if is_client:
            L = candidate_losses(logits, labels[idx], cfg.population)
            opt.tell(L.tolist())
            log["losses"].append(float(L.mean()))
            log["best_losses"].append(float(L.min()))
        log["step_seconds"].append(time.perf_counter() - t0)
        if cost:
            c1 = cost()
            log["step_bytes"].append(c1[0] - c0[0])
            log["step_rounds"].append(c1[1] - c0[1])
        if on_gen:
            on_gen(g, log)
    log["best_z"] = opt.best() if is_client else None
    return log
