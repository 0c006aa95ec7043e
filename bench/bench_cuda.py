"""GPU benchmarks of the CUDA backend: DPF / DCF evaluation and key generation at N = 2^20
keys, full-domain DPF evaluation and table lookup, the AES hash, and ring_matmul (SIMT and tensor-core IMMA
kernels) beside float64 (torch) / int64 (CuPy) matmul.

    python bench/bench_cuda.py [--n 1048576] [--reps 20] [--quick] [--json out.json]
    pytest bench/bench_cuda.py --benchmark-only          # pytest-benchmark cases (skip without a GPU)

Timings, per case:
  kernel   CUDA events around the kernel alone: keys, x and the output resident on the GPU,
           the raw entry point (fsskernels._C_cuda) with the x range check off, averaged over
           --reps back-to-back launches on the current stream.
  api      the public call on GPU-resident arrays (fk.dpf_eval(party, keys, x_cuda)): output
           allocation, the x range check and its stream synchronization included.
  e2e      end to end from host memory: numpy x -> GPU, evaluate, result -> numpy (keys stay
           resident on the GPU; they are made once per session). Wall clock, synchronized.
Keygen: "kernel" is the raw entry on resident alpha (it synchronizes once for the alpha check),
"e2e" starts from numpy alpha and ends with both key batches downloaded to host bytes.
Ring GEMM: "kernel" by CUDA events on resident operands, in ring multiply-adds per second
(m*k*n / time); the IMMA result is compared with the SIMT result in full on the GPU and with
the CPU on a row block. CuPy's int64 matmul and torch's float64 bmm are timed on the same
shapes for scale.
Targets (issue 20, H100/H200, kernel-only): DPF bits=20 out_bits=1 <= 2 ns/key, DCF bits=64
<= 10 ns/key, keygen within 2x of eval, ring GEMM 4096^3 >= 5x CuPy int64; the JSON's
"targets" lists each with the measured value and met / not met. Each run also checks a
reconstruction (s0 + s1) against the expected function values. A case that raises is
recorded with its error and the run goes on (exit status 1).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Callable

import numpy as np

try:
    import fsskernels as fk
    from fsskernels import _C_cuda as M
except ImportError:  # pragma: no cover - not built
    fk = None
    M = None


# --------------------------------------------------------------------------- device helpers
class Dev:
    """torch (preferred) or CuPy: allocation, copies, events, the current stream."""

    def __init__(self) -> None:
        self.torch = self.cupy = None
        try:
            import torch

            if torch.cuda.is_available():
                self.torch = torch
        except ImportError:
            pass
        if self.torch is None:
            import cupy

            self.cupy = cupy
        self.name = "torch" if self.torch is not None else "cupy"

    def to_dev(self, arr: np.ndarray) -> Any:
        if self.torch is not None:
            return self.torch.from_numpy(np.ascontiguousarray(arr).view(np.int64)).cuda()
        return self.cupy.asarray(arr)

    def to_host(self, obj: Any) -> np.ndarray:
        if self.torch is not None:
            return obj.cpu().numpy().view(np.uint64)
        return self.cupy.asnumpy(obj).view(np.uint64)

    def empty_u64(self, shape) -> Any:
        if self.torch is not None:
            return self.torch.empty(shape, dtype=self.torch.int64, device="cuda")
        return self.cupy.empty(shape, dtype=self.cupy.uint64)

    def ptr(self, obj: Any) -> int:
        return int(obj.data_ptr()) if self.torch is not None else int(obj.data.ptr)

    def device(self) -> int:
        return int(self.torch.cuda.current_device()) if self.torch is not None else int(self.cupy.cuda.Device().id)

    def stream(self) -> int:
        if self.torch is not None:
            return int(self.torch.cuda.current_stream().cuda_stream)
        return int(self.cupy.cuda.get_current_stream().ptr)

    def sync(self) -> None:
        if self.torch is not None:
            self.torch.cuda.synchronize()
        else:
            self.cupy.cuda.Device().synchronize()

    def events_ms(self, fn: Callable[[], Any], reps: int) -> float:
        """Mean milliseconds per call of fn (enqueued back to back) by CUDA events."""
        fn()  # warm-up
        self.sync()
        if self.torch is not None:
            start, end = self.torch.cuda.Event(enable_timing=True), self.torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(reps):
                fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / reps
        start, end = self.cupy.cuda.Event(), self.cupy.cuda.Event()
        start.record()
        for _ in range(reps):
            fn()
        end.record()
        end.synchronize()
        return self.cupy.cuda.get_elapsed_time(start, end) / reps

    def wall_ms(self, fn: Callable[[], Any], reps: int) -> float:
        """Median wall-clock milliseconds of fn, synchronized before and after."""
        fn()
        self.sync()
        times = []
        for _ in range(reps):
            self.sync()
            t0 = time.perf_counter()
            fn()
            self.sync()
            times.append((time.perf_counter() - t0) * 1e3)
        return float(np.median(times))


def rand_bits(rng: np.random.Generator, n: int, bits: int) -> np.ndarray:
    v = np.frombuffer(rng.bytes(8 * n), dtype=np.uint64).copy()
    return v >> np.uint64(64 - bits) if bits < 64 else v


# --------------------------------------------------------------------------- cases
def eval_case(dev: Dev, scheme: str, bits: int, out_bits: int, n: int, reps: int) -> dict:
    rng = np.random.default_rng(bits * 100 + out_bits)
    alpha = rand_bits(rng, n, bits)
    beta = rand_bits(rng, n, out_bits)
    x = np.where(np.arange(n) % 2 == 0, alpha, rand_bits(rng, n, bits)).astype(np.uint64)
    gen = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
    ev = fk.dpf_eval if scheme == "dpf" else fk.dcf_eval
    alpha_d = dev.to_dev(alpha)
    k0, k1 = gen(alpha_d, dev.to_dev(beta), bits=bits, out_bits=out_bits)
    xd = dev.to_dev(x)
    out = dev.empty_u64((n,))
    d, key_ptr, hdr = dev.device(), dev.ptr(k0._dev_buf), k0._info["header"]

    def kernel():
        M.eval(scheme, 0, key_ptr, k0.nbytes, hdr, dev.ptr(xd), dev.ptr(out), d, dev.stream(), False)

    kernel_ms = dev.events_ms(kernel, reps)
    api_ms = dev.wall_ms(lambda: ev(0, k0, xd), reps)
    e2e_ms = dev.wall_ms(lambda: dev.to_host(ev(0, k0, dev.to_dev(x))), reps)
    # Reconstruction check.
    s = (dev.to_host(ev(0, k0, xd)) + dev.to_host(ev(1, k1, xd)))
    mask = np.uint64((1 << out_bits) - 1) if out_bits < 64 else np.uint64(2**64 - 1)
    s &= mask
    hit = (x == alpha) if scheme == "dpf" else (x < alpha)
    want = np.where(hit, beta & mask, np.uint64(0))
    ok = bool(np.array_equal(s, want))
    return {"case": f"{scheme} eval bits={bits} out={out_bits}", "n": n, "key_bytes": k0.key_size,
            "kernel_ms": kernel_ms, "api_ms": api_ms, "e2e_ms": e2e_ms, "check": ok}


def gen_case(dev: Dev, scheme: str, bits: int, out_bits: int, n: int, reps: int) -> dict:
    rng = np.random.default_rng(bits + 7)
    alpha = rand_bits(rng, n, bits)
    beta = rand_bits(rng, n, out_bits)
    gen = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
    alpha_d, beta_d = dev.to_dev(alpha), dev.to_dev(beta)
    key_len = int(fk._C.key_buffer_size(scheme, bits, out_bits, n))
    b0 = dev.torch.empty(key_len, dtype=dev.torch.uint8, device="cuda") if dev.torch is not None else \
        dev.cupy.empty(key_len, dtype=dev.cupy.uint8)
    b1 = dev.torch.empty_like(b0) if dev.torch is not None else dev.cupy.empty_like(b0)
    d = dev.device()

    def kernel():
        M.gen(scheme, dev.ptr(alpha_d), dev.ptr(beta_d), False, 0, n, bits, out_bits, None, dev.ptr(b0),
              dev.ptr(b1), key_len, d, dev.stream())

    kernel_ms = dev.events_ms(kernel, max(3, reps // 4))

    def e2e():
        g0, g1 = gen(dev.to_dev(alpha), dev.to_dev(beta), bits=bits, out_bits=out_bits)
        return g0.host_buffer(), g1.host_buffer()

    e2e_ms = dev.wall_ms(e2e, max(3, reps // 4))
    return {"case": f"{scheme} gen bits={bits} out={out_bits}", "n": n, "key_bytes": key_len // max(n, 1),
            "kernel_ms": kernel_ms, "api_ms": None, "e2e_ms": e2e_ms, "check": None}


def ring_case(dev: Dev, batch: int, m: int, k: int, n: int, reps: int, algo: str = "simt",
              baselines: bool = True) -> dict:
    """One ring_matmul shape with one kernel (algo "simt" or "imma"); with baselines, CuPy
    int64 and torch float64 products of the same shape too. The IMMA output is compared in
    full with the SIMT output (on the GPU) and on a row block with the CPU kernel."""
    rng = np.random.default_rng(m + k + n)
    a = rand_bits(rng, batch * m * k, 64).reshape(batch, m, k)
    b = rand_bits(rng, batch * k * n, 64).reshape(batch, k, n)
    ad, bd = dev.to_dev(a), dev.to_dev(b)
    cd = dev.empty_u64((batch, m, n))
    d = dev.device()

    def kernel(out=cd, which=algo):
        M.ring_matmul(dev.ptr(ad), dev.ptr(bd), dev.ptr(out), batch, m, k, n, m * k, k * n, d, dev.stream(), which)

    kernel_ms = dev.events_ms(kernel, reps)
    res = {"case": f"ring_matmul[{algo}] {batch}x{m}x{k}x{n}", "algo": algo, "n": batch * m * n,
           "kernel_ms": kernel_ms, "gmacs": batch * m * k * n / kernel_ms / 1e6}
    res["e2e_ms"] = dev.wall_ms(lambda: dev.to_host(_glue_ring(dev.to_dev(a), dev.to_dev(b), algo)),
                                max(3, reps // 4))
    # Spot check against the CPU kernel: the first 8 rows of the first batch entry.
    got = dev.to_host(cd)[0, :8]
    res["check"] = bool(np.array_equal(got, fk.ring_matmul(a[0, :8], b[0])))
    if algo != "simt":
        ref = dev.empty_u64((batch, m, n))
        kernel(ref, "simt")
        dev.sync()
        same = bool((ref == cd).all()) if dev.torch is not None else bool(dev.cupy.array_equal(ref, cd))
        res["equal_to_simt"] = same
        res["check"] = res["check"] and same
    if not baselines:
        return res
    if dev.torch is not None:
        af = dev.torch.randn(batch, m, k, dtype=dev.torch.float64, device="cuda")
        bf = dev.torch.randn(batch, k, n, dtype=dev.torch.float64, device="cuda")
        res["torch_f64_ms"] = dev.events_ms(lambda: dev.torch.bmm(af, bf), reps)
    try:
        import cupy

        ai = cupy.asarray(a.view(np.int64))
        bi = cupy.asarray(b.view(np.int64))
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        # CuPy has no int64 BLAS (a generic kernel, possibly seconds at 4096^3): one timed
        # call after the warm-up for the largest shapes.
        creps = 1 if batch * m * k * n >= (1 << 33) else max(1, reps // 4)
        cupy.matmul(ai, bi)
        start.record()
        for _ in range(creps):
            cupy.matmul(ai, bi)
        end.record()
        end.synchronize()
        res["cupy_i64_ms"] = cupy.cuda.get_elapsed_time(start, end) / creps
    except ImportError:
        pass
    return res


def _glue_ring(a: Any, b: Any, algo: str) -> Any:
    from fsskernels import _cuda

    return _cuda.ring_matmul(a, b, algo=algo)


def prg_case(dev: Dev, blocks: int, reps: int) -> dict:
    """The fixed-key AES hash H(x, j) on `blocks` resident 16-byte blocks (raw entry point)."""
    rng = np.random.default_rng(4)
    src = dev.to_dev(rand_bits(rng, 2 * blocks, 64))
    dst = dev.empty_u64((2 * blocks,))
    d = dev.device()
    kernel_ms = dev.events_ms(lambda: M.prg_hash(dev.ptr(src), dev.ptr(dst), blocks, 1, d, dev.stream()), reps)
    c = min(blocks, 4096)  # checked against the CPU on the first c blocks
    got = dev.to_host(dst[: 2 * c]).view(np.uint8).reshape(c, 16)
    want = fk._C.prg_hash(dev.to_host(src[: 2 * c]).view(np.uint8).reshape(c, 16), 1)
    return {"case": "prg_hash (AES-MMO)", "n": blocks, "kernel_ms": kernel_ms, "api_ms": None, "e2e_ms": None,
            "gblocks_per_s": blocks / kernel_ms / 1e6, "check": bool(np.array_equal(got, want))}


def eval_all_case(dev: Dev, bits: int, out_bits: int, keys: int, reps: int) -> dict:
    """Full-domain DPF evaluation (the lookup-table building block) of `keys` resident keys."""
    rng = np.random.default_rng(bits * 3 + keys)
    alpha = rand_bits(rng, keys, bits)
    beta = rand_bits(rng, keys, out_bits)
    k0, k1 = fk.dpf_gen(dev.to_dev(alpha), dev.to_dev(beta), bits=bits, out_bits=out_bits)
    out = dev.empty_u64((keys, 1 << bits))
    d, hdr = dev.device(), k0._info["header"]

    def kernel():
        M.eval_all(0, dev.ptr(k0._dev_buf), k0.nbytes, hdr, dev.ptr(out), keys << bits, d, dev.stream())

    kernel_ms = dev.events_ms(kernel, reps)
    e2e_ms = dev.wall_ms(lambda: dev.to_host(fk.dpf_eval_all(0, k0)), max(3, reps // 4))
    s = (dev.to_host(fk.dpf_eval_all(0, k0)) + dev.to_host(fk.dpf_eval_all(1, k1)))
    mask = np.uint64((1 << out_bits) - 1) if out_bits < 64 else np.uint64(2**64 - 1)
    want = np.zeros((keys, 1 << bits), np.uint64)
    want[np.arange(keys), alpha.astype(np.int64)] = beta & mask
    return {"case": f"dpf eval_all bits={bits} out={out_bits}", "n": keys << bits, "keys": keys,
            "kernel_ms": kernel_ms, "api_ms": None, "e2e_ms": e2e_ms, "check": bool(np.array_equal(s & mask, want))}


def lookup_case(dev: Dev, bits: int, out_bits: int, keys: int, ntab: int, reps: int) -> dict:
    """Table lookup with resident DPF keys (full-domain expansion + rotated-table reduction):
    the raw entry point by CUDA events; checked against the CPU dpf_lookup."""
    rng = np.random.default_rng(bits * 5 + ntab)
    alpha = rand_bits(rng, keys, bits)
    k0, _ = fk.dpf_gen(alpha, rand_bits(rng, keys, out_bits), bits=bits, out_bits=out_bits)
    g0 = k0.to("cuda")
    x = rand_bits(rng, keys, bits)
    tables = rand_bits(rng, ntab << bits, 64).reshape(ntab, 1 << bits)
    xd, td = dev.to_dev(x), dev.to_dev(tables)
    out = dev.empty_u64((ntab, keys))
    d, hdr = dev.device(), g0._info["header"]

    def kernel():
        M.dpf_lookup(0, dev.ptr(g0._dev_buf), g0.nbytes, hdr, dev.ptr(xd), dev.ptr(td), ntab, dev.ptr(out), d,
                     dev.stream())

    kernel_ms = dev.events_ms(kernel, reps)
    ok = bool(np.array_equal(dev.to_host(out), fk.dpf_lookup(0, k0, x, tables)))
    return {"case": f"dpf lookup bits={bits} out={out_bits} ntab={ntab}", "n": keys, "kernel_ms": kernel_ms,
            "api_ms": None, "e2e_ms": None, "check": ok}


def _guarded(fn: Callable[..., dict], name: str, *args: Any, **kw: Any) -> dict:
    """fn(*args) or, if it raises, a row with the error (the run goes on)."""
    try:
        return fn(*args, **kw)
    except Exception as exc:  # noqa: BLE001 - recorded, reported, exit status 1
        return {"case": name, "n": 0, "kernel_ms": None, "api_ms": None, "e2e_ms": None, "check": False,
                "error": f"{type(exc).__name__}: {exc}"}


RING_SHAPES = [(1, 1024, 1024, 1024), (1, 128, 768, 768), (16, 256, 256, 256)]
RING_LARGE = (1, 4096, 4096, 4096)
PRG_BLOCKS = 1 << 26
EVAL_ALL = [(8, 64, 1 << 16), (20, 1, 16)]  # (bits, out_bits, keys)
LOOKUP = [(8, 64, 1 << 16, 1), (10, 64, 1 << 14, 2)]  # (bits, out_bits, keys, tables)


def run_all(n: int, reps: int, quick: bool = False, *, ring_shapes: list | None = None, prg_blocks: int = PRG_BLOCKS,
            eval_all: list | None = None, lookup: list | None = None) -> list[dict]:
    """Every case; the keyword sizes exist so that a dry run without a GPU can shrink them."""
    dev = Dev()
    rows = []
    for scheme, bits, out_bits in (("dpf", 20, 1), ("dcf", 64, 64), ("dcf", 64, 1), ("dpf", 64, 64)):
        rows.append(_guarded(eval_case, f"{scheme} eval bits={bits} out={out_bits}", dev, scheme, bits, out_bits, n,
                             reps))
    for scheme, bits, out_bits in (("dpf", 20, 1), ("dcf", 64, 64), ("dcf", 64, 1)):
        rows.append(_guarded(gen_case, f"{scheme} gen bits={bits} out={out_bits}", dev, scheme, bits, out_bits, n,
                             reps))
    rows.append(_guarded(prg_case, "prg_hash (AES-MMO)", dev, prg_blocks, reps))
    for bits, out_bits, keys in (EVAL_ALL if eval_all is None else eval_all):
        rows.append(_guarded(eval_all_case, f"dpf eval_all bits={bits} out={out_bits}", dev, bits, out_bits, keys,
                             reps))
    for bits, out_bits, keys, ntab in (LOOKUP if lookup is None else lookup):
        rows.append(_guarded(lookup_case, f"dpf lookup bits={bits} out={out_bits} ntab={ntab}", dev, bits, out_bits, keys,
                             ntab, reps))
    shapes = list(RING_SHAPES if ring_shapes is None else ring_shapes)
    if not quick and ring_shapes is None:
        shapes.append(RING_LARGE)
    for shape in shapes:
        name = "x".join(map(str, shape))
        rows.append(_guarded(ring_case, f"ring_matmul[simt] {name}", dev, *shape, reps=reps, algo="simt"))
        rows.append(_guarded(ring_case, f"ring_matmul[imma] {name}", dev, *shape, reps=reps, algo="imma",
                             baselines=False))
    return rows


def _row(rows: list[dict], prefix: str) -> dict | None:
    for r in rows:
        if r["case"].startswith(prefix) and r.get("kernel_ms") is not None:
            return r
    return None


def targets(rows: list[dict]) -> list[dict]:
    """Issue 20's kernel-only targets, each with the measured value (None if not measured)."""
    out = []

    def ns_key(r: dict | None) -> float | None:
        return None if r is None else r["kernel_ms"] * 1e6 / r["n"]

    dpf, dcf = _row(rows, "dpf eval bits=20 out=1"), _row(rows, "dcf eval bits=64 out=64")
    out.append({"target": "DPF eval 20-bit in, 1-bit out, kernel-only <= 2 ns/key", "value": ns_key(dpf),
                "limit": 2.0})
    out.append({"target": "DCF eval 64-bit, kernel-only <= 10 ns/key", "value": ns_key(dcf), "limit": 10.0})
    for scheme, ev in (("dpf gen bits=20 out=1", dpf), ("dcf gen bits=64 out=64", dcf)):
        g = _row(rows, scheme)
        ratio = None if g is None or ev is None else g["kernel_ms"] / ev["kernel_ms"]
        out.append({"target": f"{scheme.split(' ')[0].upper()} keygen within 2x of eval (gen/eval time)",
                    "value": ratio, "limit": 2.0})
    simt, imma = _row(rows, "ring_matmul[simt] 1x4096x4096x4096"), _row(rows, "ring_matmul[imma] 1x4096x4096x4096")
    cupy_ms = simt.get("cupy_i64_ms") if simt else None
    speedup = None if imma is None or not cupy_ms else cupy_ms / imma["kernel_ms"]
    out.append({"target": "ring GEMM 4096^3 (IMMA) >= 5x CuPy int64 matmul (speedup)", "value": speedup,
                "limit": 5.0, "higher_is_better": True})
    for t in out:
        v = t["value"]
        t["met"] = None if v is None else (v >= t["limit"] if t.get("higher_is_better") else v <= t["limit"])
    return out


