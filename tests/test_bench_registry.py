"""The benchmark harness's case registry, section runner and peer-environment helpers: fast logic
only (no peer is built or run, no timing is asserted)."""
from __future__ import annotations

import json
import os
import sys

import pytest
import torch

from fsskernels.bench import cases_kernels, peerenv, peers, registry, sections
from fsskernels.bench.registry import Case, Skip


@pytest.fixture
def scratch_registry(monkeypatch):
    """An empty registry (the built-in cases are restored afterwards)."""
    monkeypatch.setattr(registry, "_CASES", {})
    monkeypatch.setattr(registry, "_loaded", True)
    return registry


def test_builtin_cases_cover_every_section():
    names = {(c.section, c.name) for c in registry.cases()}
    assert {s for s, _ in names} == set(registry.SECTIONS)
    gates = {n for s, n in names if s == "gates"}
    assert gates == {"relu", "gelu", "exp", "reciprocal", "softmax_128x128", "softmax_attn", "layer_norm_512x384"}
    # the gate shapes the issue names, and every gate is paired with a CrypTen case
    full = {c.name: c.params["shape"] for c in registry.cases("gates")}
    assert full["relu"] == [1_000_000] and full["softmax_attn"] == [8, 12, 64, 64]
    assert full["layer_norm_512x384"] == [512, 384]
    assert all(c.peer.startswith("crypten:") for c in registry.cases("gates"))
    lay = registry.get("layer", "encoder_layer_lora")
    assert lay.params == {"batch": 8, "seq": 64}


def test_register_rejects_duplicates_and_unknown_sections(scratch_registry):
    registry.register(Case("gates", "x", lambda p, r: {}))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(Case("gates", "x", lambda p, r: {}))
    with pytest.raises(ValueError, match="case.section"):
        registry.register(Case("nope", "y", lambda p, r: {}))
    with pytest.raises(ValueError, match="section"):
        registry.cases("nope")
    with pytest.raises(ValueError, match="name"):
        registry.get("gates", "missing")


def test_case_run_statuses(scratch_registry):
    seen = []

    @registry.case("agg", "ok", params={"n": 10}, quick_params={"n": 2})
    def ok(params, reps):
        seen.append((params["n"], reps))
        return {"value": params["n"] * reps}

    @registry.case("agg", "skips")
    def skips(params, reps):
        raise Skip("not here")

    @registry.case("agg", "fails")
    def fails(params, reps):
        raise RuntimeError("boom")

    registry.register(Case("agg", "needs", lambda p, r: {}, requires=lambda: "module x missing"))
    registry.register(Case("agg", "badcheck", lambda p, r: {}, requires=lambda: 1 / 0))
    got = {c.name: c.run(quick=True, reps=3) for c in registry.cases("agg")}
    assert got["ok"]["status"] == "ok" and got["ok"]["value"] == 6 and got["ok"]["params"] == {"n": 2}
    assert registry.get("agg", "ok").run(quick=False, reps=2)["value"] == 20
    assert seen == [(2, 3), (10, 2)]
    assert got["skips"] == {**got["skips"], "status": "skipped", "reason": "not here"}
    assert got["fails"]["status"] == "error" and "RuntimeError: boom" in got["fails"]["reason"]
    assert got["needs"]["status"] == "skipped" and got["needs"]["reason"] == "module x missing"
    assert got["badcheck"]["status"] == "skipped" and "ZeroDivisionError" in got["badcheck"]["reason"]


def test_run_section_without_peers_records_reasons(scratch_registry):
    registry.register(Case("layer", "a", lambda p, r: {"x": 1}))
    registry.register(Case("layer", "b", lambda p, r: {"x": 2}))
    logs = []
    res = sections.run_section("layer", sections.Options(no_peers=True, names=["b"], log=logs.append))
    assert [c["case"] for c in res["cases"]] == ["b"]
    assert res["peers"] == {"crypten": {"status": "skipped", "reason": "--no-peers"}}
    assert any("layer] b: ok" in m for m in logs)


def test_gate_peers_skip_cleanly_without_scripts(scratch_registry, tmp_path):
    from fsskernels.bench import cases_gates  # noqa: F401 - the real gate cases

    registry.register(Case("gates", "relu", lambda p, r: {}, params={"shape": [5]}, peer="crypten:relu"))
    o = sections.Options(peer_scripts=str(tmp_path), install_peers=False, log=lambda m: None)
    res = sections.peers_gates(registry.cases("gates"), o)
    assert res["crypten"]["status"] == "skipped" and "not found" in res["crypten"]["reason"]
    res = sections.peers_kernels([], o)
    assert res["aes_ceiling"]["status"] == "skipped" and res["sycret"]["status"] == "skipped"


