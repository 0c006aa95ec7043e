"""--compare on a tiny BERT: the gradient-based private LoRA steps run on the same data, the
per-step costs and ratios are computed from their own logs, the held-out accuracy is taken at
equal steps and at equal wall time (the equal-time step count is capped at 2 x generations)."""
import pytest
import torch

from fsskernels.finetune.config import TrainConfig
from fsskernels.finetune.forward_only.compare import compare_gradient

from fo_helpers import fo_config, gen, tiny_model, tiny_task

pytest.importorskip("transformers")


def test_compare_gradient_on_a_tiny_bert():
    hc, sd = tiny_model()
    d, r = hc.hidden_size, 2
    frozen = {k: v for k, v in sd.items() if not k.startswith("classifier.")}
    init = {"base_model.model.classifier.weight": sd["classifier.weight"],
            "base_model.model.classifier.bias": sd["classifier.bias"]}
    for i, m in enumerate(("query", "value")):
        p = f"base_model.model.bert.encoder.layer.0.attention.self.{m}"
        init[f"{p}.lora_A.weight"] = torch.randn(r, d, generator=gen(40 + i), dtype=torch.float64) * 0.1
        init[f"{p}.lora_B.weight"] = torch.zeros(d, r, dtype=torch.float64)
    ids, mask, labels = tiny_task(4)
    cfg = TrainConfig(layers=1, seq_len=ids.shape[1], train_size=4, eval_size=4, batch_size=2, lora_r=r,
                      lora_alpha=2.0).check()
    fo = fo_config(generations=2)
    fo_private = {"step_seconds": [100.0, 100.0], "acc_after": 0.5,
                  "per_step": {"seconds": 100.0, "bytes": 1e6, "rounds": 50.0}}
    out = compare_gradient(cfg, hc, frozen, init, (ids, mask, labels), (ids, mask, labels), fo_private, fo)
    g = out["gradient"]
    assert g["steps"] == 4 and len(g["losses"]) == 4          # equal time: 200 s / step time, capped at 2 x 2
    assert out["equal_time"]["grad_steps"] == 4 and out["equal_time"]["capped_from"] > 4
    assert out["equal_steps"]["grad_steps"] == 2
    for k in ("equal_steps", "equal_time"):
        assert 0.0 <= out[k]["gradient"] <= 1.0 and out[k]["forward_only"] == 0.5
    assert g["per_step"]["bytes"] > 0 and g["per_step"]["rounds"] > 0
    assert out["ratio"]["bytes"] == pytest.approx(g["per_step"]["bytes"] / 1e6)
