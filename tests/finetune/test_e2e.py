"""End to end: `fsskernels finetune` on a tiny random BERT vs its plaintext peft twin (same data, order,
initial adapters, hyperparameters): loss curves within 0.01 per step, same held-out predictions,
exported peft adapter predicts like the private model; log and plots written."""
import json

import pytest

from finetune_helpers import needs_hf, tiny_csv, tiny_model_dir

pytestmark = needs_hf

ARGS = ["--layers", "1", "--seq-len", "8", "--train-size", "8", "--eval-size", "8", "--batch-size", "4",
        "--epochs", "2", "--lr", "0.5", "--quiet", "--dealer-seed", "3"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    return tiny_model_dir(d / "model"), tiny_csv(d / "data.csv")


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_private_matches_twin(tiny, tmp_path, optimizer, capsys):
    from fsskernels.cli import main

    model, csv = tiny
    extra = ["--optimizer", "adamw", "--lr", "0.02"] if optimizer == "adamw" else []
    rc = main(["finetune", "--model", str(model), "--dataset", str(csv), "--out", str(tmp_path), *ARGS, *extra])
    out = capsys.readouterr().out
    assert rc == 0
    assert "held-out accuracy after" in out and "plaintext twin" in out
    log = json.loads((tmp_path / "finetune_log.json").read_text())
    p, t = log["private"], log["twin"]
    assert len(p["losses"]) == len(t["losses"]) == 4
    diffs = [abs(a - b) for a, b in zip(p["losses"], t["losses"])]
    assert max(diffs) < 0.01, diffs
    # training moved the loss (a frozen model would repeat ln 2 = 0.693)
    assert max(abs(v - 0.6931) for v in t["losses"]) > 0.02
    assert abs(p["acc_after"] - t["acc_after"]) <= 1 / 8 + 1e-9
    assert p["agreement"] == 1.0 and p["exported_logit_max_abs_diff"] < 0.02
    assert p["bytes"] > 0 and p["rounds"] > 0 and log["peak_rss_mb"] > 0
    for f in ("loss.png", "accuracy.png", "adapter/adapter_config.json", "adapter/adapter_model.safetensors",
              "party0.safetensors", "party1.safetensors"):
        assert (tmp_path / f).is_file(), f
