"""The project's peer harness, environment side: throwaway virtual environments for the peer
libraries (created on demand with pip, cached), the peer scripts of the source checkout
(``bench/peers/``), running them and reading their JSON lines.

Peers: CrypTen 0.4.1 (gates, the encoder layer), sycret 0.2.8 (DPF/DIF kernels) and TenSEAL
(CKKS aggregation). Each lives in ``<cache>/<name>`` where cache is ``$FSS_PEERS_CACHE``, else
``~/.cache/fsskernels-peers``; nothing is installed into the caller's environment. Without
network access, pip, or the scripts, ``ensure`` and ``run_script`` return a note saying why and
the report lists the peer as skipped; nothing raises.

Security note: peers run on public benchmark data only; their code runs in child processes.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

# CrypTen 0.4.1 imports a torch.onnx module that torch >= 2.9 moved; alias it before importing.
_CRYPTEN_IMPORT = ("import sys\ntry:\n    import torch.onnx._internal.registration\nexcept ImportError:\n"
                   "    from torch.onnx._internal.torchscript_exporter import registration as r\n"
                   "    sys.modules['torch.onnx._internal.registration'] = r\nimport crypten\n")


@dataclass(frozen=True)
class PeerSpec:
    """A peer library: its venv directory name, the pip steps that build it (each a list of pip
    install arguments, run in order), and python code that must import cleanly once built."""
    name: str
    venv: str
    pip_steps: tuple[tuple[str, ...], ...]
    check: str
    version: str


PEERS: dict[str, PeerSpec] = {
    "crypten": PeerSpec(
        "crypten", "crypten-0.4.1",
        # torch first, pinned (crypten's own requirements would pull torchvision etc.), then
        # crypten without dependencies, then the few it imports.
        (("torch==2.13.0",), ("--no-deps", "crypten==0.4.1"), ("pyyaml", "omegaconf", "numpy", "onnx")),
        _CRYPTEN_IMPORT, "0.4.1"),
    "sycret": PeerSpec("sycret", "sycret-0.2.8", (("sycret==0.2.8", "numpy"),), "import sycret, numpy", "0.2.8"),
    "tenseal": PeerSpec("tenseal", "tenseal", (("tenseal", "numpy"),), "import tenseal, numpy", "latest"),
}


def cache_dir() -> Path:
    env = os.environ.get("FSS_PEERS_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "fsskernels-peers"


def repo_root() -> Path | None:
    """The source checkout this package runs from (editable install), if any."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "python" / "fsskernels").is_dir():
            return parent
    return None


def scripts_dir(explicit: str | None = None) -> tuple[Path | None, str]:
    """(directory of the peer scripts, how it was found or why not): ``explicit``, else
    ``$FSS_PEER_SCRIPTS``, else ``bench/peers`` of the source checkout, else of the current
    directory (a non-editable install run from the checkout)."""
    cands: list[tuple[Path, str]] = []
    if explicit:
        cands.append((Path(explicit), "--peer-scripts"))
    elif os.environ.get("FSS_PEER_SCRIPTS"):
        cands.append((Path(os.environ["FSS_PEER_SCRIPTS"]), "FSS_PEER_SCRIPTS"))
    else:
        root = repo_root()
        if root is not None:
            cands.append((root / "bench" / "peers", "bench/peers of the source checkout"))
        cands.append((Path.cwd() / "bench" / "peers", "bench/peers of the current directory"))
    for p, how in cands:
        if (p / "crypten_gates.py").is_file():
            return p.resolve(), how
    return None, ("peer scripts not found (" + ", ".join(str(p) for p, _ in cands)
                  + "): run from the source checkout or set FSS_PEER_SCRIPTS")


def venv_python(spec: PeerSpec) -> Path:
    return cache_dir() / spec.venv / "bin" / "python"


def _imports(py: Path, code: str) -> bool:
    if not py.exists():
        return False
    try:
        return subprocess.run([str(py), "-c", code], capture_output=True, timeout=300).returncode == 0
    except (subprocess.SubprocessError, OSError):
        return False


def _shown(path) -> str:
    """A path for reports: under the home directory as ~/..., so recorded reports carry no
    user- or machine-specific prefix."""
    p, home = str(path), os.path.expanduser("~")
    return "~" + p[len(home):] if home not in ("", "/") and (p == home or p.startswith(home + os.sep)) else p


def ensure(name: str, install: bool = True, log: Callable[[str], None] = print) -> tuple[str | None, str]:
    """(python of the peer's venv, note). Builds the venv on first use when ``install``."""
    if name not in PEERS:
        raise ValueError(f"name: unknown peer {name!r}; expected one of {sorted(PEERS)}")
    spec = PEERS[name]
    py = venv_python(spec)
    if _imports(py, spec.check):
        return str(py), f"{spec.name} {spec.version} from {_shown(py.parent.parent)}"
    if not install:
        return None, f"{spec.name} not installed in {py.parent.parent} (installing disabled)"
    base = shutil.which("python3") or sys.executable
    log(f"[peers] building {py.parent.parent} ({spec.name} {spec.version}, first use; needs network) ...")
    try:
        if not py.exists():
            subprocess.run([base, "-m", "venv", str(py.parent.parent)], check=True, capture_output=True, timeout=300)
        for step in spec.pip_steps:
            subprocess.run([str(py), "-m", "pip", "install", "-q", *step], check=True, capture_output=True,
                           timeout=1800)
    except (subprocess.SubprocessError, OSError) as exc:
        err = getattr(exc, "stderr", b"") or b""
        err = err.decode(errors="replace") if isinstance(err, bytes) else str(err)
        return None, f"could not build the {spec.name} venv (no network or pip?): {type(exc).__name__} {err.strip()[-200:]}"
    if not _imports(py, spec.check):
        return None, f"{spec.name} does not import after installing into {py.parent.parent}"
    return str(py), f"{spec.name} {spec.version} installed into {py.parent.parent}"


def parse_json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects among the lines of ``text`` (other lines are ignored)."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def run_script(python: str, script: Path, args: list[str], timeout: float,
               env: dict[str, str] | None = None) -> tuple[list[dict[str, Any]], str]:
    """Runs ``python script args`` (cwd: the script's directory, one BLAS/OpenMP thread) and
    returns (its JSON lines, a note: empty when it succeeded)."""
    if not script.is_file():
        return [], f"{script} not found"
    e = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    e.pop("PYTHONPATH", None)  # the peer must not see this checkout's packages
    e.update(env or {})
    try:
        proc = subprocess.run([python, str(script), *args], capture_output=True, text=True, timeout=timeout,
                              cwd=str(script.parent), env=e)
    except subprocess.TimeoutExpired:
        return [], f"{script.name} timed out after {timeout:.0f} s"
    except OSError as exc:
        return [], f"{script.name} could not start: {exc}"
    rows = parse_json_lines(proc.stdout)
    note = "" if proc.returncode == 0 else f"{script.name} exit {proc.returncode}: {proc.stderr.strip()[-400:]}"
    return rows, note


__all__ = ["PEERS", "PeerSpec", "cache_dir", "ensure", "parse_json_lines", "repo_root", "run_script",
           "scripts_dir", "venv_python"]
