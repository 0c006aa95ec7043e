"""pytest-benchmark microbenchmarks of the CPU DPF/DCF kernels: keygen and one-party eval at
N = 100000, bits in {32, 64}, out_bits = 64, one thread.

    pytest bench/ --benchmark-only
    pytest bench/ --benchmark-only --benchmark-json bench/results/pytest-bench.json

Throughput per case is in extra_info (keys_per_s / evals_per_s, key_bytes). The full table
with the AES ceiling and sycret is `python -m fsskernels.bench kernels` (docs/benchmarks.md).
"""
from __future__ import annotations

import numpy as np
import pytest

fk = pytest.importorskip("fsskernels")

N = 100_000
CASES = [(scheme, bits) for scheme in ("dpf", "dcf") for bits in (32, 64)]
ROUNDS = 5


@pytest.fixture(autouse=True)
def one_thread():
    before = fk.get_num_threads()
    fk.set_num_threads(1)
    yield
    fk.set_num_threads(before)


def _inputs(bits: int):
    rng = np.random.default_rng(bits)
    top = (1 << bits) - 1
    alpha = rng.integers(0, top, size=N, dtype=np.uint64, endpoint=True)
    beta = rng.integers(0, 2**63, size=N, dtype=np.uint64)
    x = rng.integers(0, top, size=N, dtype=np.uint64, endpoint=True)
    return alpha, beta, x


def _gen(scheme):
    return fk.dpf_gen if scheme == "dpf" else fk.dcf_gen


def _eval(scheme):
    return fk.dpf_eval if scheme == "dpf" else fk.dcf_eval


@pytest.mark.parametrize("scheme,bits", CASES, ids=[f"{s}-{b}" for s, b in CASES])
def test_keygen(benchmark, scheme, bits):
    alpha, beta, _ = _inputs(bits)
    gen = _gen(scheme)
    benchmark.group = f"keygen N={N}"
    k0, _ = benchmark.pedantic(lambda: gen(alpha, beta, bits=bits, out_bits=64), rounds=ROUNDS,
                               iterations=1, warmup_rounds=1)
    benchmark.extra_info.update({"n": N, "bits": bits, "out_bits": 64, "threads": 1, "key_bytes": k0.key_size,
                                 "keys_per_s": N / benchmark.stats.stats.median})


@pytest.mark.parametrize("scheme,bits", CASES, ids=[f"{s}-{b}" for s, b in CASES])
def test_eval(benchmark, scheme, bits):
    alpha, beta, x = _inputs(bits)
    k0, k1 = _gen(scheme)(alpha, beta, bits=bits, out_bits=64)
    ev = _eval(scheme)
    benchmark.group = f"eval N={N}"
    y0 = benchmark.pedantic(lambda: ev(0, k0, x), rounds=ROUNDS, iterations=1, warmup_rounds=1)
    # the shares must still reconstruct
    hit = (x == alpha) if scheme == "dpf" else (x < alpha)
    with np.errstate(over="ignore"):
        assert np.array_equal(y0 + ev(1, k1, x), np.where(hit, beta, np.uint64(0)))
    benchmark.extra_info.update({"n": N, "bits": bits, "out_bits": 64, "threads": 1, "key_bytes": k0.key_size,
                                 "evals_per_s": N / benchmark.stats.stats.median})
