"""Our kernel measurements: fixed-key AES hash, DPF/DCF keygen and eval per (bits, out_bits),
per N and per thread count, key bytes, AES blocks per operation and the implied fraction of
the same-run AES ceiling, 2-core scaling, heap allocations and peak memory per call.

All times are medians over repetitions. Throughput figures are one party's work: keygen
makes both parties' keys (keys/s counts key pairs), eval is one party's evaluation.
"""
from __future__ import annotations

import ctypes
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

import numpy as np

import fsskernels as fk

CONFIGS: tuple[tuple[int, int], ...] = ((32, 64), (64, 64), (64, 1), (32, 1))
SCHEMES: tuple[str, ...] = ("dpf", "dcf")
PRG_SIZES: tuple[int, ...] = (4096, 16384, 65536)

# Published peer figures (the team's anchor notes, not read at run time): measured on another machine (2-core AMD
# EPYC, Zen 4 class); shown beside, never divided into, same-run numbers.
PUBLISHED_LLAMA = {
    ("dcf", 64, 64): {"label": "LLAMA DCF 64/64", "keygen_keys_per_s": 137e3, "eval_per_s_1c": 302e3,
                      "eval_per_s_2c": 548e3, "key_bytes": 1568},
    ("dcf", 32, 64): {"label": "LLAMA DCF 32/32", "keygen_keys_per_s": 267e3, "eval_per_s_1c": 634e3,
                      "eval_per_s_2c": 1.21e6, "key_bytes": 668},
}
PUBLISHED_SOURCE = "ANCHORS.md: EzPC LLAMA, 2-core AMD EPYC (Zen 4 class), other machine"

# Targets (one core of the development machine) from the benchmark issue.
TARGETS = {
    "prg_frac_of_ceiling": 0.85,
    "dcf_eval_64_64": 5e6,
    "dcf_keygen_64_64": 1.5e6,
    "dpf_eval_32": 15e6,
    "scaling_2c": 2 * 0.85,
    "cmp_key_64_1": 952,
    "dcf_key_64_64": 1576,
}


