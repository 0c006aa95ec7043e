"""Same-run reference points: the per-core AES ceiling (peers/aes_limit.c) and sycret 0.2.8
(peers/bench_sycret.py in its own virtual environment).

The peers scripts live outside this repository. They are found through the environment
variable FSS_PEERS_DIR, else ``<repo root>/../shared/peers`` when that exists; without them
the ceiling and sycret are reported as unavailable (with a note) and nothing fails. Their
code is run as is, never copied here.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_VENV = "/tmp/peers-venv"
SYCRET_PIN = "sycret==0.2.8"


def repo_root() -> Path | None:
    """The source checkout this package runs from (a directory with pyproject.toml), if any."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "python" / "fsskernels").is_dir():
            return parent
    return None


def find_peers_dir(explicit: str | None = None) -> tuple[Path | None, str]:
    """(directory, how it was found or why not)."""
    if explicit:
        p = Path(explicit)
        return (p, "--peers-dir") if p.is_dir() else (None, f"--peers-dir {explicit} does not exist")
    env = os.environ.get("FSS_PEERS_DIR")
    if env:
        p = Path(env)
        return (p, "FSS_PEERS_DIR") if p.is_dir() else (None, f"FSS_PEERS_DIR={env} does not exist")
    root = repo_root()
    if root is not None:
        p = (root.parent / "shared" / "peers").resolve()
        if p.is_dir():
            return p, "../shared/peers next to the repository"
    return None, "no peers directory (set FSS_PEERS_DIR)"


# --------------------------------------------------------------------------- AES ceiling
def _parse_json_lines(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def _ceiling_numbers(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Blocks/s (or nodes/s) per test from one aes_limit run."""
    res: dict[str, float] = {}
    for r in rows:
        name = r.get("test", "")
        if "Mblocks_per_s" in r:
            v = float(r["Mblocks_per_s"]) * 1e6
        elif "Mnodes_per_s" in r:
            v = float(r["Mnodes_per_s"]) * 1e6
        else:
            continue
        if name.startswith("VAES zmm"):
            res["vaes_zmm"] = v
        elif name.startswith("VAES ymm"):
            res["vaes_ymm"] = v
        elif name.startswith("AES-NI"):
            res["aesni"] = v
        elif name.startswith("single dependent"):
            res["chain"] = v
        elif name.startswith("re-keyed"):
            res["rekeyed"] = v
    if "vaes_zmm" in res or "vaes_ymm" in res:
        res["vaes"] = max(res.get("vaes_zmm", 0.0), res.get("vaes_ymm", 0.0))
    # The ceiling for fixed-key ECB on this core: the faster of VAES and AES-NI.
    cands = [res[k] for k in ("vaes", "aesni") if k in res]
    if cands:
        res["ecb"] = max(cands)
    return res


class AesCeiling:
    """Compiles aes_limit.c once (gcc -O3 -march=native, into a temporary directory) and runs
    it on demand: one process for one core, `cores` concurrent processes for all cores."""

    def __init__(self, peers_dir: Path | None):
        self.exe: str | None = None
        self.note = ""
        self._tmp: tempfile.TemporaryDirectory | None = None
        if peers_dir is None or not (peers_dir / "aes_limit.c").is_file():
            self.note = "aes_limit.c not found: ceiling unavailable"
            return
        gcc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("gcc")
        if gcc is None:
            self.note = "gcc not found: ceiling unavailable"
            return
        self._tmp = tempfile.TemporaryDirectory(prefix="fss-aes-limit-")
        exe = os.path.join(self._tmp.name, "aes_limit")
        proc = subprocess.run([gcc, "-O3", "-march=native", str(peers_dir / "aes_limit.c"), "-o", exe],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            self.note = f"compiling aes_limit.c failed: {proc.stderr.strip()[:300]}"
            return
        self.exe = exe
        self.note = f"{os.path.basename(gcc)} -O3 -march=native {peers_dir / 'aes_limit.c'}"

    @property
    def available(self) -> bool:
        return self.exe is not None

    def run_once(self, procs: int = 1) -> dict[str, float]:
        """One measurement; with procs > 1, the sum over concurrent processes."""
        assert self.exe is not None
        ps = [subprocess.Popen([self.exe], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
              for _ in range(procs)]
        outs = [p.communicate(timeout=120)[0] for p in ps]
        per = [_ceiling_numbers(_parse_json_lines(o)) for o in outs]
        keys = set.intersection(*(set(d) for d in per)) if per else set()
        return {k: sum(d[k] for d in per) for k in keys}

    def measure(self, runs: int = 3, procs: int = 1) -> dict[str, Any]:
        """Median over `runs` runs of each figure (each run is already best-of-20 inside)."""
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
def ensure_peers_venv(venv: str = DEFAULT_VENV, install: bool = True, log=print) -> tuple[str | None, str]:
    """(python of a venv with sycret 0.2.8, note). Creates it on first use when pip works."""
    py = os.path.join(venv, "bin", "python")

    def has_sycret() -> bool:
        if not os.path.exists(py):
            return False
        r = subprocess.run([py, "-c", "import sycret, numpy"], capture_output=True)
        return r.returncode == 0

    if has_sycret():
        return py, f"sycret from {venv}"
    if not install:
        return None, f"sycret not installed in {venv} (install disabled)"
    log(f"[peers] creating {venv} with {SYCRET_PIN} (first use) ...")
    try:
        if not os.path.exists(py):
            subprocess.run(["python3", "-m", "venv", venv], check=True, capture_output=True, timeout=300)
        subprocess.run([py, "-m", "pip", "install", "-q", SYCRET_PIN, "pycryptodome", "numpy"],
                       check=True, capture_output=True, timeout=900)
    except (subprocess.SubprocessError, OSError) as e:
        err = getattr(e, "stderr", b"") or b""
        if isinstance(err, bytes):
            err = err.decode(errors="replace")
        return None, f"could not install sycret into {venv}: {type(e).__name__} {err.strip()[-200:]}"
    return (py, f"sycret installed into {venv}") if has_sycret() else (None, "sycret import failed after install")


def run_sycret(peers_dir: Path, python: str, threads: int, ns: list[int], reps: int,
               schemes: tuple[str, ...] = ("eq", "le"), timeout: float = 1800) -> tuple[list[dict], str]:
    """Runs bench_sycret.py (one process per thread count, as its README requires)."""
    script = peers_dir / "bench_sycret.py"
    if not script.is_file():
        return [], f"{script} not found"
    cmd = [python, str(script), "--threads", str(threads), "--n", *map(str, ns), "--reps", str(reps),
           "--schemes", *schemes]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=str(peers_dir))
    except subprocess.TimeoutExpired:
        return [], f"bench_sycret.py --threads {threads} timed out after {timeout:.0f} s"
    rows = [r for r in _parse_json_lines(proc.stdout) if r.get("lib") == "sycret"]
    note = "" if proc.returncode == 0 else f"bench_sycret.py exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
    return rows, note


__all__ = ["AesCeiling", "ensure_peers_venv", "find_peers_dir", "repo_root", "run_sycret"]
