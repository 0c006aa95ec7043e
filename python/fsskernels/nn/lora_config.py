"""LoRA settings and peft's parameter names.

``LoraSettings(r, alpha, dropout, target_modules)`` mirrors peft's LoraConfig fields we use
(``lora_alpha`` -> alpha; scaling alpha / r, no rsLoRA). A linear layer is adapted when the
last component of its module name equals one of ``target_modules`` (peft's rule for a list
of names), e.g. "query" matches bert.encoder.layer.3.attention.self.query.

Names: our ``parameters()`` names are the module path plus the Param name
(``bert.encoder.layer.0.attention.self.query.lora_A``, ``classifier.weight``); peft's
saved-adapter names (get_peft_model_state_dict) are ``base_model.model.<path>.lora_A.weight``
and ``base_model.model.classifier.weight`` (modules_to_save).
"""
from __future__ import annotations

from dataclasses import dataclass

PEFT_PREFIX = "base_model.model."


@dataclass(frozen=True)
class LoraSettings:
    r: int = 8
    alpha: float = 16.0
    dropout: float = 0.0
    target_modules: tuple = ("query", "value")

    def __post_init__(self) -> None:
        if isinstance(self.r, bool) or not isinstance(self.r, int) or self.r < 1:
            raise ValueError(f"r: must be a positive integer, got {self.r!r}")
        if not float(self.alpha) > 0:
            raise ValueError(f"alpha: must be positive, got {self.alpha!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout: must be in [0, 1), got {self.dropout!r}")
        if isinstance(self.target_modules, str) or not all(isinstance(t, str) for t in self.target_modules):
            raise ValueError(f"target_modules: expected a sequence of module names, got {self.target_modules!r}")
        object.__setattr__(self, "target_modules", tuple(self.target_modules))

    def targets(self, module_name: str) -> bool:
        return module_name.rsplit(".", 1)[-1] in self.target_modules


def to_peft_name(name: str) -> str:
    """Our parameter name -> peft's saved-adapter name."""
    if name.endswith(".lora_A") or name.endswith(".lora_B"):
        return f"{PEFT_PREFIX}{name}.weight"
    return f"{PEFT_PREFIX}{name}"


def from_peft_name(name: str) -> str:
    """peft's name (saved form, or the live form with ``.default`` / ``modules_to_save``)
    -> our parameter name."""
    n = name[len(PEFT_PREFIX):] if name.startswith(PEFT_PREFIX) else name
    n = n.replace(".modules_to_save.default.", ".").replace(".lora_A.default.", ".lora_A.")
    n = n.replace(".lora_B.default.", ".lora_B.")
    for ab in (".lora_A.weight", ".lora_B.weight"):
        if n.endswith(ab):
            n = n[: -len(".weight")]
    return n