# --------------------------------------------------------------------------- tree shapes
def dpf_levels(bits: int, out_bits: int) -> int:
    """L = n - nu of the early-terminated DPF tree (docs/kernels.md section 2)."""
    w = 1
    while w < out_bits:
        w *= 2
    nu = min(bits, int(math.log2(128 // w)))
    return bits - nu


def aes_blocks_per_eval(scheme: str, bits: int, out_bits: int) -> int:
    """Fixed-key AES blocks one evaluation needs: DPF L+1; BCG DCF 2n+1; 1-bit DCF 2L+1."""
    if scheme == "dpf":
        return dpf_levels(bits, out_bits) + 1
    if out_bits == 1:
        return 2 * dpf_levels(bits, 1) + 1
    return 2 * bits + 1


def aes_blocks_per_keygen(scheme: str, bits: int, out_bits: int) -> int:
    """Fixed-key AES blocks per key pair: both parties' children (and value blocks) per level,
    the two final value blocks. The 2 AES-CTR blocks of root randomness are not counted."""
    if scheme == "dpf" or out_bits == 1:
        return 4 * dpf_levels(bits, out_bits if scheme == "dpf" else 1) + 2
    return 6 * bits + 2


# --------------------------------------------------------------------------- machine, load
def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def loadavg() -> list[float]:
    try:
        with open("/proc/loadavg") as f:
            return [float(v) for v in f.read().split()[:3]]
    except OSError:
        return []


def _proc_stat() -> tuple[int, int] | None:
    """(busy, total) jiffies over all CPUs."""
    try:
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    total = sum(vals[:8])
    return total - idle, total


def idle_percent(window_s: float = 2.0) -> float | None:
    a = _proc_stat()
    time.sleep(window_s)
    b = _proc_stat()
    if a is None or b is None or b[1] == a[1]:
        return None
    return 100.0 * (1 - (b[0] - a[0]) / (b[1] - a[1]))


def wait_quiet(max_wait_s: float, min_idle: float = 90.0, log: Callable = print) -> float | None:
    """Waits until the machine is >= min_idle % idle over 2 s, at most max_wait_s."""
    waited = 0.0
    while True:
        idle = idle_percent(2.0)
        waited += 2.0
        if idle is None or idle >= min_idle or waited >= max_wait_s:
            log(f"[load] idle {idle if idle is None else round(idle)}% after {waited:.0f} s")
            return idle


class LoadMonitor:
    """CPU time spent by other processes while we run: (all CPUs busy - our CPU) / wall."""

    def start(self) -> "LoadMonitor":
        self.t0 = time.perf_counter()
        self.stat0 = _proc_stat()
        self.own0 = os.times()
        self.load0 = loadavg()
        return self

    def stop(self) -> dict[str, Any]:
        wall = time.perf_counter() - self.t0
        stat1, own1 = _proc_stat(), os.times()
        hz = os.sysconf("SC_CLK_TCK")
        res: dict[str, Any] = {"wall_s": round(wall, 1), "loadavg_start": self.load0, "loadavg_end": loadavg()}
        if self.stat0 and stat1:
            busy = (stat1[0] - self.stat0[0]) / hz
            own = sum(own1[i] - self.own0[i] for i in range(4))
            res["other_busy_cores_avg"] = round(max(0.0, busy - own) / wall, 2)
            res["own_busy_cores_avg"] = round(own / wall, 2)
        return res


# --------------------------------------------------------------------------- timing
def measure_prg(threads_list: list[int], reps: int, log: Callable = print) -> list[dict[str, Any]]:
    """fsskernels.prg_hash on a cache-resident buffer reused for every call (8 M blocks per
    repetition; thread counts and buffer sizes interleaved within each repetition)."""
    rng = np.random.default_rng(7)
    bufs = {size: rng.integers(0, 256, size=(size, 16), dtype=np.uint8) for size in PRG_SIZES}
    outs = {size: np.empty((size, 16), dtype=np.uint8) for size in PRG_SIZES}  # no allocation in the loop
    times: dict[tuple[int, int], list[float]] = {(t, z): [] for t in threads_list for z in PRG_SIZES}
    for t in threads_list:
        fk.set_num_threads(t)
        for z in PRG_SIZES:
            fk.prg_hash(bufs[z], 1, out=outs[z])
    for _ in range(max(reps, 7)):
        for t in threads_list:
            fk.set_num_threads(t)
            for z, buf in bufs.items():
                calls = max(1, (1 << 23) // z)
                t0 = time.perf_counter()
                for _ in range(calls):
                    fk.prg_hash(buf, 1, out=outs[z])
                times[(t, z)].append(time.perf_counter() - t0)
    rows = []
    for (t, z), ts in times.items():
        calls = max(1, (1 << 23) // z)
        rate = calls * z / statistics.median(ts)
        rows.append({"threads": t, "blocks": z, "calls_per_rep": calls, "reps": len(ts),
                     "s_all": [round(v, 5) for v in ts], "blocks_per_s": rate,
                     "blocks_per_s_best": calls * z / min(ts)})
        log(f"[prg] threads={t} buffer={z} blocks: {rate / 1e9:.3f} G blocks/s")
    return rows


def _check_correct(scheme: str, bits: int, out_bits: int, n: int = 4096) -> str:
    """Reconstructs both parties' shares at x = alpha, alpha +- 1 and random x."""
    rng = np.random.default_rng(99 + bits * 131 + out_bits)
    top = (1 << bits) - 1
    alpha = rng.integers(0, top, size=n, dtype=np.uint64, endpoint=True)
    mask = np.uint64((1 << out_bits) - 1) if out_bits < 64 else np.uint64(0xFFFFFFFFFFFFFFFF)
    beta = rng.integers(0, 2**63, size=n, dtype=np.uint64) & mask
    k0, k1 = (fk.dpf_gen if scheme == "dpf" else fk.dcf_gen)(alpha, beta, bits=bits, out_bits=out_bits)
    x = alpha.copy()
    i = np.arange(n)
    with np.errstate(over="ignore"):
        x[i % 4 == 1] += np.uint64(1)
        x[i % 4 == 2] -= np.uint64(1)
    x[i % 4 == 3] = rng.integers(0, top, size=int((i % 4 == 3).sum()), dtype=np.uint64, endpoint=True)
    x &= np.uint64(top)
    ev = fk.dpf_eval if scheme == "dpf" else fk.dcf_eval
    with np.errstate(over="ignore"):
        got = (ev(0, k0, x) + ev(1, k1, x)) & mask
    hit = (x == alpha) if scheme == "dpf" else (x < alpha)
    want = np.where(hit, beta, np.uint64(0)) & mask
    return f"{int((got == want).sum())}/{n}"


def measure_fss(configs: list[tuple[int, int]], ns: list[int], threads_list: list[int], reps: int,
                budget_s: float, log: Callable = print,
                between: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """keygen and one-party eval throughput per (scheme, bits, out_bits, N, threads).

    Thread counts are interleaved inside each repetition (gen and eval at 1 thread, then at
    all threads, then the next repetition), so a change of background load hits both and the
    scaling ratio stays fair. `between` runs before each (bits, out_bits, scheme) block (the
    AES ceiling is re-sampled there)."""
    rows = []
    for bits, out_bits in configs:
        for scheme in SCHEMES:
            if between is not None:
                between()
            gen = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
            ev = fk.dpf_eval if scheme == "dpf" else fk.dcf_eval
            fk.set_num_threads(max(threads_list))
            correct = _check_correct(scheme, bits, out_bits)
            for n in ns:
                rng = np.random.default_rng(n + bits * 7 + out_bits)
                top = (1 << bits) - 1
                alpha = rng.integers(0, top, size=n, dtype=np.uint64, endpoint=True)
                beta = rng.integers(0, 1 << min(out_bits, 63), size=n, dtype=np.uint64)
                x = rng.integers(0, top, size=n, dtype=np.uint64, endpoint=True)
                row: dict[str, Any] = {
                    "scheme": scheme, "bits": bits, "out_bits": out_bits, "n": n, "correct": correct,
                    "aes_blocks_per_eval": aes_blocks_per_eval(scheme, bits, out_bits),
                    "aes_blocks_per_keygen": aes_blocks_per_keygen(scheme, bits, out_bits),
                    "threads": {},
                }
                tg: dict[int, list[float]] = {t: [] for t in threads_list}
                te: dict[int, list[float]] = {t: [] for t in threads_list}
                for t in threads_list:  # warm up each pool size
                    fk.set_num_threads(t)
                    w0, _ = gen(alpha[:64], beta[:64], bits=bits, out_bits=out_bits)
                    ev(0, w0, x[:64])
                spent = 0.0
                for r in range(reps):
                    for t in threads_list:
                        fk.set_num_threads(t)
                        t0 = time.perf_counter()
                        k0, k1 = gen(alpha, beta, bits=bits, out_bits=out_bits)
                        tg[t].append(time.perf_counter() - t0)
                        del k1
                        t0 = time.perf_counter()
                        y = ev(0, k0, x)
                        te[t].append(time.perf_counter() - t0)
                        row["key_bytes"], row["batch_bytes"] = k0.key_size, k0.nbytes
                        del y, k0
                        spent += tg[t][-1] + te[t][-1]
                    if r + 1 >= min(3, reps) and spent > budget_s * len(threads_list):
                        break
                for t in threads_list:
                    mg, me = statistics.median(tg[t]), statistics.median(te[t])
                    row["threads"][t] = {
                        "keygen_s_all": [round(v, 5) for v in tg[t]], "keygen_keys_per_s": n / mg,
                        "keygen_keys_per_s_best": n / min(tg[t]),
                        "eval_s_all": [round(v, 5) for v in te[t]], "eval_per_s": n / me,
                        "eval_per_s_best": n / min(te[t]),
                    }
                    log(f"[fss] {scheme} {bits}->{out_bits} N={n} threads={t}: keygen {n / mg / 1e6:.3f} M keys/s, "
                        f"eval {n / me / 1e6:.3f} M evals/s, {row['key_bytes']} B/key, correct {correct}")
                rows.append(row)
    return rows


# --------------------------------------------------------------------------- allocations, memory
_COUNTER_C = r"""
#include <stddef.h>
#include <errno.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static unsigned long long n_alloc, n_bytes;
static inline void note(size_t n) {
  __atomic_fetch_add(&n_alloc, 1, __ATOMIC_RELAXED);
  __atomic_fetch_add(&n_bytes, n, __ATOMIC_RELAXED);
}
void *malloc(size_t n) { note(n); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { note(a * b); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { note(n); return __libc_realloc(p, n); }
void *memalign(size_t al, size_t n) { note(n); return __libc_memalign(al, n); }
void *aligned_alloc(size_t al, size_t n) { note(n); return __libc_memalign(al, n); }
int posix_memalign(void **out, size_t al, size_t n) {
  note(n); void *p = __libc_memalign(al, n); if (!p) return ENOMEM; *out = p; return 0;
}
unsigned long long fsb_alloc_count(void) { return __atomic_load_n(&n_alloc, __ATOMIC_RELAXED); }
unsigned long long fsb_alloc_bytes(void) { return __atomic_load_n(&n_bytes, __ATOMIC_RELAXED); }
"""


def _build_alloc_counter(tmpdir: str) -> str | None:
    """An LD_PRELOAD library counting malloc-family calls (glibc only), or None."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None or not sys.platform.startswith("linux"):
        return None
    src = os.path.join(tmpdir, "alloc_counter.c")
    lib = os.path.join(tmpdir, "alloc_counter.so")
    with open(src, "w") as f:
        f.write(_COUNTER_C)
    r = subprocess.run([gcc, "-O2", "-shared", "-fPIC", src, "-o", lib], capture_output=True, text=True)
    return lib if r.returncode == 0 else None


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Returns freed heap memory to the OS (so reuse does not hide growth), then resets
    VmHWM to the current RSS (Linux >= 4.0: /proc/self/clear_refs, value 5)."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def memcheck_child(configs: list[tuple[int, int]], ns: list[int], threads: int) -> list[dict[str, Any]]:
    """Runs inside a fresh process (optionally under the allocation counter): heap
    allocations and peak RSS growth of one gen and one eval call per case."""
    lib = os.environ.get("FSS_ALLOC_COUNTER")
    counter = ctypes.CDLL(lib) if lib else None
    if counter is not None:
        counter.fsb_alloc_count.restype = ctypes.c_ulonglong
        counter.fsb_alloc_bytes.restype = ctypes.c_ulonglong
    count = (lambda: (int(counter.fsb_alloc_count()), int(counter.fsb_alloc_bytes()))) if counter else (lambda: (0, 0))
    fk.set_num_threads(threads)
    out = []
    for bits, out_bits in configs:
        for scheme in SCHEMES:
            gen = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
            ev = fk.dpf_eval if scheme == "dpf" else fk.dcf_eval
            w0, w1 = gen(np.arange(64, dtype=np.uint64), 1, bits=bits, out_bits=out_bits)
            ev(0, w0, np.arange(64, dtype=np.uint64))
            del w0, w1
            for n in ns:
                rng = np.random.default_rng(n)
                top = (1 << bits) - 1
                alpha = rng.integers(0, top, size=n, dtype=np.uint64, endpoint=True)
                x = rng.integers(0, top, size=n, dtype=np.uint64, endpoint=True)
                rec: dict[str, Any] = {"scheme": scheme, "bits": bits, "out_bits": out_bits, "n": n,
                                       "threads": threads}
                peak_ok = _reset_peak()
                base = _status_kb("VmRSS")
                c0 = count()
                k0, k1 = gen(alpha, 1, bits=bits, out_bits=out_bits)
                c1 = count()
                peak = _status_kb("VmHWM")
                expect = k0.nbytes + k1.nbytes
                rec["gen"] = {"allocs": c1[0] - c0[0], "alloc_bytes": c1[1] - c0[1],
                              "expected_bytes": expect,
                              "peak_extra_bytes": (peak - base) * 1024 - expect if peak_ok else None}
                del k1
                peak_ok = _reset_peak()
                base = _status_kb("VmRSS")
                c0 = count()
                y = ev(0, k0, x)
                c1 = count()
                peak = _status_kb("VmHWM")
                rec["eval"] = {"allocs": c1[0] - c0[0], "alloc_bytes": c1[1] - c0[1],
                               "expected_bytes": int(y.nbytes),
                               "peak_extra_bytes": (peak - base) * 1024 - int(y.nbytes) if peak_ok else None}
                del k0, y
                out.append(rec)
    return out


def measure_memory(configs: list[tuple[int, int]], ns: list[int], threads: int,
                   log: Callable = print) -> dict[str, Any]:
    """Runs memcheck_child in a subprocess under the allocation counter (when gcc exists)."""
    with tempfile.TemporaryDirectory(prefix="fss-alloc-") as tmp:
        lib = _build_alloc_counter(tmp)
        env = dict(os.environ)
        if lib:
            env["LD_PRELOAD"] = lib + (" " + env["LD_PRELOAD"] if env.get("LD_PRELOAD") else "")
            env["FSS_ALLOC_COUNTER"] = lib
        cfg = [f"{b}:{o}" for b, o in configs]
        cmd = [sys.executable, "-m", "fsskernels.bench", "_memcheck", "--threads", str(threads),
               "--n", *map(str, ns), "--configs", *cfg]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
    if r.returncode != 0:
        log(f"[mem] memcheck failed: {r.stderr.strip()[-400:]}")
        return {"available": False, "note": r.stderr.strip()[-400:]}
    rows = json.loads(r.stdout.strip().splitlines()[-1])
    res: dict[str, Any] = {"available": True, "alloc_counter": bool(lib), "threads": threads, "ns": ns,
                           "cases": rows}
    # Allocations per key: growth of the per-call count between the smallest and largest N.
    summary = []
    if len(ns) >= 2:
        lo, hi = min(ns), max(ns)
        for bits, out_bits in configs:
            for scheme in SCHEMES:
                a = {r_["n"]: r_ for r_ in rows if (r_["scheme"], r_["bits"], r_["out_bits"]) == (scheme, bits, out_bits)}
                for op in ("gen", "eval"):
                    per_key = (a[hi][op]["allocs"] - a[lo][op]["allocs"]) / (hi - lo)
                    ex = a[hi][op]["peak_extra_bytes"]
                    summary.append({"scheme": scheme, "bits": bits, "out_bits": out_bits, "op": op,
                                    f"allocs_at_{lo}": a[lo][op]["allocs"], f"allocs_at_{hi}": a[hi][op]["allocs"],
                                    "allocs_per_key": per_key, "n": hi,
                                    "expected_bytes": a[hi][op]["expected_bytes"], "peak_extra_bytes": ex})
                    log(f"[mem] {scheme} {bits}->{out_bits} {op}: allocs/call {a[lo][op]['allocs']} (N={lo}) "
                        f"{a[hi][op]['allocs']} (N={hi}); peak beyond keys+outputs at N={hi}: "
                        f"{'n/a' if ex is None else f'{ex / 2**20:.1f} MiB'} "
                        f"(keys+outputs {a[hi][op]['expected_bytes'] / 2**20:.1f} MiB)")
    res["summary"] = summary
    return res


# --------------------------------------------------------------------------- derived, targets
def derive(result: dict[str, Any]) -> None:
    """Adds scaling, AES fractions and sycret ratios in place."""
    threads = result["config"]["threads"]
    t1, tall = min(threads), max(threads)
    ceil = result.get("ceiling", {})
    c1 = ceil.get("one_core", {}).get("blocks_per_s", {}).get("ecb") if ceil.get("one_core", {}).get("available") else None
    call = ceil.get("all_cores", {}).get("blocks_per_s", {}).get("ecb") if ceil.get("all_cores", {}).get("available") else None
    syc = {}
    for r in result.get("sycret", {}).get("rows", []):
        syc[(r["scheme"], r["n"], r["threads"])] = r
    for row in result["fss"]:
        th = row["threads"]
        d: dict[str, Any] = {}
        if t1 in th and tall in th and tall != t1:
            d["keygen_scaling"] = th[tall]["keygen_keys_per_s"] / th[t1]["keygen_keys_per_s"]
            d["eval_scaling"] = th[tall]["eval_per_s"] / th[t1]["eval_per_s"]
        for t, c in ((t1, c1), (tall, call if tall != t1 else c1)):
            if t in th and c:
                d[f"eval_frac_ceiling_{t}t"] = th[t]["eval_per_s"] * row["aes_blocks_per_eval"] / c
                d[f"keygen_frac_ceiling_{t}t"] = th[t]["keygen_keys_per_s"] * row["aes_blocks_per_keygen"] / c
        if row["bits"] == 32:
            name = "eq" if row["scheme"] == "dpf" else "le"
            for t in threads:
                s = syc.get((name, row["n"], t))
                if s and t in th:
                    d[f"vs_sycret_keygen_{t}t"] = th[t]["keygen_keys_per_s"] / s["keygen_keys_per_s"]
                    d[f"vs_sycret_eval_{t}t"] = th[t]["eval_per_s"] / s["eval_per_s"]
        pub = PUBLISHED_LLAMA.get((row["scheme"], row["bits"], row["out_bits"]))
        if pub:
            d["published"] = dict(pub, source=PUBLISHED_SOURCE)
        row["derived"] = d
    for r in result.get("prg", []):
        c = c1 if r["threads"] == t1 else call
        r["frac_ceiling"] = r["blocks_per_s"] / c if c else None


def _find(result: dict[str, Any], scheme: str, bits: int, out_bits: int, n: int) -> dict[str, Any] | None:
    for r in result["fss"]:
        if (r["scheme"], r["bits"], r["out_bits"], r["n"]) == (scheme, bits, out_bits, n):
            return r
    return None


def evaluate_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target: name, measured value, goal, met (True/False/None when not measured)."""
    cfg = result["config"]
    t1, tall = min(cfg["threads"]), max(cfg["threads"])
    n = max(cfg["n"])
    out: list[dict[str, Any]] = []

    def add(name: str, value: Any, goal: str, met: bool | None, fmt: str = "") -> None:
        out.append({"target": name, "value": value, "goal": goal, "met": met, "shown": fmt})

    prg1 = [r for r in result.get("prg", []) if r["threads"] == t1]
    best = max(prg1, key=lambda r: r["blocks_per_s"]) if prg1 else None
    if best and best.get("frac_ceiling"):
        f = best["frac_ceiling"]
        add("fixed-key AES hash, 1 core, vs VAES ECB ceiling", f, ">= 85%", f >= TARGETS["prg_frac_of_ceiling"],
            f"{f:.0%} ({best['blocks_per_s'] / 1e9:.3f} G blocks/s median, best rep "
            f"{best['blocks_per_s_best'] / 1e9:.3f}; buffer {best['blocks']} blocks)")
    else:
        add("fixed-key AES hash, 1 core, vs VAES ECB ceiling", None, ">= 85%", None, "ceiling unavailable")

    def rate(scheme: str, bits: int, ob: int, key: str, nn: int) -> float | None:
        r = _find(result, scheme, bits, ob, nn)
        return r["threads"][t1].get(key) if r and t1 in r["threads"] else None

    for name, (scheme, bits, ob, key), goal in (
        ("DCF eval 64/64, 1 core", ("dcf", 64, 64, "eval_per_s"), TARGETS["dcf_eval_64_64"]),
        ("DCF keygen 64/64, 1 core", ("dcf", 64, 64, "keygen_keys_per_s"), TARGETS["dcf_keygen_64_64"]),
        ("DPF eval bits=32 (out 64), 1 core", ("dpf", 32, 64, "eval_per_s"), TARGETS["dpf_eval_32"]),
    ):
        vals = {nn: (rate(scheme, bits, ob, key, nn), rate(scheme, bits, ob, key.replace("_per_s", "_per_s_best"), nn))
                for nn in cfg["n"]}
        vals = {nn: v for nn, v in vals.items() if v[0] is not None}
        shown = "; ".join(f"N={nn:g}: {v / 1e6:.2f} M/s median (best rep {b / 1e6:.2f})" for nn, (v, b) in vals.items())
        add(name, {nn: v for nn, (v, _) in vals.items()} or None, f">= {goal / 1e6:g} M/s",
            all(v >= goal for v, _ in vals.values()) if vals else None, shown or "n/a")

    if tall != t1:
        parts, ok_all = [], []
        for nn in cfg["n"]:
            worst, ok = None, []
            for r in result["fss"]:
                if r["n"] != nn:
                    continue
                for op in ("keygen", "eval"):
                    sc = r["derived"].get(f"{op}_scaling")
                    if sc is None:
                        continue
                    ok.append(sc >= 0.85 * tall)
                    if worst is None or sc < worst[0]:
                        worst = (sc, f"{r['scheme']} {r['bits']}->{r['out_bits']} {op}")
            if worst:
                parts.append(f"N={nn:g}: {sum(ok)}/{len(ok)} met, worst {worst[0]:.2f}x ({worst[1]})")
            ok_all += ok
        add(f"{tall} cores within 15% of {tall}x one core (every kernel)", None, f">= {0.85 * tall:.2f}x",
            all(ok_all) if ok_all else None, "; ".join(parts) or "n/a")

    mem = result.get("memory", {})
    if mem.get("available") and mem.get("summary"):
        if mem.get("alloc_counter"):
            worst_pk = max(mem["summary"], key=lambda s: s["allocs_per_key"])
            met = worst_pk["allocs_per_key"] < 1e-3
            add("no per-key heap allocation", worst_pk["allocs_per_key"], "0 allocations per key", met,
                f"max {worst_pk['allocs_per_key']:.2g} allocs/key ({worst_pk['scheme']} {worst_pk['bits']}->"
                f"{worst_pk['out_bits']} {worst_pk['op']})")
        exs = [s for s in mem["summary"] if s["peak_extra_bytes"] is not None]
        if exs:
            worst_m = max(exs, key=lambda s: s["peak_extra_bytes"] / s["expected_bytes"])
            frac = worst_m["peak_extra_bytes"] / worst_m["expected_bytes"]
            met = all(s["peak_extra_bytes"] <= 0.05 * s["expected_bytes"] + 4 * 2**20 for s in exs)
            add("memory is keys plus outputs", frac, "peak RSS growth <= keys+outputs + 5% + 4 MiB", met,
                f"worst extra {worst_m['peak_extra_bytes'] / 2**20:.1f} MiB = {frac:.1%} of keys+outputs "
                f"({worst_m['scheme']} {worst_m['bits']}->{worst_m['out_bits']} {worst_m['op']}, N={worst_m['n']})")

    for name, (scheme, bits, ob), goal in (
        ("1-bit comparison key, bits=64 (vs GPU-MPC ~952 B)", ("dcf", 64, 1), TARGETS["cmp_key_64_1"]),
        ("DCF key 64/64 (vs BCG formula 1576 B; LLAMA 1568 B)", ("dcf", 64, 64), TARGETS["dcf_key_64_64"]),
    ):
        r = _find(result, scheme, bits, ob, n)
        v = r["key_bytes"] if r else None
        add(name, v, f"<= {goal} B", None if v is None else v <= goal, "n/a" if v is None else f"{v} B")
    return out


def environment() -> dict[str, Any]:
    info = fk.build_info()
    ext = getattr(fk._C, "__file__", None)
    return {
        "cpu_model": cpu_model(), "cpu_count": os.cpu_count(), "platform": platform.platform(),
        "python": sys.version.split()[0], "numpy": np.__version__, "fsskernels": fk.__version__,
        "build_info": info, "extension": ext,
        "extension_mtime": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(ext))) if ext else None,
    }
