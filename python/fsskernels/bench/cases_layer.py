"""Layer cases: one MiniLM-size BERT encoder layer (hidden 384, 12 heads, FFN 1536) with LoRA
(r = 8 on query and value) forward + backward on shares at batch 8 x seq 64 (``--quick``:
batch 1 x seq 4), beside CrypTen 0.4.1 on the same layer (bench/peers/crypten_layer.py,
peer key "crypten:encoder_layer_lora").

Ours: ``fsskernels.nn`` (``LayerBuilder(...).layer(0)``: frozen linears owned by party 1, LoRA
A/B and the input X and upstream gradient G of party 0, dropout off, no attention mask) built
from a synthetic MiniLM config and random weights (public benchmark data; BERT-like init 0.02,
LoRA B non-zero so every gradient is), timed by mpcmeasure.measure_two_party with compute =
forward + backward (including dX). The error is the output's against the nn float64 twin.
``ENTRY`` can be replaced by another ``measure(batch, seq, reps) -> dict``. If the nn API is not
there, the case is skipped with the reason and the peer is still measured.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

from .registry import Case, Skip, register

HIDDEN, HEADS, FFN, RANK = 384, 12, 1536, 8


def _weights(seed: int = 0):
    """(config, frozen state dict of encoder.layer.0, LoRA init) - public benchmark data. csprng-ok"""
    import torch
    from transformers import BertConfig

    cfg = BertConfig(hidden_size=HIDDEN, num_attention_heads=HEADS, intermediate_size=FFN, hidden_act="gelu",
                     hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, layer_norm_eps=1e-5)
    g = torch.Generator().manual_seed(seed)  # csprng-ok: public benchmark weights

    def rnd(*shape, std=0.02, mean=0.0):
        return mean + std * torch.randn(*shape, generator=g, dtype=torch.float64)

    p, sd = "encoder.layer.0", {}
    for path, fin, fout in ((f"{p}.attention.self.query", HIDDEN, HIDDEN), (f"{p}.attention.self.key", HIDDEN, HIDDEN),
                            (f"{p}.attention.self.value", HIDDEN, HIDDEN), (f"{p}.attention.output.dense", HIDDEN, HIDDEN),
                            (f"{p}.intermediate.dense", HIDDEN, FFN), (f"{p}.output.dense", FFN, HIDDEN)):
        sd[f"{path}.weight"], sd[f"{path}.bias"] = rnd(fout, fin), rnd(fout)
    for path in (f"{p}.attention.output.LayerNorm", f"{p}.output.LayerNorm"):
        sd[f"{path}.weight"], sd[f"{path}.bias"] = rnd(HIDDEN, mean=1.0), rnd(HIDDEN)
    init = {}
    for m in ("query", "value"):
        base = f"bert.{p}.attention.self.{m}"
        init[f"{base}.lora_A"] = rnd(RANK, HIDDEN, std=HIDDEN ** -0.5)
        init[f"{base}.lora_B"] = rnd(HIDDEN, RANK)
    return cfg, sd, init


def nn_layer_measure(batch: int, seq: int, reps: int) -> dict[str, Any]:
    import torch

    from .. import mpc
    from ..nn import twin
    from ..nn.bert import LayerBuilder
    from ..nn.lora_config import LoraSettings
    from .mpcmeasure import measure_two_party

    cfg, sd, init = _weights()
    lora = LoraSettings(r=RANK, alpha=2.0 * RANK, target_modules=("query", "value"))
    g = torch.Generator().manual_seed(1)  # csprng-ok: public benchmark inputs
    x = torch.randn(batch, seq, HIDDEN, generator=g, dtype=torch.float64)
    gy = 0.01 * torch.randn(batch, seq, HIDDEN, generator=g, dtype=torch.float64)
    shape = (batch, seq, HIDDEN)

    def setup(s):
        layer = LayerBuilder(s, cfg, sd if s.party == 1 else None, init if s.party == 0 else None, lora).layer(0)
        layer.eval()
        X = mpc.share(s, x if s.party == 0 else None, owner=0, shape=shape)
        G = mpc.share(s, gy if s.party == 0 else None, owner=0, shape=shape)
        return layer, X, G

    def compute(s, inputs):
        layer, X, G = inputs
        y = layer(X, None)
        layer.backward(G, need_input_grad=True)
        return y

    tw = twin.TwinBertClassifier(cfg, {**sd, "pooler.dense.weight": torch.zeros(1), "pooler.dense.bias": torch.zeros(1)},
                                 lora=lora, init=init)
    with torch.no_grad():
        ref = tw.layer(0, x, torch.ones(batch, seq, dtype=torch.float64))
    rec = measure_two_party(setup, compute, reps, reference=ref)
    rec["includes"] += "; forward + backward (LoRA A/B and input gradients), frozen weights masked in set-up"
    return rec


# Replaceable: a function measure(batch, seq, reps) -> dict (see the docstring).
ENTRY: Callable[[int, int, int], dict[str, Any]] | None = nn_layer_measure


def _requires() -> str | None:
    try:
        importlib.import_module("fsskernels.nn")
        importlib.import_module("fsskernels.nn.twin")
        importlib.import_module("fsskernels.mpc.functional")
        importlib.import_module("transformers")
    except ImportError as exc:
        return f"fsskernels.nn (with its twin), the gates or transformers are not available ({exc})"
    if ENTRY is None:
        return "fsskernels.nn exists but no encoder-layer benchmark entry is registered (cases_layer.ENTRY)"
    return None


def _measure(params: dict[str, Any], reps: int) -> dict[str, Any]:
    if ENTRY is None:
        raise Skip("no encoder-layer benchmark entry")
    return ENTRY(int(params["batch"]), int(params["seq"]), reps)


register(Case("layer", "encoder_layer_lora", _measure, params={"batch": 8, "seq": 64},
              quick_params={"batch": 1, "seq": 4}, requires=_requires, peer="crypten:encoder_layer_lora",
              description="MiniLM encoder layer + LoRA r8 (q, v): forward + backward"))
