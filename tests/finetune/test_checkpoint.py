"""Checkpoints: round trip, header validation, and no torn file after SIGKILL mid-write."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from fsskernels.finetune import checkpoint as ck

needs_st = pytest.mark.skipif(__import__("importlib.util").util.find_spec("safetensors") is None, reason="safetensors")
pytestmark = needs_st


def _state(k=0):
    params = {"a.lora_A.weight": torch.arange(12, dtype=torch.int64).reshape(3, 4) + k, "classifier.bias": torch.tensor([-1, 2 ** 62])}
    opt = {"t": 3 + k, "tensors": {"momentum_buffer": torch.arange(14, dtype=torch.int64) * -5}, "frac_bits": 16}
    return params, opt


def test_round_trip(tmp_path):
    params, opt = _state()
    ck.save(tmp_path, 1, step=7, fingerprint="abc", params=params, opt_state=opt, log={"loss": [0.5]})
    got = ck.load(tmp_path, 1, fingerprint="abc", shapes={n: v.shape for n, v in params.items()})
    assert got["step"] == 7 and got["opt"]["t"] == 3 and got["log"] == {"loss": [0.5]}
    assert list(got["params"]) == list(params)
    assert all(torch.equal(got["params"][n], params[n]) for n in params)
    assert torch.equal(got["opt"]["tensors"]["momentum_buffer"], opt["tensors"]["momentum_buffer"])
    assert ck.load(tmp_path, 0) is None  # no checkpoint of party 0 here
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_validation(tmp_path):
    params, opt = _state()
    ck.save(tmp_path, 0, step=1, fingerprint="abc", params=params, opt_state=opt)
    with pytest.raises(ck.CheckpointError, match="other settings"):
        ck.load(tmp_path, 0, fingerprint="xyz")
    with pytest.raises(ck.CheckpointError, match="shape"):
        ck.load(tmp_path, 0, shapes={"a.lora_A.weight": (4, 3), "classifier.bias": (2,)})
    with pytest.raises(ck.CheckpointError, match="differ"):
        ck.load(tmp_path, 0, shapes={"other": (2,)})
    # another party's file renamed: refused by the header
    os.replace(ck.path_for(tmp_path, 0), ck.path_for(tmp_path, 1))
    with pytest.raises(ck.CheckpointError, match="belongs to party 0"):
        ck.load(tmp_path, 1)
    # garbage and truncated files: clear errors
    ck.path_for(tmp_path, 1).write_bytes(b"\x00" * 40)
    with pytest.raises(ck.CheckpointError, match="not a valid"):
        ck.load(tmp_path, 1)
    with pytest.raises(ck.CheckpointError, match="int64"):
        ck.save(tmp_path, 0, step=1, fingerprint="a", params={"x": torch.zeros(2)}, opt_state=opt)
    from safetensors.torch import save_file
    save_file({"param/x": torch.zeros(2, dtype=torch.int64)}, str(ck.path_for(tmp_path, 0)), metadata={"format": "other"})
    with pytest.raises(ck.CheckpointError, match="format"):
        ck.load(tmp_path, 0)
    save_file({"param/x": torch.zeros(2, dtype=torch.int64)}, str(ck.path_for(tmp_path, 0)),
              metadata={"format": ck.FORMAT, "version": "99"})
    with pytest.raises(ck.CheckpointError, match="version"):
        ck.load(tmp_path, 0)


def test_sigkill_never_leaves_a_torn_checkpoint(tmp_path):
    """A writer saving ever-changing 2 MB checkpoints in a loop is SIGKILLed; the file that remains loads
    and is exactly one of the complete versions."""
    script = textwrap.dedent(f"""
        import sys, torch
        from fsskernels.finetune import checkpoint as ck
        k = 0
        while True:
            p = {{"w": torch.full((256, 1024), k, dtype=torch.int64)}}
            ck.save({str(tmp_path)!r}, 0, step=k, fingerprint="f", params=p, opt_state={{"t": k, "tensors": {{}}}})
            if k == 0:
                print("ready", flush=True)
            k += 1
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    got = ck.load(tmp_path, 0, fingerprint="f")
    k = got["step"]
    assert k >= 1 and got["opt"]["t"] == k
    assert torch.equal(got["params"]["w"], torch.full((256, 1024), k, dtype=torch.int64))
