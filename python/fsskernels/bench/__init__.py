"""Kernel benchmark harness: ``python -m fsskernels.bench kernels``.

Measures keygen keys/s and eval evals/s of the CPU DPF/DCF kernels on one core and on all
cores, key bytes, the fixed-key AES hash, the per-core AES ceiling (``aes_limit.c`` from the
peers directory, compiled at run time) and sycret 0.2.8 (in its own virtual environment),
all in one run so the ratios hold on a noisy machine. See docs/benchmarks.md.

Modules: kernels (our measurements, targets), peers (AES ceiling, sycret), table (printing).
"""
from __future__ import annotations

__all__ = ["kernels", "peers", "table"]
