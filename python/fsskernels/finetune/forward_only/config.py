"""Settings of a forward-only tuning run (``fsskernels finetune --method forward-only``).

``ForwardOnlyConfig.check()`` validates every field once and raises ValueError naming the
command-line option (population, z-dim, prompt-len, rfa-features, shots, ...).
Defaults: population 4, z of dimension 16, 4 prompt vectors, 8 generations; the command takes
the minibatch size from the gradient command's --batch-size (default 8: 32 rows per batched
forward, ~1 minute per generation with 1 MiniLM layer at 16 tokens on 2 cores).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

OPTIMIZERS = ("cma", "spsa")
ATTENTIONS = ("softmax", "rfa")
TARGETS = ("prompt", "lora")


def _int(name: str, v, lo: int, hi: int | None = None) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
        rng = f">= {lo}" if hi is None else f"in {lo}..{hi}"
        raise ValueError(f"{name}: must be an integer {rng}, got {v!r}")


@dataclass
class ForwardOnlyConfig:
    population: int = 4          # candidates per generation (CMA-ES popsize; SPSA: 2 x directions)
    z_dim: int = 16              # dimension of the client's search vector z
    prompt_len: int = 4          # soft-prompt vectors inserted after [CLS]
    generations: int = 8         # optimizer steps (one batched private forward each)
    batch_size: int = 4          # examples per generation (each evaluated for every candidate)
    optimizer: str = "cma"
    sigma0: float = 1.0          # CMA-ES initial step size (in z units)
    spsa_lr: float = 0.5         # SPSA step size
    spsa_eps: float = 0.5        # SPSA perturbation size
    prompt_scale: float = 1.0    # std of the prompt entries for z ~ N(0, I) (P entries ~ N(0, scale^2 / z_dim))
    attention: str = "softmax"
    rfa_features: int = 32       # random features per head for attention="rfa"
    shots: int | None = None     # few-shot: this many training examples per class
    target: str = "prompt"       # prompt (soft prompt) | lora (LoRA A/B from z, lora_target.py)
    lora_r: int = 2              # target="lora": rank of the adapters
    lora_targets: tuple = ("query", "value")
    lora_scale: float = 0.1      # target="lora": std of the adapter entries for z ~ N(0, I)
    seed: int = 0                # public: projection, RFA matrix, batch order, optimizer sampling

    def check(self) -> "ForwardOnlyConfig":
        _int("population", self.population, 2, 256)
        _int("z-dim", self.z_dim, 1, 4096)
        _int("prompt-len", self.prompt_len, 1, 64)
        _int("generations", self.generations, 1)
        _int("batch-size", self.batch_size, 1)
        _int("rfa-features", self.rfa_features, 1, 4096)
        _int("seed", self.seed, 0)
        if self.shots is not None:
            _int("shots", self.shots, 1)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer-fo: must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention: must be one of {', '.join(ATTENTIONS)}, got {self.attention!r}")
        if self.target not in TARGETS:
            raise ValueError(f"fo-target: must be one of {', '.join(TARGETS)}, got {self.target!r}")
        _int("lora-r", self.lora_r, 1, 256)
        self.lora_targets = tuple(self.lora_targets)
        if not self.lora_targets or any(t not in ("query", "key", "value") for t in self.lora_targets):
            raise ValueError(f"target-modules: a comma list of query,key,value, got {self.lora_targets!r}")
        if self.optimizer == "spsa" and self.population % 2:
            raise ValueError(f"population: SPSA evaluates +/- pairs, needs an even population, got {self.population}")
        for n in ("sigma0", "spsa_lr", "spsa_eps", "prompt_scale", "lora_scale"):
            v = getattr(self, n)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < float(v) < 100:
                raise ValueError(f"{n.replace('_', '-')}: must be a number in (0, 100), got {v!r}")
        return self

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        d["lora_targets"] = list(self.lora_targets)
        return d