def test_kernel_batch_sizes_that_do_not_fit_are_skipped_with_a_reason():
    assert cases_kernels.QUICK_NS == [1_000, 10_000, 100_000] and cases_kernels.FULL_NS[-1] == 10_000_000
    ok, why = cases_kernels.fits([1_000, 10_000_000], 64, 64, avail=3 * 2**30)
    assert ok == [1_000] and len(why) == 1 and "N=10000000" in why[0]
    ok, why = cases_kernels.fits([1_000, 10_000_000], 64, 64, avail=None)
    assert ok == [1_000, 10_000_000] and why == []
    # the bound covers both parties' real keys (DCF 64/64: 1560 B per key)
    assert cases_kernels.bytes_needed(1, 64, 64) >= 2 * 1560


def test_scripts_dir_and_json_lines(tmp_path, monkeypatch):
    d, how = peerenv.scripts_dir()
    assert d is not None and (d / "crypten_gates.py").is_file() and (d / "aes_ceiling.c").is_file(), how
    d2, how2 = peerenv.scripts_dir(str(tmp_path))
    assert d2 is None and "not found" in how2
    (tmp_path / "crypten_gates.py").write_text("")
    monkeypatch.setenv("FSS_PEER_SCRIPTS", str(tmp_path))
    assert peerenv.scripts_dir() == (tmp_path.resolve(), "FSS_PEER_SCRIPTS")
    assert peerenv.parse_json_lines('noise\n{"a": 1}\n{bad\n  {"b": [2]}  \n') == [{"a": 1}, {"b": [2]}]
    with pytest.raises(ValueError, match="name"):
        peerenv.ensure("nope")
    monkeypatch.setenv("FSS_PEERS_CACHE", str(tmp_path / "cache"))
    py, note = peerenv.ensure("sycret", install=False)
    assert py is None and "installing disabled" in note


def test_run_script_collects_json_and_failures(tmp_path):
    ok = tmp_path / "ok.py"
    ok.write_text("import json, os\nprint('hello')\nprint(json.dumps({'threads': os.environ['OMP_NUM_THREADS']}))\n")
    rows, note = peerenv.run_script(sys.executable, ok, [], timeout=60)
    assert rows == [{"threads": "1"}] and note == ""
    bad = tmp_path / "bad.py"
    bad.write_text("import sys\nprint('{\"partial\": 1}')\nsys.exit('it broke')\n")
    rows, note = peerenv.run_script(sys.executable, bad, [], timeout=60)
    assert rows == [{"partial": 1}] and "exit 1" in note and "it broke" in note
    rows, note = peerenv.run_script(sys.executable, tmp_path / "missing.py", [], timeout=60)
    assert rows == [] and "not found" in note


def test_ceiling_numbers_parse_the_c_program_output():
    rows = [{"test": "aesni_ecb", "blocks_per_s": 6e8}, {"test": "vaes256_ecb", "blocks_per_s": 1.2e9},
            {"test": "chain", "blocks_per_s": 6e7}, {"test": "rekeyed", "nodes_per_s": 4e7}, {"test": "other"}]
    got = peers._ceiling_numbers(rows)
    assert got == {"aesni": 6e8, "vaes_ymm": 1.2e9, "chain": 6e7, "rekeyed": 4e7, "vaes": 1.2e9, "ecb": 1.2e9}
    assert peers._ceiling_numbers(rows[:1])["ecb"] == 6e8
    assert not peers.AesCeiling(None).available


def test_two_party_measurement_of_a_product_against_plaintext():
    """mpcmeasure on a Beaver product (x * x, tiny): the revealed result, traffic and timing
    structure are those of the computation, not of the set-up or the barrier."""
    from fsskernels import mpc
    from fsskernels.bench.mpcmeasure import measure_two_party

    x = torch.linspace(-3, 3, 64, dtype=torch.float64)

    def setup(s):
        return mpc.share(s, x if s.party == 0 else None, owner=0, shape=(64,))

    rec = measure_two_party(setup, lambda s, X: X * X, reps=2, reference=x * x)
    assert rec["max_abs_err"] < 1e-3 and rec["ref_max_abs"] == 9.0
    assert rec["dealer_pieces"] >= 1
    tr = rec["traffic"]
    assert tr["rounds"] >= 1 and tr["bytes"] > 0
    for k in ("online", "end_to_end"):
        assert len(rec[k]["samples_s"]) == 2 and rec[k]["min_s"] <= rec[k]["median_s"] <= rec[k]["max_s"]
    assert set(rec["projected_s"]) == set(mpc.LINKS)
    assert rec["projected_s"]["wan100"] > rec["projected_s"]["lan"] >= rec["online"]["median_s"]
    with pytest.raises(ValueError, match="reps"):
        measure_two_party(setup, lambda s, X: X * X, reps=0)


