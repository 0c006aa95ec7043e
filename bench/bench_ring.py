"""Ring GEMM over Z_{2^64} versus float64 and int64 matmul, one thread each.

    pytest bench/bench_ring.py --benchmark-only       # pytest-benchmark
    python bench/bench_ring.py [--reps N] [--threads T] [--clock wall|thread]  # table

Compared on the same shapes: fsskernels.ring_matmul (uint64, exact mod 2^64),
torch.matmul on float64 (vendor BLAS; the speed of light for a 64-bit GEMM on this core),
np.matmul on int64 (numpy's integer loop, which also wraps mod 2^64).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
import pytest

import fsskernels

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

# (batch, m, k, n): projection 128x768 @ 768x768, square 512, batched attention-sized
# blocks, and a tall-skinny LoRA factor.
SHAPES = {
    "proj_128x768x768": (1, 128, 768, 768),
    "square_512": (1, 512, 512, 512),
    "batched_8x64x64x64": (8, 64, 64, 64),
    "lora_4096x768x8": (1, 4096, 768, 8),
}


def _operands(shape, seed=0):
    batch, m, k, n = shape
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1 << 64, size=(batch, m, k), dtype=np.uint64, endpoint=False)
    b = rng.integers(0, 1 << 64, size=(batch, k, n), dtype=np.uint64, endpoint=False)
    if batch == 1:
        a, b = a[0], b[0]
    return a, b


def _impls(shape, seed=0):
    """name -> zero-argument callable running one product of `shape`."""
    a, b = _operands(shape, seed)
    impls = {"ring_matmul": lambda: fsskernels.ring_matmul(a, b)}
    if torch is not None:
        af = torch.from_numpy((a >> np.uint64(11)).astype(np.float64))
        bf = torch.from_numpy((b >> np.uint64(11)).astype(np.float64))
        impls["torch_f64"] = lambda: torch.matmul(af, bf)
    ai, bi = a.view(np.int64), b.view(np.int64)
    impls["numpy_i64"] = lambda: np.matmul(ai, bi)
    return impls


def _one_thread():
    fsskernels.set_num_threads(1)
    if torch is not None:
        torch.set_num_threads(1)


# --------------------------------------------------------------------------- pytest-benchmark


@pytest.fixture(autouse=True)
def _single_thread():
    old = fsskernels.get_num_threads()
    old_t = torch.get_num_threads() if torch is not None else None
    _one_thread()
    yield
    fsskernels.set_num_threads(old)
    if torch is not None:
        torch.set_num_threads(old_t)


@pytest.mark.parametrize("impl", ["ring_matmul", "torch_f64", "numpy_i64"])
@pytest.mark.parametrize("shape_name", list(SHAPES))
def test_bench_ring(benchmark, shape_name, impl):
    shape = SHAPES[shape_name]
    impls = _impls(shape)
    if impl not in impls:
        pytest.skip(f"{impl} not available")
    fn = impls[impl]
    batch, m, k, n = shape
    benchmark.group = shape_name
    benchmark.extra_info["macs"] = batch * m * k * n
    if impl == "numpy_i64":  # ~0.3 s per call on the big shapes
        benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=0)
    else:
        benchmark(fn)


# --------------------------------------------------------------------------- table


def _median_time(fn, reps: int, min_time: float = 0.0, clock=time.perf_counter) -> float:
    fn()  # warm-up (packing buffers, page faults)
    times = []
    t_end = time.perf_counter() + min_time
    while len(times) < reps or time.perf_counter() < t_end:
        t0 = clock()
        fn()
        times.append(clock() - t0)
        if len(times) >= 50 * reps:
            break
    return statistics.median(times)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reps", type=int, default=15, help="timed runs per cell (median reported)")
    p.add_argument("--numpy-reps", type=int, default=3, help="timed runs for numpy int64 (slow)")
    p.add_argument("--threads", type=int, default=1, help="threads for ring_matmul and torch")
    p.add_argument("--shapes", nargs="*", default=list(SHAPES), choices=list(SHAPES))
    p.add_argument(
        "--clock",
        choices=["wall", "thread"],
        default=None,
        help="wall: time.perf_counter; thread: CPU time of the calling thread (robust on a shared "
        "machine; only meaningful with --threads 1). Default: thread for 1 thread, else wall.",
    )
    args = p.parse_args(argv)
    clock_name = args.clock or ("thread" if args.threads == 1 else "wall")
    clock = time.thread_time if clock_name == "thread" else time.perf_counter

    fsskernels.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
    info = fsskernels.build_info() if hasattr(fsskernels, "build_info") else {}
    print(f"fsskernels {getattr(fsskernels, '__version__', '?')}  threads={args.threads}  "
          f"FSS_RING_PATH={os.environ.get('FSS_RING_PATH', '(auto)')}  clock={clock_name}  "
          f"cpus={info.get('cpu_count', os.cpu_count())}")
    print(f"{'shape (b,m,k,n)':<22} {'impl':<12} {'median ms':>10} {'GMAC/s':>8}")
    rows = []
    for name in args.shapes:
        shape = SHAPES[name]
        batch, m, k, n = shape
        macs = batch * m * k * n
        impls = _impls(shape)
        res = {}
        for impl, fn in impls.items():
            reps = args.numpy_reps if impl == "numpy_i64" else args.reps
            t = _median_time(fn, reps, 0.0 if impl == "numpy_i64" else 0.5, clock)
            res[impl] = t
            print(f"{str(shape):<22} {impl:<12} {t * 1e3:>10.3f} {macs / t / 1e9:>8.2f}")
        rows.append((name, res))
        sys.stdout.flush()

    print()
    print(f"{'shape':<22} {'ring/torch_f64 time':>20} {'numpy_i64/ring time':>20}")
    for name, res in rows:
        r = res["ring_matmul"]
        tf = f"{r / res['torch_f64']:.2f}x slower" if "torch_f64" in res else "n/a"
        ni = f"{res['numpy_i64'] / r:.1f}x faster"
        print(f"{name:<22} {tf:>20} {ni:>20}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
