"""Shared helpers for the two-party runtime tests (imported by name: tests/mpc is on sys.path)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from net_ports import free_port_range

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("net_worker.py")


def free_port() -> int:
    """A free loopback port below the ephemeral range (tests/net_ports.py says why)."""
    return free_port_range(1)


def child_env() -> dict:
    """The environment of a worker process: it imports the same fsskernels as this process
    (the installed package, or a development tree on PYTHONPATH)."""
    import fsskernels

    env = dict(os.environ)
    pkg_parent = str(Path(fsskernels.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([pkg_parent] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def spawn(args, **kw) -> subprocess.Popen:
    """Start ``python net_worker.py args...`` (or ``python -m ...`` when args[0] == "-m")."""
    cmd = [sys.executable] + (list(args) if args and args[0] == "-m" else [str(WORKER)] + list(args))
    return subprocess.Popen(cmd, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
