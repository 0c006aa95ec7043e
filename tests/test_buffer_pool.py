"""The output-buffer pool of the CPU module (csrc/bindings/cpu/buffer_pool.h): large key
batches and outputs reuse freed buffers of their size class, results stay correct across
reuse, and FSS_BUFFER_POOL_BYTES=0 turns pooling off."""
import os
import subprocess
import sys

import numpy as np

import fsskernels as fk
from fsskernels import _C


def _round_trip(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)  # csprng-ok: public test points
    alpha = rng.integers(0, 1 << 16, n, dtype=np.uint64)
    x = rng.integers(0, 1 << 16, n, dtype=np.uint64)
    k0, k1 = fk.dcf_gen(alpha, np.ones(n, np.uint64), bits=16, out_bits=64, seed=seed)
    y = fk.dcf_eval(0, k0, x) + fk.dcf_eval(1, k1, x)
    assert np.array_equal(y, (x < alpha).astype(np.uint64))


def test_freed_batches_are_reused_and_results_stay_exact():
    n = 1 << 15                     # 16-bit DCF keys with 64-bit output: > 4 MiB per party
    before = _C.buffer_pool_stats()
    for seed in range(4):
        _round_trip(n, seed)
    after = _C.buffer_pool_stats()
    assert after["hits"] - before["hits"] >= 4          # keys and outputs of rounds 2..4
    assert after["idle_bytes"] <= after["cap_bytes"]


def test_pool_can_be_turned_off():
    code = ("import numpy as np, fsskernels as fk, fsskernels._C as C\n"
            "a = np.zeros(1 << 15, np.uint64)\n"
            "for i in range(3):\n"
            "    k0, k1 = fk.dcf_gen(a, np.ones(1 << 15, np.uint64), bits=16, seed=i); del k0, k1\n"
            "s = C.buffer_pool_stats(); print(s['cap_bytes'], s['idle_bytes'], s['hits'])\n")
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(fk.__file__)))
    env = dict(os.environ, FSS_BUFFER_POOL_BYTES="0",
               PYTHONPATH=os.pathsep.join([pkg_parent] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "0", "0"]


def test_clear_frees_idle_buffers():
    _round_trip(1 << 15, 9)
    _C.buffer_pool_clear()
    assert _C.buffer_pool_stats()["idle_bytes"] == 0