def print_table(rows: list[dict], device: str) -> None:
    print(f"device: {device}")
    hdr = f"{'case':34s} {'N':>9s} {'kernel ms':>10s} {'ns/key':>8s} {'api ms':>9s} {'e2e ms':>9s} {'ns/key':>8s}  extra"
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        n = r["n"]
        if r.get("error"):
            print(f"{r['case']:34s} ERROR {r['error']}")
            continue
        per = lambda ms: f"{ms * 1e6 / n:8.2f}" if ms is not None and n else f"{'-':>8s}"  # noqa: E731
        ms3 = lambda ms: f"{ms:9.3f}" if ms is not None else f"{'-':>9s}"  # noqa: E731
        api = ms3(r.get("api_ms"))
        extra = []
        if "gmacs" in r:
            extra.append(f"{r['gmacs']:.0f} G ring-MAC/s")
        if "gblocks_per_s" in r:
            extra.append(f"{r['gblocks_per_s']:.1f} G blocks/s")
        if "equal_to_simt" in r:
            extra.append("= simt" if r["equal_to_simt"] else "DIFFERS FROM SIMT")
        if "torch_f64_ms" in r:
            extra.append(f"torch f64 {r['torch_f64_ms']:.3f} ms")
        if "cupy_i64_ms" in r:
            extra.append(f"cupy i64 {r['cupy_i64_ms']:.3f} ms")
        if r.get("check") is not None:
            extra.append("check ok" if r["check"] else "CHECK FAILED")
        is_ring = r["case"].startswith("ring")
        print(f"{r['case']:34s} {n:9d} {r['kernel_ms']:10.3f} {per(r['kernel_ms']) if not is_ring else '-':>8s} "
              f"{api} {ms3(r.get('e2e_ms'))} {per(r.get('e2e_ms')) if not is_ring else '-':>8s}  {', '.join(extra)}")


