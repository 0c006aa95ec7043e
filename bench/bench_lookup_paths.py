"""Same-run A/B timing of the fused DPF lookup (fsskernels._C.dpf_lookup) between two builds.

Loads the _C extension of each build under its own name and times them in alternation (so a
noisy, shared machine slows both alike), single thread, on the MPC gates' shapes: GeLU (7-bit
domain, 5 tables) and exp (8-bit domain, 3 tables), 64-bit outputs. Also checks that both builds
give the same outputs on the same key bytes.

  python bench/bench_lookup_paths.py A/_C.so B/_C.so [--keys 65536] [--reps 9] [--path vaes256]
"""
from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import statistics
import time

import numpy as np


def load(path: str, tag: str):
    name = f"_fsslk_{tag}._C"
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("so", nargs="+", help="paths of the _C extension modules to compare")
    ap.add_argument("--keys", type=int, default=1 << 16)
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--path", default="vaes256", help="AES path to set in every build")
    ap.add_argument("--shapes", default="7x5,8x3", help="bits x tables, comma separated")
    a = ap.parse_args()
    mods = [load(p, str(i)) for i, p in enumerate(a.so)]
    for m in mods:
        m.set_num_threads(1)
        m.set_aes_path(a.path)
    rng = np.random.default_rng(1)  # csprng-ok: public benchmark inputs
    gen = mods[0]
    for shape in a.shapes.split(","):
        bits, ntab = (int(v) for v in shape.split("x"))
        n = a.keys
        alpha = rng.integers(0, 1 << bits, n, dtype=np.uint64)
        beta = rng.integers(0, 1 << 63, n, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        x = rng.integers(0, 1 << bits, n, dtype=np.uint64)
        tables = rng.integers(0, 1 << 63, (ntab, 1 << bits), dtype=np.uint64) * np.uint64(3)
        kb = gen.dpf_gen(alpha, beta, False, bits, 64, bytes(range(16)))
        k0 = np.ascontiguousarray(np.frombuffer(bytes(np.asarray(kb[0]).tobytes()), dtype=np.uint8))
        outs = [m.dpf_lookup(0, k0, x, tables) for m in mods]
        same = all(np.array_equal(outs[0], o) for o in outs[1:])
        times = [[] for _ in mods]
        for _ in range(a.reps):
            for i, m in enumerate(mods):
                t0 = time.perf_counter()
                m.dpf_lookup(0, k0, x, tables)
                times[i].append(time.perf_counter() - t0)
        meds = [statistics.median(t) * 1e9 / n for t in times]
        line = "  ".join(f"{chr(65 + i)}: {v:7.1f} ns/key" for i, v in enumerate(meds))
        ratio = f"  (B/A {meds[1] / meds[0]:.3f})" if len(meds) > 1 else ""
        print(f"{bits}-bit x {ntab} tables, {n} keys, median of {a.reps}: {line}{ratio}  identical={same}")


if __name__ == "__main__":
    main()
