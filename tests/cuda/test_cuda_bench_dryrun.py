"""Dry run of bench/bench_cuda.py without a GPU, so that a scarce GPU session does not find its
typos: every case runs, at small sizes, against the stand-in CuPy and the stand-in _C_cuda of
tests/test_cuda.py (device arrays are host numpy arrays; the raw entry points run the host
emulation of the kernels, the IMMA ring GEMM included). Checks that each case completes with
its correctness check passing, that the table and targets print, and that the JSON is written.
Timings are meaningless here (the stand-in events report 1 ms) and are not looked at.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import fsskernels as fk

try:
    from fsskernels import _C_cuda  # noqa: F401
except ImportError:  # not built
    _C_cuda = None

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class _Event:
    def record(self):
        pass

    def synchronize(self):
        pass


@pytest.mark.skipif(_C_cuda is None, reason="CUDA module _C_cuda was not built (the stand-ins run its host emulation)")
@pytest.mark.skipif("cuda" in fk.available_backends(),
                    reason="a GPU is visible: the benchmark would pick real torch CUDA tensors, which the stand-in "
                           "kernels cannot read (scripts/gpu_check.sh runs the real benchmark there)")
def test_bench_cuda_runs_every_case(monkeypatch, tmp_path, capsys):
    tc = _load("_fsk_test_cuda_fakes", ROOT / "tests" / "test_cuda.py")
    bench = _load("_fsk_bench_cuda", ROOT / "bench" / "bench_cuda.py")
    import fsskernels._cuda as glue

    cp = tc._fake_cupy()
    cp.cuda.Event = _Event
    cp.cuda.get_elapsed_time = lambda start, end: 1.0
    cp.array_equal = lambda x, y: bool(np.array_equal(x._a, y._a))
    cp.matmul = lambda x, y: tc._FakeCupyArray(np.matmul(x._a, y._a))
    tc._FakeCupyArray.__getitem__ = lambda self, idx: tc._FakeCupyArray(self._a[idx])

    class FakeM(tc._FakeCudaModule):
        @staticmethod
        def prg_hash(src, dst, n, tweak, device, stream):
            blocks = tc._at(src, 2 * n, np.uint64).view(np.uint8).reshape(n, 16).copy()
            tc._at(dst, 2 * n, np.uint64)[:] = tc.M._emulate_prg_hash(blocks, tweak).reshape(-1).view(np.uint64)

    monkeypatch.setitem(sys.modules, "cupy", cp)
    monkeypatch.setattr(glue, "_M", FakeM)
    monkeypatch.setattr(glue, "_default_fw", lambda: "cupy")
    monkeypatch.setattr(bench, "M", FakeM)
    monkeypatch.setattr(fk, "available_backends", lambda: ["cpu", "cuda"])
    monkeypatch.setattr(fk, "build_info", lambda: {"gpus": ["stand-in GPU"], "cuda_compiled": True})
    # torch without CUDA here: Dev() picks the stand-in CuPy.
    rows = bench.run_all(64, 2, ring_shapes=[(1, 40, 70, 30), (2, 16, 33, 9)], prg_blocks=100,
                         eval_all=[(6, 64, 5), (9, 1, 3)], lookup=[(7, 64, 9, 2)])
    errors = [(r["case"], r.get("error")) for r in rows if r.get("error")]
    assert not errors
    assert all(r["check"] in (None, True) for r in rows), [r["case"] for r in rows if r["check"] is False]
    cases = [r["case"] for r in rows]
    assert any(c.startswith("ring_matmul[imma]") for c in cases) and any(c.startswith("prg_hash") for c in cases)
    assert all(r["equal_to_simt"] for r in rows if r.get("algo") == "imma")
    assert "ring_matmul:imma" in FakeM.calls and "dpf_lookup" in FakeM.calls
    assert any(c.startswith("dpf lookup") for c in cases)
    tg = bench.targets(rows)
    assert len(tg) == 5 and tg[-1]["value"] is None  # no 4096^3 case in a dry run
    bench.print_table(rows, "stand-in GPU")
    bench.print_targets(tg)
    assert "targets (issue 20" in capsys.readouterr().out
    # main(): arguments, the JSON, the exit status.
    monkeypatch.setattr(bench, "run_all", lambda n, reps, quick: rows)
    out = tmp_path / "bench.json"
    assert bench.main(["--n", "64", "--reps", "2", "--quick", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["device"] == "stand-in GPU" and len(data["rows"]) == len(rows) and len(data["targets"]) == 5
