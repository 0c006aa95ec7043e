"""Gate cases: ``fsskernels.mpc.functional`` (MF) forward gates on shares, two parties under
``mpc.run_local`` (mpcmeasure), beside CrypTen 0.4.1 on the same shapes and input ranges
(bench/peers/crypten_gates.py, case key "crypten:<name>").

Shapes: ReLU / GeLU / exp / reciprocal on 1M elements, softmax on 128x128 and 8x12x64x64
(attention scores), layer_norm on 512x384 (no affine). ``--quick`` shrinks them (4096 elements,
32x128, 1x2x64x64, 32x384) and CrypTen runs on the same quick shapes. Inputs are public benchmark data, drawn once with a fixed torch seed, and belong to
party 0; the error is against float64 torch on the same inputs.

Every case skips with the reason while ``fsskernels.mpc.functional`` (or the gate) is absent.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

import torch

from .mpcmeasure import measure_two_party
from .registry import Case, Skip, register

MILLION, QUICK_N = 1_000_000, 4_096


def _mf():
    try:
        return importlib.import_module("fsskernels.mpc.functional")
    except ImportError as exc:
        raise Skip(f"fsskernels.mpc.functional is not available yet ({exc})") from None


def _requires(gate: str) -> Callable[[], str | None]:
    def check() -> str | None:
        try:
            mf = importlib.import_module("fsskernels.mpc.functional")
        except ImportError as exc:
            return f"fsskernels.mpc.functional is not available yet ({exc})"
        return None if hasattr(mf, gate) else f"fsskernels.mpc.functional has no {gate} yet"

    return check


def inputs(kind: str, shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    """Public benchmark inputs (fixed seed; the same ranges as the CrypTen peer). csprng-ok"""
    g = torch.Generator().manual_seed(seed)  # csprng-ok: public benchmark data, not secret randomness
    if kind == "normal":
        return torch.randn(*shape, generator=g, dtype=torch.float64)
    if kind == "exp":  # MF.exp's domain is x <= 0
        return -8.0 * torch.rand(*shape, generator=g, dtype=torch.float64)
    if kind == "reciprocal":
        return 0.5 + 10.0 * torch.rand(*shape, generator=g, dtype=torch.float64)
    if kind == "scores":
        return 2.0 * torch.randn(*shape, generator=g, dtype=torch.float64)
    raise ValueError(f"kind: unknown input kind {kind!r}")


def _ln_ref(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.layer_norm(x, x.shape[-1:], eps=1e-5)


# name -> (MF attribute, input kind, shape, quick shape, call(MF, X), float64 reference, CrypTen case)
GATES: dict[str, tuple[str, str, tuple, tuple, Callable, Callable, str]] = {
    "relu": ("relu", "normal", (MILLION,), (QUICK_N,), lambda mf, x: mf.relu(x), torch.relu, "relu"),
    "gelu": ("gelu", "normal", (MILLION,), (QUICK_N,), lambda mf, x: mf.gelu(x),
             torch.nn.functional.gelu, "gelu"),
    "exp": ("exp", "exp", (MILLION,), (QUICK_N,), lambda mf, x: mf.exp(x), torch.exp, "exp"),
    "reciprocal": ("reciprocal", "reciprocal", (MILLION,), (QUICK_N,), lambda mf, x: mf.reciprocal(x),
                   torch.reciprocal, "reciprocal"),
    "softmax_128x128": ("softmax", "scores", (128, 128), (32, 128), lambda mf, x: mf.softmax(x, dim=-1),
                        lambda x: torch.softmax(x, -1), "softmax"),
    "softmax_attn": ("softmax", "scores", (8, 12, 64, 64), (1, 2, 64, 64), lambda mf, x: mf.softmax(x, dim=-1),
                     lambda x: torch.softmax(x, -1), "softmax_attn"),
    "layer_norm_512x384": ("layer_norm", "normal", (512, 384), (32, 384),
                           lambda mf, x: mf.layer_norm(x, (x.shape[-1],)), _ln_ref, "layer_norm"),
}


def _measure(name: str) -> Callable[[dict[str, Any], int], dict[str, Any]]:
    _, kind, _, _, call, ref, _ = GATES[name]

    def measure(params: dict[str, Any], reps: int) -> dict[str, Any]:
        from .. import mpc

        mf = _mf()
        shape = tuple(params["shape"])
        x = inputs(kind, shape)

        def setup(s):
            return mpc.share(s, x if s.party == 0 else None, owner=0, shape=shape)

        rec = measure_two_party(setup, lambda s, X: call(mf, X), reps, reference=ref(x))
        rec["elements"] = x.numel()
        return rec

    return measure


for _name, (_attr, _kind, _shape, _qshape, _call, _ref, _peer) in GATES.items():
    register(Case("gates", _name, _measure(_name), params={"shape": list(_shape), "input": _kind},
                  quick_params={"shape": list(_qshape), "input": _kind}, requires=_requires(_attr),
                  peer=f"crypten:{_peer}", description=f"MF.{_attr} forward, {'x'.join(map(str, _shape))}"))

# The CrypTen matmul case has no gate of ours here: bench/bench_mpc.py measures the private matmul.

__all__ = ["GATES", "inputs"]
