"""Report generation of ``fsskernels bench``: markdown tables, README tables, plots and the
--readme-table command, from a small hand-written report (no measurement runs)."""
from __future__ import annotations

import json

import pytest

from fsskernels.bench import report


def _spread(med, lo, hi):
    return {"median_s": med, "min_s": lo, "max_s": hi, "samples_s": [lo, med, hi]}


def sample_report() -> dict:
    kernel_row = {"scheme": "dpf", "bits": 32, "out_bits": 64, "n": 100_000, "correct": "4096/4096", "key_bytes": 528,
                  "aes_blocks_per_eval": 32, "aes_blocks_per_keygen": 114,
                  "threads": {"1": {"keygen_keys_per_s": 2.0e6, "eval_per_s": 10.0e6}}}
    relu = {"case": "relu", "section": "gates", "status": "ok", "params": {"shape": [1000]}, "peer": "crypten:relu",
            "online": _spread(0.010, 0.009, 0.012), "end_to_end": _spread(0.020, 0.020, 0.020),
            "traffic": {"bytes": 1_000_000, "rounds": 3, "critical_bytes": 500_000}, "max_abs_err": 1e-4,
            "projected_s": {"lan": 0.02, "wan200": 0.2, "wan100": 0.4}}
    gelu = {"case": "gelu", "section": "gates", "status": "skipped", "params": {"shape": [1000]},
            "peer": "crypten:gelu", "reason": "fsskernels.mpc.functional is not available yet"}
    return {
        "schema": 1, "date": "2026-12-03 10:00:00 +0000", "command": "fsskernels bench", "quick": False,
        "environment": {"cpu_model": "Test CPU", "cpu_count": 2, "cpu_flags": ["aes", "vaes"], "aes_path": "vaes",
                        "git_commit": "abc123", "versions": {"torch": "2.13.0"}, "threads": {}},
        "load": {"loadavg_start": [1, 1, 1], "loadavg_end": [2, 2, 2], "other_busy_cores_avg": 1.1},
        "sections": {
            "kernels": {"cases": [{"case": "fss_32_64", "status": "ok", "params": {}, "rows": [kernel_row],
                                   "skipped_n": ["N=10000000: needs ~31 GiB"]}],
                        "peers": {"aes_ceiling": {"status": "ok", "blocks_per_s": {"ecb": 1.0e9}},
                                  "sycret": {"status": "ok", "rows": [
                                      {"scheme": "eq", "n": 100_000, "keygen_keys_per_s": 1.0e5,
                                       "eval_per_s": 2.5e5}]}}},
            "gates": {"cases": [relu, gelu], "peers": {"crypten": {"status": "ok", "rows": [
                {"case": "relu", "s_all": [0.08, 0.1, 0.12], "s_median": 0.1, "comm_bytes": 4_000_000,
                 "comm_rounds": 10, "max_abs_err": 2e-5}]}}},
            "layer": {"cases": [{"case": "encoder_layer_lora", "status": "skipped", "params": {"batch": 8, "seq": 64},
                                 "reason": "no nn"}],
                      "peers": {"crypten": {"status": "ok", "rows": [
                          {"case": "encoder_layer_lora", "batch": 8, "seq": 64, "s_all": [100.0, 110.0],
                           "s_median": 105.0, "fwd_s_median": 40.0, "bwd_s_median": 65.0, "comm_bytes": 1.7e9,
                           "comm_rounds": 245, "max_abs_err": {"Y": 0.9, "dX": 0.006}, "includes": "triples inside"}]}}},
            "finetune": {"cases": [{"case": "lora_step", "status": "ok", "params": {},
                                    "per_layer_type": {"softmax": {"s": 1.5, "bytes": 2e6, "rounds": 7}}}],
                         "peers": {}},
            "agg": {"cases": [], "peers": {"tenseal": {"status": "skipped", "reason": "no network"}}},
        },
    }