def test_gate_inputs_are_in_each_gate_domain():
    from fsskernels.bench.cases_gates import inputs

    assert inputs("exp", (1000,)).max() <= 0
    r = inputs("reciprocal", (1000,))
    assert r.min() >= 0.5 and r.max() <= 10.5
    assert torch.equal(inputs("normal", (10,)), inputs("normal", (10,)))  # fixed seed
    with pytest.raises(ValueError, match="kind"):
        inputs("nope", (1,))


def test_cli_rejects_bad_arguments(capsys):
    from fsskernels.bench.__main__ import main

    with pytest.raises(SystemExit):
        main(["--only", "nonsense", "--no-peers"])
    assert "--only" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--reps", "0", "--only", "finetune"])


def test_cli_runs_a_section_and_writes_the_report(tmp_path):
    from fsskernels.bench.__main__ import main

    out = tmp_path / "r"
    assert main(["--only", "agg", "--no-peers", "--out", str(out)]) == 0
    rep = json.loads((out / "report.json").read_text())
    assert rep["schema"] == 1 and list(rep["sections"]) == ["agg"]
    env = rep["environment"]
    for k in ("cpu_model", "cpu_flags", "aes_path", "threads", "git_commit", "versions", "loadavg"):
        assert k in env
    assert env["versions"]["torch"].startswith("2.")
    assert os.path.exists(out / "report.md") and "Skipped" in (out / "report.md").read_text()


def test_peers_get_the_shapes_of_our_cases(scratch_registry, monkeypatch):
    """The CrypTen scripts run on exactly the shapes of our cases (quick or full)."""
    registry.register(Case("gates", "relu", lambda p, r: {}, params={"shape": [1_000_000]},
                           quick_params={"shape": [4096]}, peer="crypten:relu"))
    registry.register(Case("gates", "softmax_attn", lambda p, r: {}, params={"shape": [8, 12, 64, 64]},
                           quick_params={"shape": [1, 2, 64, 64]}, peer="crypten:softmax_attn"))
    registry.register(Case("layer", "encoder_layer_lora", lambda p, r: {}, params={"batch": 8, "seq": 64},
                           quick_params={"batch": 1, "seq": 4}, peer="crypten:encoder_layer_lora"))
    monkeypatch.setattr(peerenv, "scripts_dir", lambda explicit=None: (peerenv.Path("/peers"), "test"))
    monkeypatch.setattr(peerenv, "ensure", lambda name, install=True, log=print: (f"/venv/{name}/python", "ok"))
    calls = []

    def fake_run(py, script, args, timeout):
        calls.append((py, script.name, args))
        return [{"case": "x"}], ""

    monkeypatch.setattr(peerenv, "run_script", fake_run)
    quiet = dict(log=lambda m: None)
    res = sections.peers_gates(registry.cases("gates"), sections.Options(quick=True, peer_reps=2, **quiet))
    assert res["crypten"]["status"] == "ok"
    assert calls[-1] == ("/venv/crypten/python", "crypten_gates.py",
                         ["--reps", "2", "--threads-per-party", "1", "--shape", "relu=4096",
                          "--shape", "softmax_attn=1x2x64x64", "--only", "relu", "softmax_attn"])
    sections.peers_gates(registry.cases("gates"), sections.Options(quick=False, peer_reps=3, **quiet))
    assert calls[-1][2][5:9] == ["relu=1000000", "--shape", "softmax_attn=8x12x64x64", "--only"]
    sections.peers_layer(registry.cases("layer"), sections.Options(quick=False, peer_reps=3, **quiet))
    assert calls[-1][1:] == ("crypten_layer.py", ["--batch", "8", "--seq", "64", "--reps", "2", "--warmup", "1"])
    sections.peers_layer(registry.cases("layer"), sections.Options(quick=True, **quiet))
    assert calls[-1][2] == ["--batch", "1", "--seq", "4", "--reps", "1", "--warmup", "0"]