def print_targets(tg: list[dict]) -> None:
    print("\ntargets (issue 20, kernel-only):")
    for t in tg:
        v = "not measured" if t["value"] is None else f"{t['value']:.3f}"
        met = {None: "-", True: "met", False: "NOT MET"}[t["met"]]
        print(f"  {t['target']:62s} {v:>14s}  {met}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1 << 20, help="keys per batch (default 2^20)")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="skip the largest ring_matmul")
    ap.add_argument("--json", help="write the rows as JSON here")
    args = ap.parse_args(argv)
    if fk is None or M is None:
        print("fsskernels CUDA module not built", file=sys.stderr)
        return 2
    if "cuda" not in fk.available_backends():
        print("no CUDA GPU visible", file=sys.stderr)
        return 2
    device = fk.build_info()["gpus"][0]
    rows = run_all(args.n, args.reps, args.quick)
    tg = targets(rows)
    print_table(rows, device)
    print_targets(tg)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": device, "build": fk.build_info(), "n": args.n, "reps": args.reps, "rows": rows,
                       "targets": tg}, f, indent=2)
    return 0 if all(r.get("check") in (None, True) and not r.get("error") for r in rows) else 1


# --------------------------------------------------------------------------- pytest-benchmark
try:
    import pytest
except ImportError:  # pragma: no cover
    pytest = None

