"""What a benchmark report records about the machine it ran on: CPU model and flags that matter
for AES and ring arithmetic, core count, memory, the AES path of the built kernels, thread
settings, the git commit of the source checkout (if any), versions of the packages involved and
the load average. Nothing here fails: unknown fields are None.
"""
from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
import time
from typing import Any

FLAGS_OF_INTEREST = ("aes", "vaes", "pclmulqdq", "vpclmulqdq", "avx2", "avx512f", "avx512dq", "avx512ifma",
                     "avx512_vnni", "avx512vl", "bmi2", "sha_ni")
PACKAGES = ("fsskernels", "torch", "numpy", "matplotlib", "transformers", "peft", "pytest-benchmark")


def cpu_flags() -> list[str]:
    """The FLAGS_OF_INTEREST present in /proc/cpuinfo (empty where unreadable)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    return [fl for fl in FLAGS_OF_INTEREST if fl in have]
    except OSError:
        pass
    return []


def git_commit(root) -> str | None:
    if root is None:
        return None
    try:
        r = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0:
        return None
    return r.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for p in PACKAGES:
        try:
            out[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            out[p] = None
    return out


def mem_total() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def environment() -> dict[str, Any]:
    import torch

    import fsskernels as fk

    from . import kernels
    from .peerenv import repo_root

    info = fk.build_info()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "cpu_model": kernels.cpu_model(), "cpu_count": os.cpu_count(), "cpu_flags": cpu_flags(),
        "mem_total_bytes": mem_total(), "platform": platform.platform(), "python": sys.version.split()[0],
        "aes_path": info.get("cpu_aes_path"), "build_info": info,
        "threads": {"fsskernels": fk.get_num_threads(), "torch": torch.get_num_threads(),
                    "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")},
        "git_commit": git_commit(repo_root()), "versions": versions(), "loadavg": kernels.loadavg(),
    }


__all__ = ["cpu_flags", "environment", "git_commit", "versions"]
