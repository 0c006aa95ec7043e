"""The command line: help and exit codes, and bad inputs as one clear line with a non-zero exit code."""
import subprocess
import sys

import pytest

from fsskernels.cli import COMMANDS, main
from finetune_helpers import needs_hf, tiny_csv, tiny_model_dir
from net_ports import free_port_range


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for c in COMMANDS:
        assert f"  {c}" in out
    assert "finetune" in out
    assert main([]) == 2
    assert main(["nope"]) == 2
    assert "unknown command" in capsys.readouterr().err


def test_finetune_help_exits_zero(capsys):
    assert main(["finetune", "--help"]) == 0
    out = capsys.readouterr().out
    for opt in ("--dataset", "--reveal-to", "--federated", "--resume", "--role", "--optimizer", "--target-modules"):
        assert opt in out


def _run(argv, capsys):
    rc = main(["finetune", "--quiet", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    return rc, err


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return tiny_model_dir(tmp_path_factory.mktemp("m") / "model")


@needs_hf
@pytest.mark.parametrize("content,msg", [
    ("text,label\n", "empty dataset"),
    ("text,label\ngood film,1\nbad film,\n", "no label"),
    ("text,label\ngood film,1\nbad film,5\n", "labels out of range"),
])
def test_bad_datasets(tmp_path, tiny_model, capsys, content, msg):
    p = tmp_path / "d.csv"
    p.write_text(content)
    extra = ["--num-labels", "2"] if "5" in content else []
    rc, err = _run(["--model", str(tiny_model), "--dataset", str(p), "--out", str(tmp_path / "o"), *extra], capsys)
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("fsskernels finetune: error:") and msg.split()[0] in err[0], err


@pytest.mark.parametrize("argv,msg", [
    (["--model", "/nonexistent/model"], "is not a directory"),
    (["--dataset", "imdb"], "unknown name"),
    (["--layers", "0"], "layers"),
    (["--lr", "-1"], "lr"),
    (["--target-modules", "query,bogus"], "target-modules"),
    (["--role", "client"], "--certs"),
])
def test_bad_options(tmp_path, capsys, argv, msg):
    rc, err = _run([*argv, "--out", str(tmp_path)], capsys)
    assert rc == 2 and len(err) == 1 and msg in err[0], err


@needs_hf
def test_model_dir_without_config(tmp_path, capsys):
    (tmp_path / "m").mkdir()
    rc, err = _run(["--model", str(tmp_path / "m"), "--out", str(tmp_path / "o")], capsys)
    assert rc == 2 and "config.json" in err[0]


@needs_hf
def test_dead_peer_is_one_line(tmp_path, tiny_model):
    """A client whose server and dealer never come: one line naming the peer failure, exit 1, no traceback."""
    csv = tiny_csv(tmp_path / "d.csv")
    r = subprocess.run([sys.executable, "-m", "fsskernels.cli", "finetune", "--model", str(tiny_model), "--dataset",
                        str(csv), "--layers", "1", "--seq-len", "8", "--train-size", "8", "--eval-size", "4",
                        "--role", "client", "--plaintext", "--port", str(free_port_range(2)), "--timeout", "3", "--quiet",
                        "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    lines = [ln for ln in r.stderr.strip().splitlines() if "warn" not in ln.lower() and "Loading" not in ln]
    assert lines and lines[-1].startswith("fsskernels finetune: error: peer failure"), r.stderr[-1500:]
    assert "Traceback" not in r.stderr
