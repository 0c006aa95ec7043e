"""Resume after SIGKILL reaches bit-identical adapters; three processes (client, server, dealer) give the
same adapters as one process; both with the seeded test dealer (--dealer-seed)."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from finetune_helpers import needs_hf, tiny_csv, tiny_model_dir
from net_ports import free_port_range

pytestmark = needs_hf

BASE = ["--layers", "1", "--seq-len", "8", "--train-size", "8", "--eval-size", "4", "--batch-size", "4",
        "--epochs", "2", "--lr", "0.5", "--quiet", "--dealer-seed", "11", "--no-twin", "--checkpoint-every", "1"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    return tiny_model_dir(d / "model"), tiny_csv(d / "data.csv")


def _cmd(model, csv, out, *extra):
    return [sys.executable, "-m", "fsskernels.cli", "finetune", "--model", str(model), "--dataset", str(csv),
            "--out", str(out), *BASE, *extra]


def _env():
    return {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}


def _adapter_bytes(out):
    return (out / "adapter" / "adapter_model.safetensors").read_bytes()


def _shares(out):
    """Both parties' final adapter and optimizer shares (ring elements: they depend on all the run's randomness)."""
    from safetensors.torch import load_file

    return [load_file(str(out / f"party{p}.safetensors")) for p in (0, 1)]


def _same_shares(a, b):
    import torch

    return all(set(x) == set(y) and all(torch.equal(x[k], y[k]) for k in x) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def reference_run(tiny, tmp_path_factory):
    """One uninterrupted single-process run (the reference of both tests)."""
    model, csv = tiny
    ref = tmp_path_factory.mktemp("ref")
    r = subprocess.run(_cmd(model, csv, ref), env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return ref


def test_sigkill_then_resume_is_bit_identical(tiny, reference_run, tmp_path):
    model, csv = tiny
    ref = reference_run
    run = tmp_path / "run"
    proc = subprocess.Popen(_cmd(model, csv, run), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    prog = run / "progress.json"
    deadline = time.time() + 240
    try:
        while time.time() < deadline and proc.poll() is None:
            if prog.exists() and json.loads(prog.read_text())["step"] >= 2:
                break
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    step = json.loads(prog.read_text())["step"]
    assert 2 <= step < 4, step  # killed mid-run, after a checkpoint
    assert not (run / "adapter").exists()
    r = subprocess.run(_cmd(model, csv, run, "--resume"), env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert _adapter_bytes(run) == _adapter_bytes(ref)
    # the shares (not only the revealed values, which exact truncation makes deterministic) are identical:
    # the resumed segments used the same dealer material and party randomness as the uninterrupted run
    assert _same_shares(_shares(run), _shares(ref))
    segs = json.loads((run / "finetune_log.json").read_text())
    assert segs["private"]["steps"] == 4


def test_three_processes_equal_one_process(tiny, reference_run, tmp_path):
    model, csv = tiny
    one = reference_run
    net = tmp_path / "net"
    port = free_port_range(16)  # segment k binds port + 2k and port + 2k + 1
    procs = {role: subprocess.Popen(_cmd(model, csv, net, "--role", role, "--port", str(port), "--num-labels", "2",
                                         "--timeout", "120", "--plaintext"),
                                    env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for role in ("dealer", "server", "client")}
    outs = {}
    for role, p in procs.items():
        o, e = p.communicate(timeout=300)
        assert p.returncode == 0, (role, e[-2000:])
        outs[role] = json.loads(o.strip().splitlines()[-1])
    assert (net / "adapter" / "adapter_model.safetensors").read_bytes() == _adapter_bytes(one)
    assert _same_shares(_shares(net), _shares(one))
    log = json.loads((one / "finetune_log.json").read_text())
    client_log = json.loads((net / "finetune_log_client.json").read_text())
    assert client_log["losses"] == log["private"]["losses"] and len(client_log["losses"]) == 4
    assert outs["client"]["eval_acc"] == log["private"]["acc_after"]
    assert outs["dealer"]["pieces_served"] > 0
