"""``--compare``: gradient-based private LoRA fine-tuning on the same data, model, split and
runtime, measured beside the forward-only run (issue 19's "in one run" comparison).

Runs the gradient command's own pieces (finetune/private.py: prepare_segment, train_segment,
evaluate_segment) in this process: the prepare (embeddings cached, once), one step to
measure the step time t, then enough steps to reach (a) the forward-only run's number of
generations G (equal steps) and (b) k = round(T_fo / t) steps, T_fo = the forward-only run's
total generation time (equal wall time; capped at 2 G to bound the cost), evaluating the
held-out accuracy at both points (logits to the client only).
Per step: seconds, bytes and rounds (forward + loss + backward + optimizer on shares), and
the ratios gradient / forward-only.
"""
from __future__ import annotations

import dataclasses
import math
import sys

from ... import mpc
from .. import private


def compare_gradient(cfg, hcfg, sd, init, tr, ev, fo_private: dict, fo, *, quiet=True, timeout=600.0) -> dict:
    G = len(fo_private["step_seconds"])
    fo_time = sum(fo_private["step_seconds"])
    n_train, n_eval = len(tr[2]), len(ev[2])
    per_epoch = math.ceil(n_train / cfg.batch_size)
    cfg = dataclasses.replace(cfg, epochs=max(1, math.ceil(2 * G / per_epoch)))
    steps = private.all_steps(n_train, cfg.batch_size, cfg.epochs, cfg.seed)
    st = [private.PartyState(0, cfg, hcfg, n_train, n_eval, train_ids=tr[0], train_mask=tr[1], train_labels=tr[2],
                             eval_ids=ev[0], eval_mask=ev[1], eval_labels=ev[2]),
          private.PartyState(1, cfg, hcfg, n_train, n_eval, state_dict=sd, init=init)]
    if not quiet:
        print("compare: gradient-based private LoRA on the same data ...", file=sys.stderr)

    def first(s):
        private.prepare_segment(s, st[s.party])
        private.train_segment(s, st[s.party], steps[:1])

    mpc.run_local(first, timeout=timeout)
    t1 = st[0].log["step_seconds"][0]
    k_uncapped = max(1, round(fo_time / t1))
    k_time = int(min(2 * G, k_uncapped))
    marks = sorted({G, k_time})
    acc = {}

    def rest(s):
        done = 1
        for m in marks:
            if m > done:
                private.train_segment(s, st[s.party], steps[done:m])
                done = m
            _, a = private.evaluate_segment(s, st[s.party])
            if s.party == 0:
                acc[m] = a

    mpc.run_local(rest, timeout=timeout)
    log = st[0].log
    ph = st[0].stats
    nsteps = len(log["step_seconds"])
    per = {"seconds": sum(log["step_seconds"]) / nsteps, "bytes": sum(log["step_bytes"]) / nsteps,
           "rounds": sum(ph[k]["rounds"] for k in ("forward", "loss", "backward", "optimizer") if k in ph) / nsteps}
    fo_per = fo_private["per_step"]
    fo_acc = fo_private["acc_after"]
    return {"gradient": {"per_step": per, "steps": nsteps, "losses": log["losses"],
                         "prepare": ph.get("prepare (embeddings, masks, labels, once)")},
            "forward_only": {"per_step": fo_per, "steps": G},
            "ratio": {k: per[k] / max(fo_per[k], 1e-12) for k in ("seconds", "bytes", "rounds")},
            "equal_steps": {"forward_only": fo_acc, "fo_steps": G, "gradient": acc[G], "grad_steps": G},
            "equal_time": {"forward_only": fo_acc, "fo_steps": G, "gradient": acc[k_time], "grad_steps": k_time,
                           "fo_seconds": fo_time, "grad_step_seconds_first": t1,
                           "capped_from": k_uncapped if k_uncapped != k_time else None}}
