#!/usr/bin/env python3
"""CrypTen 0.4.1 gate peer: time, bytes and rounds of ReLU, GeLU, exp, reciprocal, softmax,
LayerNorm and a private matmul on two CrypTen processes (one torch thread each), on the same
shapes as fsskernels' gate cases (fsskernels.bench.cases_gates). Run it with the python of a
virtual environment that has crypten==0.4.1 (fsskernels.bench.peerenv makes one).

    python crypten_gates.py [--reps 3] [--only relu gelu ...] [--shape relu=100000 --shape softmax=32x128 ...]

Prints one JSON line per case: seconds of every repetition and their median, CrypTen's own
communication counters of the first timed repetition, and the max abs error against float64
torch on the same inputs.

What the figures include: CrypTen's default trusted-first-party provider makes every Beaver
and binary triple inside the timed region (locally, no traffic); so "time" is end to end
(offline + online). No keygen is excluded. Transfers: loopback Gloo between two processes.
Bytes: CrypTen counts, per party, the elements it sends and receives x 8 B; with two parties
that is the total on the wire in both directions. Rounds: CrypTen's count of communication
calls (an upper bound on rounds).

CrypTen has no GeLU or LayerNorm: GeLU is composed as 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715
x^3))) with CrypTen's tanh, LayerNorm as (x - mean) * inv_sqrt(var + eps) with CrypTen's
Newton inverse square root (no affine: fsskernels' case has no weight/bias either).

CrypTen 0.4.1 imports ``torch.onnx._internal.registration``, which torch >= 2.9 moved to
``torch.onnx._internal.torchscript_exporter.registration``: the module is aliased under its old
name before ``import crypten`` (nothing else of torch is changed).
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time

import torch


def _alias_moved_onnx_module() -> None:
    try:
        import torch.onnx._internal.registration  # noqa: F401
    except ImportError:
        from torch.onnx._internal.torchscript_exporter import registration
        sys.modules["torch.onnx._internal.registration"] = registration


_alias_moved_onnx_module()
import crypten  # noqa: E402
import crypten.communicator as comm  # noqa: E402
from crypten.mpc import run_multiprocess  # noqa: E402

GELU_C = math.sqrt(2.0 / math.pi)
LN_EPS = 1e-5


def _gelu(x):
    """tanh-form GeLU on a CrypTensor or a torch tensor."""
    return x * ((x + x * x * x * 0.044715) * GELU_C).tanh().add(1.0) * 0.5


def _layer_norm(x):
    mu = x.mean(-1, keepdim=True)
    xc = x - mu
    var = (xc * xc).mean(-1, keepdim=True)
    if isinstance(x, torch.Tensor):
        return xc * torch.rsqrt(var + LN_EPS)
    return xc * (var + LN_EPS).inv_sqrt()


DEFAULT_SHAPES = {"matmul": ((128, 768), (768, 768)), "relu": (1_000_000,), "gelu": (1_000_000,),
                  "exp": (1_000_000,), "reciprocal": (1_000_000,), "softmax": (128, 128),
                  "softmax_attn": (8, 12, 64, 64), "layer_norm": (512, 384)}


def _inputs(name: str, seed: int, shape: tuple):
    """Public benchmark data (a fixed torch.Generator seed; nothing secret). csprng-ok"""
    g = torch.Generator().manual_seed(seed)  # csprng-ok: public benchmark inputs
    if name == "matmul":
        return torch.randn(*shape[0], generator=g), torch.randn(*shape[1], generator=g) * 0.05
    if name in ("relu", "gelu", "layer_norm"):
        return (torch.randn(*shape, generator=g),)
    if name == "exp":  # fsskernels' exp domain: x <= 0
        return (-8.0 * torch.rand(*shape, generator=g),)
    if name == "reciprocal":
        return (0.5 + 10.0 * torch.rand(*shape, generator=g),)
    if name in ("softmax", "softmax_attn"):
        return (2.0 * torch.randn(*shape, generator=g),)
    raise ValueError(f"unknown case {name!r}")


def parse_shapes(items: list[str]) -> dict[str, tuple]:
    """CASE=AxBxC overrides of DEFAULT_SHAPES (not for matmul)."""
    shapes = dict(DEFAULT_SHAPES)
    for it in items:
        name, _, dims = it.partition("=")
        if name not in DEFAULT_SHAPES or name == "matmul" or not dims:
            raise ValueError(f"--shape: expected CASE=AxB with CASE one of {sorted(k for k in DEFAULT_SHAPES if k != 'matmul')}, got {it!r}")
        try:
            shape = tuple(int(d) for d in dims.split("x"))
        except ValueError:
            raise ValueError(f"--shape: bad dimensions in {it!r}") from None
        if not shape or min(shape) < 1:
            raise ValueError(f"--shape: dimensions must be >= 1 in {it!r}")
        shapes[name] = shape
    return shapes


# name -> (label, function on CrypTensors, the same on float64 torch)
CASES = {
    "matmul": ("matmul 128x768 @ 768x768, both secret", lambda a, b: a.matmul(b), lambda a, b: a @ b),
    "relu": ("relu", lambda a: a.relu(), torch.relu),
    "gelu": ("gelu (tanh form, composed)", _gelu, _gelu),
    "exp": ("exp, x in [-8, 0]", lambda a: a.exp(), torch.exp),
    "reciprocal": ("reciprocal, x in [0.5, 10.5]", lambda a: a.reciprocal(), torch.reciprocal),
    "softmax": ("softmax dim=-1", lambda a: a.softmax(-1), lambda a: a.softmax(-1)),
    "softmax_attn": ("softmax dim=-1 (attention scores)", lambda a: a.softmax(-1), lambda a: a.softmax(-1)),
    "layer_norm": ("layer_norm (no affine, composed)", _layer_norm, _layer_norm),
}


def party(reps: int, threads: int, only: list[str], seed: int, shapes: dict[str, tuple]):
    torch.set_num_threads(threads)
    crypten.cfg.communicator.verbose = True
    c = comm.get()
    out = {}
    for name, (label, fn, ref) in CASES.items():
        if only and name not in only:
            continue
        plain = _inputs(name, seed, shapes[name])
        enc = [crypten.cryptensor(p, src=i % 2) for i, p in enumerate(plain)]  # matmul: x of P0, w of P1
        times, stats = [], None
        res = None
        for r in range(reps + 1):  # repetition 0 warms up
            c.barrier()
            c.reset_communication_stats()
            t0 = time.perf_counter()
            res = fn(*enc)
            c.barrier()
            dt = time.perf_counter() - t0
            if r == 1 or reps == 0:
                stats = c.get_communication_stats()
            if r > 0:
                times.append(dt)
        got = res.get_plain_text().double()
        want = ref(*[p.double() for p in plain])
        out[name] = {"case": name, "op": label, "shape": " @ ".join("x".join(map(str, p.shape)) for p in plain),
                     "elements": int(plain[0].numel()),
                     "s_all": [round(t, 5) for t in times], "s_median": round(statistics.median(times), 5),
                     "s_min": round(min(times), 5), "s_max": round(max(times), 5),
                     "comm_bytes": int(stats["bytes"]), "comm_rounds": int(stats["rounds"]),
                     "comm_s": round(float(stats["time"]), 5),
                     "max_abs_err": float((got - want).abs().max())}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions after one warm-up (default 3)")
    ap.add_argument("--threads-per-party", type=int, default=1)
    ap.add_argument("--only", nargs="*", default=[], choices=sorted(CASES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shape", action="append", default=[], metavar="CASE=AxB",
                    help="shape of a case (default: relu/gelu/exp/reciprocal 1000000, softmax 128x128, "
                         "softmax_attn 8x12x64x64, layer_norm 512x384)")
    a = ap.parse_args()
    if a.reps < 1:
        ap.error("--reps: must be >= 1")
    try:
        shapes = parse_shapes(a.shape)
    except ValueError as exc:
        ap.error(str(exc))
    results = run_multiprocess(world_size=2)(party)(a.reps, a.threads_per_party, a.only, a.seed, shapes)
    if not results:
        print("a CrypTen party failed", file=sys.stderr)
        return 1
    r0 = results[0]
    for v in r0.values():
        print(json.dumps({"peer": "crypten", "version": crypten.__version__ if hasattr(crypten, "__version__")
                          else "0.4.1", "threads_per_party": a.threads_per_party, "reps": a.reps,
                          "includes": "triples made inside the timer (TFP provider); 2 processes, loopback Gloo",
                          **v}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
