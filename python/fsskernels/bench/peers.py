"""Same-run reference points for the kernel section: the per-core AES ceiling (bench/peers/
aes_ceiling.c, compiled at run time with the system C compiler) and sycret 0.2.8
(bench/peers/sycret_fss.py in its own virtual environment, see peerenv).

The peer scripts are the project's own (``bench/peers/`` of the source checkout, or
``$FSS_PEER_SCRIPTS``). Without them, a compiler or network access, the ceiling and sycret are
reported as unavailable with a note and nothing fails.
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from . import peerenv
from .peerenv import parse_json_lines as _parse_json_lines
from .peerenv import repo_root

CEILING_SOURCE = "aes_ceiling.c"
SYCRET_SCRIPT = "sycret_fss.py"


def find_peers_dir(explicit: str | None = None) -> tuple[Path | None, str]:
    """(directory of the project's peer scripts, how it was found or why not)."""
    return peerenv.scripts_dir(explicit)


# --------------------------------------------------------------------------- AES ceiling
def _ceiling_numbers(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Blocks/s (nodes/s for "rekeyed") per test of one aes_ceiling run, plus "vaes" (the faster
    VAES width) and "ecb" (the fixed-key ECB ceiling: the faster of VAES and AES-NI)."""
    names = {"aesni_ecb": "aesni", "vaes256_ecb": "vaes_ymm", "vaes512_ecb": "vaes_zmm", "chain": "chain",
             "rekeyed": "rekeyed"}
    res: dict[str, float] = {}
    for r in rows:
        key = names.get(r.get("test", ""))
        v = r.get("blocks_per_s", r.get("nodes_per_s"))
        if key is not None and isinstance(v, (int, float)):
            res[key] = float(v)
    if "vaes_zmm" in res or "vaes_ymm" in res:
        res["vaes"] = max(res.get("vaes_zmm", 0.0), res.get("vaes_ymm", 0.0))
    cands = [res[k] for k in ("vaes", "aesni") if k in res]
    if cands:
        res["ecb"] = max(cands)
    return res


class AesCeiling:
    """Compiles aes_ceiling.c once (``$CC`` or cc/gcc/clang, -O3 -march=native, into a temporary
    directory) and runs it on demand: one process for one core, ``procs`` concurrent processes
    for several cores (summed)."""

    def __init__(self, peers_dir: Path | None):
        self.exe: str | None = None
        self.note = ""
        self._tmp: tempfile.TemporaryDirectory | None = None
        src = peers_dir / CEILING_SOURCE if peers_dir is not None else None
        if src is None or not src.is_file():
            self.note = f"{CEILING_SOURCE} not found: AES ceiling unavailable"
            return
        cc = next((shutil.which(c) for c in (os.environ.get("CC", ""), "cc", "gcc", "clang") if c and shutil.which(c)),
                  None)
        if cc is None:
            self.note = "no C compiler (cc/gcc/clang): AES ceiling unavailable"
            return
        self._tmp = tempfile.TemporaryDirectory(prefix="fss-aes-ceiling-")
        exe = os.path.join(self._tmp.name, "aes_ceiling")
        try:
            proc = subprocess.run([cc, "-O3", "-march=native", str(src), "-o", exe], capture_output=True, text=True,
                                  timeout=120)
        except (subprocess.SubprocessError, OSError) as exc:
            self.note = f"compiling {CEILING_SOURCE} failed: {exc}"
            return
        if proc.returncode != 0:
            self.note = f"compiling {CEILING_SOURCE} failed (needs x86-64 with AES-NI): {proc.stderr.strip()[:300]}"
            return
        self.exe = exe
        self.note = f"{os.path.basename(cc)} -O3 -march=native {src}"

    @property
    def available(self) -> bool:
        return self.exe is not None

    def run_once(self, procs: int = 1) -> dict[str, float]:
        """One measurement; with procs > 1, the sum over concurrent processes."""
        if self.exe is None:
            raise RuntimeError(f"AES ceiling unavailable: {self.note}")
        ps = [subprocess.Popen([self.exe], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
              for _ in range(procs)]
        outs = [p.communicate(timeout=120)[0] for p in ps]
        per = [_ceiling_numbers(_parse_json_lines(o)) for o in outs]
        keys = set.intersection(*(set(d) for d in per)) if per else set()
        return {k: sum(d[k] for d in per) for k in keys}

    def measure(self, runs: int = 3, procs: int = 1) -> dict[str, Any]:
        """Median over ``runs`` runs of each figure (each run is already best-of-15 inside)."""
        if not self.available:
            return {"available": False, "note": self.note}
        samples = [self.run_once(procs) for _ in range(runs)]
        keys = set.intersection(*(set(s) for s in samples))
        med = {k: statistics.median(s[k] for s in samples) for k in sorted(keys)}
        return {"available": True, "procs": procs, "runs": runs, "blocks_per_s": med,
                "samples": samples, "note": self.note}

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


# --------------------------------------------------------------------------- sycret
def ensure_peers_venv(venv: str | None = None, install: bool = True, log=print) -> tuple[str | None, str]:
    """(python of a venv with sycret 0.2.8, note); ``venv`` overrides the cached one."""
    if venv:
        py = os.path.join(venv, "bin", "python")
        ok = os.path.exists(py) and subprocess.run([py, "-c", "import sycret, numpy"],
                                                   capture_output=True).returncode == 0
        return (py, f"sycret from {venv}") if ok else (None, f"no sycret in {venv}")
    return peerenv.ensure("sycret", install=install, log=log)


def run_sycret(peers_dir: Path, python: str, threads: int, ns: list[int], reps: int,
               schemes: tuple[str, ...] = ("eq", "le"), timeout: float = 1800) -> tuple[list[dict], str]:
    """Runs sycret_fss.py (one process per thread count: sycret's rayon pool is global)."""
    args = ["--threads", str(threads), "--n", *map(str, ns), "--reps", str(reps), "--schemes", *schemes]
    rows, note = peerenv.run_script(python, peers_dir / SYCRET_SCRIPT, args, timeout)
    return [r for r in rows if r.get("lib") == "sycret"], note


__all__ = ["AesCeiling", "ensure_peers_venv", "find_peers_dir", "repo_root", "run_sycret"]
