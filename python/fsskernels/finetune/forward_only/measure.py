"""Measurements for ``fsskernels bench --only forward`` (bench/cases_forward.py registers them).

``generation_vs_gradient(params, reps)``: all-MiniLM-L6-v2 truncated to ``layers`` layers,
``batch`` public random token rows of length ``seq`` (benchmark data, not secret: csprng-ok);
forward-only: ``reps`` generations of population ``population`` (one batched private forward
of population x batch rows + the prompt share + the reveal to the client), after the prepare
(embeddings cached; not timed as a step); gradient: ``reps`` private LoRA steps (forward,
loss, backward, optimizer) at the same batch and seq (finetune.benchstep.measure). Returns the
per-step seconds / bytes / rounds of both and the ratios gradient / forward-only.

``attention_softmax_vs_rfa(params, reps)``: one MiniLM self-attention (12 heads, dh 32) on
shared q, k, v taken from MiniLM layer 0 on public random tokens (so the norms are the real
model's), batch 1, for each sequence length in ``seqs``: the softmax core
(scores, softmax, @ v) and the RFA core (nn.rfa_attention.rfa_heads with ``features``
features) on shares: seconds, bytes, rounds, and the max / mean abs error against float64
softmax attention (and RFA's against its own float64 reference: the protocol error).
"""
from __future__ import annotations

import math
import statistics
import time

import numpy as np
import torch

from ... import mpc
from .. import hf
from .. import run as ft_run
from ..config import TrainConfig
from .config import ForwardOnlyConfig
from .session import PartyInputs, run_party


def _tokens(vocab, batch, seq, seed=0):
    rng = np.random.default_rng(seed)  # csprng-ok: public benchmark tokens and labels
    ids = torch.as_tensor(rng.integers(1000, vocab, size=(batch, seq)), dtype=torch.int64)
    ids[:, 0] = 101
    return ids, torch.ones(batch, seq, dtype=torch.int64), torch.as_tensor(rng.integers(0, 2, size=batch))


def generation_vs_gradient(params: dict, reps: int) -> dict:
    from ..benchstep import measure as gradient_step
    from .run import server_model

    layers, batch, seq = int(params.get("layers", 1)), int(params.get("batch", 4)), int(params.get("seq", 16))
    K, attention = int(params.get("population", 4)), params.get("attention", "softmax")
    fo = ForwardOnlyConfig(population=K, z_dim=16, prompt_len=int(params.get("prompt_len", 4)), generations=reps,
                           batch_size=batch, attention=attention, rfa_features=int(params.get("features", 32))).check()
    mdir = hf.resolve_model_dir(None)
    hc = ft_run.public_config(mdir, layers, 2)
    cfg = TrainConfig(layers=layers, seq_len=seq, train_size=batch, eval_size=1, batch_size=batch).check()
    full, _sd, _init = server_model(cfg, mdir, 2)
    ids, mask, y = _tokens(hc.vocab_size, batch, seq)
    inp = [PartyInputs(fo, hc, layers, batch, 0, seq) for _ in range(2)]
    inp[0].train_ids, inp[0].train_mask, inp[0].train_labels = ids, mask, y
    inp[1].state_dict = full
    r0, _ = mpc.run_local(lambda s: run_party(s, inp[s.party]), seed=3, timeout=3600)
    fo_step = {"seconds": statistics.median(r0["step_seconds"]), "bytes": r0["step_bytes"][-1],
               "rounds": r0["step_rounds"][-1], "samples_s": [round(x, 4) for x in r0["step_seconds"]]}
    g = gradient_step({"layers": layers, "batch": batch, "seq": seq}, reps)
    g_step = {"seconds": g["end_to_end"]["median_s"], "bytes": g["traffic"]["bytes"], "rounds": g["traffic"]["rounds"],
              "samples_s": g["end_to_end"]["samples_s"]}
    spread = {"median_s": fo_step["seconds"], "min_s": min(r0["step_seconds"]), "max_s": max(r0["step_seconds"]),
              "samples_s": fo_step["samples_s"]}
    return {"end_to_end": spread, "online": dict(spread), "online_is_end_to_end": True,
            "traffic": {"bytes": int(fo_step["bytes"]), "rounds": int(fo_step["rounds"])},
            "forward_only_step": fo_step, "gradient_step": g_step,
            "ratio_gradient_over_forward_only": {k: g_step[k] / max(fo_step[k], 1e-12)
                                                 for k in ("seconds", "bytes", "rounds")},
            "includes": f"forward-only: one generation = prompt share + one private forward of {K} x {batch} rows "
                        f"of {seq} + {fo.prompt_len} tokens + reveal to the client; gradient: forward + loss + "
                        f"backward + SGD on shares at {batch} x {seq}; dealer inside both",
            "params": {"layers": layers, "batch": batch, "seq": seq, "population": K, "attention": attention,
                       "reps": reps}}


