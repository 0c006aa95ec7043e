"""peft export round trip: exported adapters load with PeftModel.from_pretrained and predict like the source model."""
import json

import pytest
import torch

from fsskernels.finetune import config, export, hf
from finetune_helpers import needs_hf

pytestmark = needs_hf


def test_export_round_trip(tmp_path):
    cfg = config.TrainConfig(layers=1, seq_len=8, lora_r=4, lora_alpha=8).check()
    pm, mdir = hf.build_peft_model(cfg, 3)
    g = torch.Generator().manual_seed(3)  # test data only
    state = {k: torch.randn(v.shape, generator=g, dtype=torch.float64) * 0.2 for k, v in hf.adapter_state(pm).items()}
    hf.load_adapter_state(pm, state)
    out = export.export_peft(tmp_path / "adapter", state, cfg, 3, mdir)
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    ac = json.loads((out / "adapter_config.json").read_text())
    assert ac["r"] == 4 and ac["lora_alpha"] == 8 and sorted(ac["target_modules"]) == ["query", "value"]
    loaded = export.load_exported(out)
    tok = hf.load_tokenizer(mdir)
    ids, mask = hf.tokenize(tok, ["a fine film", "dull and long", "x"], 8)
    with torch.no_grad():
        want = pm.eval()(input_ids=ids, attention_mask=mask).logits
        got = loaded(input_ids=ids, attention_mask=mask).logits
    assert torch.allclose(got, want, atol=1e-6)
    # the adapters really changed the output (a broken load that kept the init would differ)
    hf.load_adapter_state(pm, {k: torch.zeros_like(v) for k, v in state.items()})
    with torch.no_grad():
        zero = pm(input_ids=ids, attention_mask=mask).logits
    assert not torch.allclose(zero, want, atol=1e-3)


def test_export_rejects_bad_input(tmp_path):
    cfg = config.TrainConfig(layers=1).check()
    with pytest.raises(ValueError, match="no adapters"):
        export.export_peft(tmp_path, {}, cfg, 2, "m")
    with pytest.raises(ValueError, match="float"):
        export.export_peft(tmp_path, {"classifier.bias": torch.zeros(2, dtype=torch.int64)}, cfg, 2, "m")
