"""Benchmarks: ``fsskernels bench`` (``python -m fsskernels.bench``) measures kernels, gates, an
encoder layer, a fine-tuning step and aggregation on this machine, beside real peers (AES ceiling,
sycret, CrypTen, TenSEAL) measured in the same run, and writes JSON, markdown and PNG plots.
See docs/benchmarks.md.

Modules: registry (the cases shared with bench/*.py), cases_* (the cases per section),
mpcmeasure (two-party timing), sections (running a section with its peers), peerenv (peer
venvs and scripts), peers (AES ceiling, sycret), envinfo (machine), report (markdown, README
tables), plots (PNG); kernels + table (the detailed ``bench kernels`` table).
The library never imports this package.
"""
from __future__ import annotations

__all__ = ["envinfo", "kernels", "mpcmeasure", "peerenv", "peers", "plots", "registry", "report", "sections", "table"]