def _cells(md: str, first: str) -> list[str]:
    """The cells of the first table row whose first cell is ``first``."""
    for ln in md.splitlines():
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        if ln.startswith("|") and cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in\n{md}")


def test_gate_table_ratios_and_spread():
    md = report.render_report(sample_report())
    cells = _cells(md, "relu")
    assert cells[2] == "10 ms [9 ms-12 ms]"          # online median [min-max]
    assert cells[3] == "20 ms"                        # no spread when all samples are equal
    assert cells[4] == "1 MB / 3"
    assert cells[6] == "100 ms [80 ms-120 ms]"        # CrypTen
    assert cells[9] == "5.00x" and cells[10] == "4.00x"  # 0.1 s / 0.02 s; 4 MB / 1 MB
    gl = next(ln for ln in md.splitlines() if ln.startswith("| gelu"))
    assert "skipped: fsskernels.mpc.functional" in gl


def test_kernel_table_uses_the_same_run_ceiling_and_sycret():
    md = report.render_kernels(sample_report())
    cells = _cells(md, "DPF")
    assert cells[4:8] == ["2 M", "10 M", "32%", "4096/4096"]  # 10 M evals/s x 32 blocks / 1 G blocks/s
    assert cells[9] == "20x / 40x"                              # 2 M / 100 k keygen, 10 M / 250 k eval


def test_report_lists_skips_load_and_sections():
    md = report.render_report(sample_report())
    assert "gates/gelu (skipped): fsskernels.mpc.functional is not available yet" in md
    assert "agg peer tenseal (skipped): no network" in md
    assert "kernels/fss_32_64 batch size N=10000000: needs ~31 GiB" in md
    assert "reused" not in md
    rep = sample_report()
    rep["sections"]["gates"]["peers"]["crypten"]["reused_from"] = "old.json (2026-12-03)"
    assert "gates crypten: old.json (2026-12-03)" in report.render_report(rep)
    assert "machine was shared and loaded" in md
    assert _cells(md, "lora_step") == ["lora_step", "softmax", "1.5 s", "2 MB", "7"]
    assert _cells(md, "CrypTen 0.4.1")[2:6] == ["105 s [100 s-110 s]", "40 s / 65 s", "1.7 GB", "245"]


def test_readme_tables_from_a_report_file(tmp_path, capsys):
    from fsskernels.bench.__main__ import main

    p = tmp_path / "report.json"
    p.write_text(json.dumps(sample_report()))
    assert main(["--readme-table", str(p)]) == 0
    out = capsys.readouterr().out
    assert _cells(out, "DPF 32 -> 64 bits") == ["DPF 32 -> 64 bits", "528", "2 M", "10 M", "32%", "20x keygen, 40x eval"]
    assert _cells(out, "relu")[9] == "5.00x" and "commit abc123" in out
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert main(["--readme-table", str(bad)]) == 2
    assert "not a fsskernels bench report" in capsys.readouterr().err
    with pytest.raises(ValueError, match="report"):
        report.load_report(str(tmp_path / "missing.json"))
    assert main(["--render", str(bad)]) == 2


def test_format_helpers():
    assert report.fmt_s(None) == "-" and report.fmt_s(2e-6) == "2 us" and report.fmt_s(0.0123) == "12.3 ms"
    assert report.fmt_s(123.4) == "123 s"
    assert report.fmt_bytes(999) == "999 B" and report.fmt_bytes(1.5e6) == "1.5 MB"


def test_plots_are_written_when_their_data_exist(tmp_path):
    pytest.importorskip("matplotlib")
    from fsskernels.bench import plots

    written, note = plots.write_plots(sample_report(), str(tmp_path))
    assert note == ""
    assert set(written) == {"kernels.png", "gates.png", "projected.png", "layer.png", "finetune.png"}
    for w in written:
        assert (tmp_path / w).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    empty = {"sections": {}}
    assert plots.write_plots(empty, str(tmp_path / "e"))[0] == []
