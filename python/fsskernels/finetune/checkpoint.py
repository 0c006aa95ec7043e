"""Per-party checkpoints of a private fine-tuning run: safetensors + a versioned, validated header.

Each party saves only its own shares (adapter shares, optimizer state shares) and the public
progress (step, epoch, config fingerprint, its own log). File: ``<dir>/party<p>.safetensors``,
tensors named ``param/<name>`` and ``opt/<name>`` (int64 ring shares), and the safetensors
metadata (str -> str) holding the header:

  format  "fsskernels-finetune-checkpoint"     version "1"
  party   "0" | "1"                            step    number of optimizer steps done
  config  TrainConfig.fingerprint()            frac_bits, opt_t, names (JSON list), log (JSON)

Writes are atomic: a temp file in the same directory, flush + fsync, ``os.replace``, fsync of
the directory; the file it replaces is kept as ``party<p>.prev.safetensors`` (one older
generation, so two parties that crashed between their two saves can meet at the same step). A SIGKILL at any moment leaves either the previous checkpoint or the new one,
never a torn file. Loading validates every header field, the tensor names, dtypes and shapes,
and refuses a checkpoint of another party, format version or configuration
(``CheckpointError``, a ValueError). Never pickle.

Security: a share file alone is uniformly random (it is one additive share); the two parties'
files together reveal the adapters, so each party keeps its own.
"""
from __future__ import annotations

import json
import os
import pathlib
import tempfile

import torch

FORMAT = "fsskernels-finetune-checkpoint"
VERSION = "1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used (names the file and the field)."""


def path_for(directory, party: int, which: str = "latest") -> pathlib.Path:
    if which not in ("latest", "prev"):
        raise ValueError(f"which: 'latest' or 'prev', got {which!r}")
    return pathlib.Path(directory) / (f"party{party}.safetensors" if which == "latest" else f"party{party}.prev.safetensors")


def _fsync_dir(d: pathlib.Path) -> None:
    try:
        fd = os.open(str(d), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers (and a crash) see the old or the new file only."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)


def save(directory, party: int, *, step: int, fingerprint: str, params: dict, opt_state: dict,
         log: dict | None = None) -> pathlib.Path:
    """params: name -> int64 share tensor; opt_state: ``_SharedOptimizer.state_dict()``."""
    from safetensors.torch import save

    if party not in (0, 1):
        raise CheckpointError(f"checkpoint: party must be 0 or 1, got {party!r}")
    tensors = {}
    for n, t in params.items():
        tensors[f"param/{n}"] = _ring(t, n)
    for n, t in opt_state["tensors"].items():
        tensors[f"opt/{n}"] = _ring(t, n)
    meta = {"format": FORMAT, "version": VERSION, "party": str(party), "step": str(int(step)),
            "config": str(fingerprint), "frac_bits": str(opt_state.get("frac_bits") or 16),
            "opt_t": str(int(opt_state["t"])), "names": json.dumps(list(params)), "log": json.dumps(log or {})}
    data = save(tensors, metadata=meta)
    p = path_for(directory, party)
    if p.exists():  # keep one older generation: the peer may not have reached this step yet
        os.replace(p, path_for(directory, party, "prev"))
    atomic_write_bytes(p, data)
    return p


def _ring(t, name) -> torch.Tensor:
    t = torch.as_tensor(t)
    if t.dtype != torch.int64:
        raise CheckpointError(f"checkpoint: tensor {name} must be int64 ring shares, got {t.dtype}")
    return t.detach().cpu().contiguous()


def load(directory, party: int, *, fingerprint: str | None = None, shapes: dict | None = None,
         which: str = "latest") -> dict:
    """The checkpoint of ``party`` in ``directory`` or None if there is none. ``which``: the
    latest one (falls back to the previous generation if a crash hit between the two renames
    of ``save``) or the previous generation.
    Returns {'step', 'params' (name -> int64), 'opt' (state_dict form), 'log', 'frac_bits'}."""
    from safetensors import SafetensorError, safe_open

    p = path_for(directory, party, which)
    if not p.exists():
        if which == "latest" and path_for(directory, party, "prev").exists():
            p = path_for(directory, party, "prev")
        else:
            return None
    try:
        with safe_open(str(p), framework="pt") as f:
            meta = f.metadata() or {}
            keys = list(f.keys())
            tensors = {k: f.get_tensor(k) for k in keys}
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"checkpoint {p}: not a valid safetensors file ({e})") from None
    def field(k):
        if k not in meta:
            raise CheckpointError(f"checkpoint {p}: header field {k!r} missing")
        return meta[k]

    if field("format") != FORMAT:
        raise CheckpointError(f"checkpoint {p}: format {meta['format']!r} is not {FORMAT!r}")
    if field("version") != VERSION:
        raise CheckpointError(f"checkpoint {p}: version {meta['version']!r} not supported (this build reads {VERSION})")
    if field("party") != str(party):
        raise CheckpointError(f"checkpoint {p}: belongs to party {meta['party']}, not {party}")
    if fingerprint is not None and field("config") != fingerprint:
        raise CheckpointError(f"checkpoint {p}: written with other settings (config {meta['config']} != {fingerprint}); "
                              "use the same options or another --out")
    try:
        step, opt_t, frac_bits = int(field("step")), int(field("opt_t")), int(field("frac_bits"))
        names = json.loads(field("names"))
        log = json.loads(field("log"))
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"checkpoint {p}: malformed header ({e})") from None
    if step < 0 or not isinstance(names, list):
        raise CheckpointError(f"checkpoint {p}: malformed header (step {step}, names)")
    params, opt = {}, {}
    for k, t in tensors.items():
        if t.dtype != torch.int64:
            raise CheckpointError(f"checkpoint {p}: tensor {k} has dtype {t.dtype}, expected int64")
        kind, _, name = k.partition("/")
        if kind == "param":
            params[name] = t
        elif kind == "opt":
            opt[name] = t
        else:
            raise CheckpointError(f"checkpoint {p}: unexpected tensor {k}")
    if list(params) != names and sorted(params) != sorted(names):
        raise CheckpointError(f"checkpoint {p}: tensors do not match the header's names")
    params = {n: params[n] for n in names}
    if shapes is not None:
        if set(shapes) != set(params):
            raise CheckpointError(f"checkpoint {p}: adapters {sorted(set(shapes) ^ set(params))[:2]} differ from the model's")
        for n, s in shapes.items():
            if tuple(params[n].shape) != tuple(s):
                raise CheckpointError(f"checkpoint {p}: {n} has shape {tuple(params[n].shape)}, expected {tuple(s)}")
    return {"step": step, "params": params, "opt": {"t": opt_t, "tensors": opt, "frac_bits": frac_bits}, "log": log,
            "frac_bits": frac_bits}