if pytest is not None:
    _HAVE = fk is not None and M is not None and "cuda" in fk.available_backends()
    _skip = pytest.mark.skipif(not _HAVE, reason="no CUDA GPU / CUDA module")
    _N = 1 << 20
    _EVAL = [("dpf", 20, 1), ("dcf", 64, 64), ("dcf", 64, 1)]

    @_skip
    @pytest.mark.parametrize("scheme,bits,out_bits", _EVAL, ids=[f"{s}-{b}-{m}" for s, b, m in _EVAL])
    @pytest.mark.parametrize("mode", ["kernel", "e2e"])
    def test_cuda_eval(benchmark, scheme, bits, out_bits, mode):
        dev = Dev()
        rng = np.random.default_rng(1)
        alpha = rand_bits(rng, _N, bits)
        x = rand_bits(rng, _N, bits)
        gen = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
        ev = fk.dpf_eval if scheme == "dpf" else fk.dcf_eval
        k0, _ = gen(dev.to_dev(alpha), 1, bits=bits, out_bits=out_bits)
        xd = dev.to_dev(x)
        out = dev.empty_u64((_N,))
        d = dev.device()
        benchmark.group = f"cuda eval N=2^20 {mode}"
        if mode == "kernel":
            def fn():
                M.eval(scheme, 0, dev.ptr(k0._dev_buf), k0.nbytes, k0._info["header"], dev.ptr(xd), dev.ptr(out), d,
                       dev.stream(), False)
                dev.sync()
        else:
            def fn():
                return dev.to_host(ev(0, k0, dev.to_dev(x)))
        benchmark.pedantic(fn, rounds=10, iterations=1, warmup_rounds=2)
        benchmark.extra_info.update({"n": _N, "ns_per_key": benchmark.stats.stats.median * 1e9 / _N})

    @_skip
    @pytest.mark.parametrize("scheme,bits,out_bits", _EVAL, ids=[f"{s}-{b}-{m}" for s, b, m in _EVAL])
    def test_cuda_keygen(benchmark, scheme, bits, out_bits):
        dev = Dev()
        alpha = dev.to_dev(rand_bits(np.random.default_rng(2), _N, bits))
        gen = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
        benchmark.group = "cuda keygen N=2^20"

        def fn():
            r = gen(alpha, 1, bits=bits, out_bits=out_bits)
            dev.sync()
            return r

        benchmark.pedantic(fn, rounds=5, iterations=1, warmup_rounds=1)
        benchmark.extra_info.update({"n": _N, "ns_per_key": benchmark.stats.stats.median * 1e9 / _N})

    @_skip
    @pytest.mark.parametrize("shape", [(1, 1024, 1024, 1024), (16, 256, 256, 256)], ids=["1024^3", "16x256^3"])
    def test_cuda_ring_matmul(benchmark, shape):
        dev = Dev()
        batch, m, k, n = shape
        rng = np.random.default_rng(3)
        a = dev.to_dev(rand_bits(rng, batch * m * k, 64).reshape(batch, m, k))
        b = dev.to_dev(rand_bits(rng, batch * k * n, 64).reshape(batch, k, n))
        benchmark.group = "cuda ring_matmul"

        def fn():
            r = fk.ring_matmul(a, b)
            dev.sync()
            return r

        benchmark.pedantic(fn, rounds=10, iterations=1, warmup_rounds=2)
        benchmark.extra_info.update({"gmacs": batch * m * k * n / benchmark.stats.stats.median / 1e9})


if __name__ == "__main__":
    sys.exit(main())
