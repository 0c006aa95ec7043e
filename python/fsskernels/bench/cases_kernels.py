"""Kernel cases: DPF and DCF keygen / one-party eval throughput against the batch size
(1e3 .. 1e7 keys; ``--quick``: 1e3 .. 1e5), one thread, per (bits, out_bits). The same-run AES
ceiling (bench/peers/aes_ceiling.c) and sycret 0.2.8 (bench/peers/sycret_fss.py, 32-bit only) are
measured by the section runner (sections.py) and drawn beside these rows.

Each row is ``kernels.measure_fss`` output (every repetition's seconds, keys/s, evals/s, key
bytes, a correctness check of both parties' shares). Batch sizes whose keys and outputs would
not fit in a third of the machine's available memory are skipped with the reason.
"""
from __future__ import annotations

from typing import Any

from .registry import Case, register

FULL_NS = [1_000, 10_000, 100_000, 1_000_000, 10_000_000]
QUICK_NS = [1_000, 10_000, 100_000]
CONFIGS = [(32, 64), (64, 64), (64, 1)]


def mem_available() -> int | None:
    """MemAvailable of /proc/meminfo in bytes (None where unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def bytes_needed(n: int, bits: int, out_bits: int) -> int:
    """Both parties' key batches (an upper bound of the DCF key size) plus inputs and outputs."""
    key = 24 * bits + 64 if out_bits > 1 else 16 * bits + 64
    return n * (2 * key + 3 * 8)


def fits(ns: list[int], bits: int, out_bits: int, avail: int | None) -> tuple[list[int], list[str]]:
    """(batch sizes that fit in a third of ``avail`` bytes, reasons for those that do not)."""
    ok, why = [], []
    for n in ns:
        need = bytes_needed(n, bits, out_bits)
        if avail is not None and need > avail // 3:
            why.append(f"N={n}: needs ~{need / 2**30:.1f} GiB, a third of available memory is "
                       f"{avail / 3 / 2**30:.1f} GiB")
        else:
            ok.append(n)
    return ok, why


def _measure(bits: int, out_bits: int):
    def measure(params: dict[str, Any], reps: int) -> dict[str, Any]:
        from . import kernels

        ns, skipped = fits(list(params["n"]), bits, out_bits, mem_available())
        rows = kernels.measure_fss([(bits, out_bits)], ns, [1], max(reps, 1), float(params["budget_s"]),
                                   log=lambda m: None)
        for r in rows:
            r["threads"] = {str(k): v for k, v in r["threads"].items()}
        return {"rows": rows, "skipped_n": skipped, "threads": 1,
                "includes": "keygen: both parties' keys in one call; eval: one party; 1 thread; "
                            "inputs uniformly random; medians of the repetitions"}

    return measure


for _b, _o in CONFIGS:
    register(Case("kernels", f"fss_{_b}_{_o}", _measure(_b, _o),
                  params={"bits": _b, "out_bits": _o, "n": FULL_NS, "budget_s": 20.0},
                  quick_params={"bits": _b, "out_bits": _o, "n": QUICK_NS, "budget_s": 3.0},
                  peer="sycret" if _b == 32 else None,
                  description=f"DPF and DCF {_b}->{_o} bits: keygen and eval vs batch size"))

__all__ = ["CONFIGS", "FULL_NS", "QUICK_NS", "bytes_needed", "fits", "mem_available"]
