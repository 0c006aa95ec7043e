"""Ring GEMM kernel paths side by side: fsskernels.ring_matmul on each CPU path this machine
supports (forced through FSS_RING_PATH), beside torch float64 matmul on the same shapes.

    python bench/bench_ring_paths.py [--reps 7] [--threads 1 2] [--paths portable avx2]
                                     [--shapes 128x384x384 1024x1024x1024]

Prints, per thread count and shape (m x k x n), the median time of --reps timed runs (after one
warm-up) as GMAC/s for every path, the speedup of each path over portable, and each path's
time relative to torch fp64 (values < 2^53 so the float product is meaningful work, not a
reference: only the speed is compared). With one thread the clock is the calling thread's CPU
time (robust on a shared machine), otherwise wall time. Operands are uniform uint64 from a
fixed seed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import fsskernels
from fsskernels import _C

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

DEFAULT_SHAPES = ["128x384x384", "128x1536x384", "512x384x1536", "1024x1024x1024"]
ALL_PATHS = ["portable", "avx2", "avx512", "ifma"]


def _supported(path: str) -> bool:
    old = os.environ.get("FSS_RING_PATH")
    os.environ["FSS_RING_PATH"] = path
    try:
        z = np.zeros((1, 1, 1), np.uint64)
        _C.ring_matmul(z, z, np.zeros((1, 1, 1), np.uint64))
        return True
    except ValueError:
        return False
    finally:
        if old is None:
            os.environ.pop("FSS_RING_PATH", None)
        else:
            os.environ["FSS_RING_PATH"] = old


def _median(fn, reps: int, clock) -> float:
    fn()  # warm-up: packing buffers, page faults
    times = []
    for _ in range(reps):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reps", type=int, default=7, help="timed runs per cell (median reported; >= 5)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--paths", nargs="+", default=None, choices=ALL_PATHS, help="default: every supported path")
    p.add_argument("--shapes", nargs="+", default=DEFAULT_SHAPES, help="m x k x n")
    args = p.parse_args(argv)
    if args.reps < 5:
        p.error("--reps must be at least 5")
    paths = [q for q in (args.paths or ALL_PATHS) if _supported(q)]
    if not paths:
        p.error("none of the requested paths is supported by this CPU")
    others = [q for q in paths if q != "portable"] if "portable" in paths else []
    shapes = [tuple(int(v) for v in s.lower().split("x")) for s in args.shapes]
    rng = np.random.default_rng(0)
    old_env = os.environ.get("FSS_RING_PATH")
    old_threads = fsskernels.get_num_threads()
    print(f"paths {' '.join(paths)}; reps {args.reps} (median); torch "
          f"{torch.__version__ if torch is not None else 'absent'}; cpus {os.cpu_count()}")
    try:
        for nt in args.threads:
            fsskernels.set_num_threads(nt)
            if torch is not None:
                torch.set_num_threads(nt)
            clock = time.thread_time if nt == 1 else time.perf_counter
            print(f"\nthreads {nt} ({'thread CPU time' if nt == 1 else 'wall time'})")
            head = f"{'m x k x n':<16}" + "".join(f"{q + ' GMAC/s':>17}" for q in paths)
            head += f"{'torch f64 GMAC/s':>18}" + "".join(f"{q + '/portable':>16}" for q in others)
            head += "".join(f"{q + ' time/torch':>21}" for q in paths)
            print(head)
            for m, k, n in shapes:
                a = rng.integers(0, 1 << 64, size=(m, k), dtype=np.uint64, endpoint=False)
                b = rng.integers(0, 1 << 64, size=(k, n), dtype=np.uint64, endpoint=False)
                macs = m * k * n
                t = {}
                for q in paths:
                    os.environ["FSS_RING_PATH"] = q
                    t[q] = _median(lambda: fsskernels.ring_matmul(a, b), args.reps, clock)
                if torch is not None:
                    af = torch.from_numpy((a >> np.uint64(11)).astype(np.float64))
                    bf = torch.from_numpy((b >> np.uint64(11)).astype(np.float64))
                    t["torch"] = _median(lambda: torch.matmul(af, bf), args.reps, clock)
                row = f"{f'{m}x{k}x{n}':<16}" + "".join(f"{macs / t[q] / 1e9:>17.2f}" for q in paths)
                row += f"{macs / t['torch'] / 1e9:>18.2f}" if "torch" in t else f"{'n/a':>18}"
                row += "".join(f"{t['portable'] / t[q]:>15.2f}x" for q in others)
                row += "".join(f"{t[q] / t['torch']:>20.2f}x" if "torch" in t else f"{'n/a':>21}" for q in paths)
                print(row, flush=True)
    finally:
        fsskernels.set_num_threads(old_threads)
        if old_env is None:
            os.environ.pop("FSS_RING_PATH", None)
        else:
            os.environ["FSS_RING_PATH"] = old_env
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
