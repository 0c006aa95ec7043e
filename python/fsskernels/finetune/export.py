"""Export revealed adapters as a peft LoRA adapter that ``PeftModel.from_pretrained`` loads.

Computes, from plaintext adapters (canonical names as in ``hf.trainable`` or peft's saved
names with the ``base_model.model.`` prefix), a directory with
  - adapter_config.json   written by peft's own ``LoraConfig.save_pretrained`` (r, alpha,
                          dropout, target modules, modules_to_save=["classifier"], SEQ_CLS);
  - adapter_model.safetensors  float32 tensors named ``base_model.model.<canonical name>``
                          (the names peft's ``save_pretrained`` writes), metadata format=pt;
  - fsskernels_base.json  how to build the matching base model: model dir, number of encoder
                          layers kept (the adapters belong to a truncated encoder), num_labels.
Files are written atomically (temp + fsync + replace). ``load_exported`` rebuilds the
plaintext model (truncated base + the adapter) for predictions.

Only the party the adapters were revealed to can export; with ``--reveal-to none`` the
adapters stay shared and nothing is exported.
"""
from __future__ import annotations

import json
import pathlib

import torch

from . import hf
from .checkpoint import atomic_write_bytes

PREFIX = "base_model.model."


def _canonical(name: str) -> str:
    return name[len(PREFIX):] if name.startswith(PREFIX) else name


def export_peft(out_dir, adapters: dict, cfg, num_labels: int, model_dir) -> pathlib.Path:
    from safetensors.torch import save

    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for n, v in adapters.items():
        t = torch.as_tensor(v)
        if not t.is_floating_point():
            raise ValueError(f"export: adapter {n} must be a float tensor (revealed values), got {t.dtype}")
        tensors[PREFIX + _canonical(n)] = t.detach().to(torch.float32).contiguous().cpu()
    if not tensors:
        raise ValueError("export: no adapters to export")
    lc = hf.lora_config(cfg)
    lc.base_model_name_or_path = str(model_dir)
    lc.save_pretrained(str(out))  # peft's own writer of adapter_config.json
    atomic_write_bytes(out / "adapter_model.safetensors", save(tensors, metadata={"format": "pt"}))
    atomic_write_bytes(out / "fsskernels_base.json", json.dumps(
        {"model": str(model_dir), "layers": cfg.layers, "num_labels": num_labels}, indent=2).encode())
    return out


def load_exported(adapter_dir, model_dir=None):
    """The plaintext PeftModel (eval mode) for an exported adapter directory."""
    from peft import PeftModel

    d = pathlib.Path(adapter_dir)
    base_info = json.loads((d / "fsskernels_base.json").read_text())
    mdir = hf.resolve_model_dir(model_dir or base_info["model"])
    base = hf.load_base_model(mdir, int(base_info["layers"]), int(base_info["num_labels"]))
    return PeftModel.from_pretrained(base, str(d)).eval()
