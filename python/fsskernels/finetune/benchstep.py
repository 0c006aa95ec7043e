"""One private LoRA fine-tuning step, measured: the entry for ``fsskernels bench``'s finetune case.

``measure(params, reps)`` builds all-MiniLM-L6-v2 truncated to ``params["layers"]`` layers,
makes ``params["batch"]`` public random token rows of length ``params["seq"]`` (benchmark
data, not secret: csprng-ok), runs the prepare segment (embeddings cached; not timed as a
step) and then ``reps`` training steps on shares in one session (forward, cross-entropy with
secret labels, backward, SGD-momentum update of the shared adapters). Returns
  end_to_end / online: seconds per step (median, min, max, samples); dealer material is
                       made on demand inside each step, so both are the end-to-end time
                       (``online_is_end_to_end`` says so);
  traffic:             bytes (both directions) and rounds of one step (the last);
  per_layer_type:      per phase of a step (forward, loss, backward, optimizer):
                       {"s": seconds, "bytes": bytes, "rounds": rounds}, averaged over the steps.
To register it: ``fsskernels.bench.cases_finetune.ENTRY = fsskernels.finetune.benchstep.measure``.
"""
from __future__ import annotations

import statistics

import numpy as np
import torch

from .. import mpc
from . import hf, private, run
from .config import TrainConfig

PHASES = ("forward", "loss", "backward", "optimizer")


def measure(params: dict, reps: int) -> dict:
    layers, batch, seq = int(params.get("layers", 1)), int(params.get("batch", 8)), int(params.get("seq", 16))
    if reps < 1:
        raise ValueError(f"reps: must be >= 1, got {reps}")
    cfg = TrainConfig(layers=layers, seq_len=seq, train_size=batch, eval_size=1, epochs=reps, batch_size=batch,
                      seed=0).check()
    mdir = hf.resolve_model_dir(None)
    rng = np.random.default_rng(0)  # csprng-ok: public benchmark tokens and labels
    hc = run.public_config(mdir, layers, 2)
    ids = torch.as_tensor(rng.integers(1000, hc.vocab_size, size=(batch, seq)), dtype=torch.int64)
    ids[:, 0] = 101
    mask = torch.ones(batch, seq, dtype=torch.int64)
    y = torch.as_tensor(rng.integers(0, 2, size=batch), dtype=torch.int64)
    _, sd, init = run.server_inputs(cfg, mdir, 2)
    st0 = private.PartyState(0, cfg, hc, batch, 1, train_ids=ids, train_mask=mask, train_labels=y, eval_ids=ids[:1],
                             eval_mask=mask[:1], eval_labels=y[:1])
    st1 = private.PartyState(1, cfg, hc, batch, 1, state_dict=sd, init=init)
    mpc.run_local(lambda s: private.prepare_segment(s, (st0, st1)[s.party]), seed=1, timeout=3600)
    for st in (st0, st1):
        st.stats = {}
    steps = [(e, 0, list(range(batch))) for e in range(reps)]
    mpc.run_local(lambda s: private.train_segment(s, (st0, st1)[s.party], steps), seed=2, timeout=3600)
    secs = st0.log["step_seconds"][-reps:]
    per = {k: {"s": v["seconds"] / reps, "bytes": v["bytes"] // reps, "rounds": v["rounds"] // reps}
           for k, v in st0.stats.items() if k in PHASES}
    spread = {"median_s": statistics.median(secs), "min_s": min(secs), "max_s": max(secs),
              "samples_s": [round(x, 6) for x in secs]}
    step_rounds = sum(v["rounds"] for v in per.values())
    return {"end_to_end": spread, "online": dict(spread), "online_is_end_to_end": True,
            "traffic": {"bytes": int(st0.log["step_bytes"][-1]), "rounds": int(step_rounds)},
            "per_layer_type": per, "params": {"layers": layers, "batch": batch, "seq": seq, "reps": reps}}