def _minilm_qkv(seq: int, batch: int = 1):
    """float64 q, k, v heads (B, 12, T, 32) of MiniLM layer 0 on public random tokens."""
    mdir = hf.resolve_model_dir(None)
    m = hf.load_base_model(mdir, 1, 2).double()
    ids, _mask, _ = _tokens(m.config.vocab_size, batch, seq, seed=seq)
    with torch.no_grad():
        x = m.bert.embeddings(input_ids=ids)
        att = m.bert.encoder.layer[0].attention.self
        H = m.config.num_attention_heads
        dh = m.config.hidden_size // H

        def split(t):
            return t.reshape(batch, seq, H, dh).permute(0, 2, 1, 3)

        return split(att.query(x)), split(att.key(x)), split(att.value(x))


def _softmax_core(q, k, v):
    import fsskernels.mpc.functional as MF

    dh = q.shape[-1]
    scores = (q * (1.0 / math.sqrt(dh))) @ k.transpose(-1, -2)
    return MF.softmax(scores, dim=-1) @ v


def attention_softmax_vs_rfa(params: dict, reps: int) -> dict:
    from ...nn.rfa_attention import rfa_attention_plain, rfa_heads, rfa_weights

    seqs = [int(t) for t in params.get("seqs", (64, 128))]
    m = int(params.get("features", 32))
    rows = []
    for T in seqs:
        q, k, v = _minilm_qkv(T)
        dh = q.shape[-1]
        W = rfa_weights(dh, m, 7)
        ref_sm = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), -1) @ v
        ref_rfa = rfa_attention_plain(q, k, v, W)
        for kind in ("softmax", "rfa"):
            times, last = [], None
            for r in range(reps):
                def prog(s):
                    Q, K_, V = (mpc.share(s, t if s.party == 0 else None, owner=0, shape=tuple(t.shape))
                                for t in (q, k, v))
                    s.reset_stats()
                    t0 = time.perf_counter()
                    out = _softmax_core(Q, K_, V) if kind == "softmax" else rfa_heads(Q, K_, V, W)
                    dt = time.perf_counter() - t0
                    st = s.stats()["total"]
                    return out.reveal(to=0), dt, st["bytes"], st["rounds"]

                (out, dt, nb, nr), _ = mpc.run_local(prog, seed=100 + r, timeout=3600)
                times.append(dt)
                last = (out, nb, nr)
            out, nb, nr = last
            row = {"seq": T, "attention": kind, "features": m if kind == "rfa" else None,
                   "seconds": statistics.median(times), "samples_s": [round(x, 4) for x in times], "bytes": int(nb),
                   "rounds": int(nr), "max_err_vs_softmax": float((out - ref_sm).abs().max()),
                   "mean_err_vs_softmax": float((out - ref_sm).abs().mean())}
            if kind == "rfa":
                row["max_err_vs_rfa_reference"] = float((out - ref_rfa).abs().max())
                row["plaintext_rfa_mean_err_vs_softmax"] = float((ref_rfa - ref_sm).abs().mean())
            rows.append(row)
    first = rows[0]
    spread = {"median_s": first["seconds"], "min_s": min(first["samples_s"]), "max_s": max(first["samples_s"]),
              "samples_s": first["samples_s"]}
    return {"end_to_end": spread, "online": dict(spread), "online_is_end_to_end": True,
            "traffic": {"bytes": first["bytes"], "rounds": first["rounds"]}, "rows": rows,
            "includes": "attention core only (q, k, v shared; scores/softmax/@v or RFA), dealer inside, 2 threads",
            "params": {"seqs": seqs, "features": m, "batch": 1, "heads": 12, "head_dim": 32, "reps": reps}}
