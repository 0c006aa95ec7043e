#!/usr/bin/env python3
"""CrypTen 0.4.1 layer peer: one MiniLM-size BERT encoder layer (hidden 384, 12 heads of 32,
FFN 1536, post-LayerNorm) with LoRA (rank 8, alpha 16) on the query and value projections,
forward and backward on secret shares, two CrypTen processes with one torch thread each.

    python crypten_layer.py [--batch 8] [--seq 64] [--reps 2] [--warmup 1]

Roles: party 0 (client) owns the input activations X, the upstream gradient G = dL/dY (the loss
is L = sum(Y * G)) and the LoRA matrices A, B; party 1 (server) owns every frozen weight, bias
and LayerNorm gamma/beta. X and the LoRA matrices require gradients; the frozen ones do not.

Layer: q = X Wq + bq + (alpha/r) X Aq Bq; k = X Wk + bk; v = X Wv + bv + (alpha/r) X Av Bv;
attn = softmax(q k^T / sqrt(32)) v per head; h = LN1(X + attn Wo + bo);
Y = LN2(h + gelu(h W1 + b1) W2 + b2).  GeLU in tanh form via CrypTen's tanh; LayerNorm from
mean, square, CrypTen's Newton inverse square root (an autograd rule for it is registered here:
d/dv v^(-1/2) = -y^3 / 2). Public scalars go through .div() (CrypTen's mul rule would compute
a secret x secret product for the public factor's gradient).

What the figures include: every Beaver/binary triple is made by CrypTen's trusted-first-party
provider inside the timer (local, no traffic); stock CrypTen autograd, which also computes the
gradients of the frozen weights (matmul/mul backward return both operands' gradients). Bytes:
per-party sent + received elements x 8 B (= both directions on the wire for two parties);
rounds: CrypTen's count of communication calls. The error is measured against float64 torch
running the same composition on the same inputs.

Prints one JSON line. The moved torch.onnx module is aliased before ``import crypten`` (see
crypten_gates.py).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time

import numpy as np
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
from crypten import gradients  # noqa: E402
from crypten.mpc import run_multiprocess  # noqa: E402

HIDDEN, HEADS, HEAD_DIM, FFN, RANK, LORA_ALPHA, LN_EPS = 384, 12, 32, 1536, 8, 16, 1e-5
LORA_SCALE = LORA_ALPHA / RANK
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
FROZEN = ("Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo", "W1", "b1", "W2", "b2", "g1", "be1", "g2", "be2")
LORA = ("Aq", "Bq", "Av", "Bv")

if "inv_sqrt" not in getattr(gradients, "FUNCTION_REGISTRY", {}):
    @gradients.register_function("inv_sqrt")
    class _InvSqrt(gradients.AutogradFunction):
        """y = v^(-1/2) with CrypTen's Newton iteration; dv = -g y^3 / 2."""

        @staticmethod
        def forward(ctx, v):
            y = v.inv_sqrt()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return (y * y * y * g).div(-2.0)


def weights(batch: int, seq: int, seed: int) -> dict[str, torch.Tensor]:
    """Public benchmark data in float64 (fixed seed; nothing secret here). csprng-ok"""
    g = torch.Generator().manual_seed(seed)  # csprng-ok: public benchmark inputs

    def rnd(*shape, std=1.0, mean=0.0):
        return mean + std * torch.randn(*shape, generator=g, dtype=torch.float64)

    w = {}
    for name in ("q", "k", "v", "o"):
        w[f"W{name}"], w[f"b{name}"] = rnd(HIDDEN, HIDDEN, std=0.02), rnd(HIDDEN, std=0.02)
    w["W1"], w["b1"] = rnd(HIDDEN, FFN, std=0.02), rnd(FFN, std=0.02)
    w["W2"], w["b2"] = rnd(FFN, HIDDEN, std=0.02), rnd(HIDDEN, std=0.02)
    for i in (1, 2):
        w[f"g{i}"], w[f"be{i}"] = rnd(HIDDEN, std=0.02, mean=1.0), rnd(HIDDEN, std=0.02)
    for name in ("q", "v"):  # B non-zero (as after a few steps), so dA is not zero
        w[f"A{name}"], w[f"B{name}"] = rnd(HIDDEN, RANK, std=HIDDEN ** -0.5), rnd(RANK, HIDDEN, std=0.02)
    w["X"], w["G"] = rnd(batch * seq, HIDDEN), rnd(batch * seq, HIDDEN)
    return w


def encoder_layer(p: dict, x, batch: int, seq: int, secret: bool):
    """The layer on CrypTensors (secret=True) or torch tensors; same composition for both."""

    def layer_norm(t, gamma, beta):
        mu = t.mean(-1, keepdim=True)
        tc = t - mu
        var = (tc * tc).mean(-1, keepdim=True)
        inv = (var + LN_EPS).inv_sqrt() if secret else torch.rsqrt(var + LN_EPS)
        return tc * inv * gamma + beta

    def split(t):  # (B*S, H) -> (B, heads, S, head_dim)
        return t.reshape(batch, seq, HEADS, HEAD_DIM).permute((0, 2, 1, 3))

    def lora(name):
        return x.matmul(p[f"A{name}"]).matmul(p[f"B{name}"]).div(1.0 / LORA_SCALE)

    q = x.matmul(p["Wq"]) + p["bq"] + lora("q")
    k = x.matmul(p["Wk"]) + p["bk"]
    v = x.matmul(p["Wv"]) + p["bv"] + lora("v")
    scores = split(q).matmul(split(k).transpose(-2, -1)).div(math.sqrt(HEAD_DIM))
    ctx = scores.softmax(-1).matmul(split(v)).permute((0, 2, 1, 3)).reshape(batch * seq, HIDDEN)
    h = layer_norm(x + ctx.matmul(p["Wo"]) + p["bo"], p["g1"], p["be1"])
    u = h.matmul(p["W1"]) + p["b1"]
    inner = (u + (u * u * u).div(1.0 / 0.044715)).div(1.0 / SQRT_2_OVER_PI)
    f = (u * (inner.tanh() + 1.0)).div(2.0)
    return layer_norm(h + f.matmul(p["W2"]) + p["b2"], p["g2"], p["be2"])


def party(a) -> tuple[int, str]:
    torch.set_num_threads(1)
    crypten.cfg.communicator.verbose = True
    c = comm.get()
    rank = c.get_rank()
    w = weights(a.batch, a.seq, a.seed)

    def enc(name, src, grad=False):
        return crypten.cryptensor(w[name].float(), src=src, requires_grad=grad)

    p = {n: enc(n, 1) for n in FROZEN}
    lora = {n: enc(n, 0, True) for n in LORA}
    G = enc("G", 0)
    runs = []
    for it in range(a.warmup + a.reps):
        x = enc("X", 0, True)
        for t in lora.values():
            t.grad = None
        p.update(lora)
        c.barrier()
        c.reset_communication_stats()
        t0 = time.perf_counter()
        y = encoder_layer(p, x, a.batch, a.seq, secret=True)
        t1 = time.perf_counter()
        fwd = c.get_communication_stats()
        c.barrier()
        c.reset_communication_stats()
        t2 = time.perf_counter()
        y.backward(G)
        t3 = time.perf_counter()
        bwd = c.get_communication_stats()
        c.barrier()
        runs.append({"warmup": it < a.warmup, "fwd_s": t1 - t0, "bwd_s": t3 - t2,
                     "fwd_bytes": int(fwd["bytes"]), "fwd_rounds": int(fwd["rounds"]),
                     "bwd_bytes": int(bwd["bytes"]), "bwd_rounds": int(bwd["rounds"])})
        print(f"[crypten-layer] party {rank} iteration {it}: fwd {t1 - t0:.2f} s, bwd {t3 - t2:.2f} s",
              file=sys.stderr, flush=True)
    # Large results go through a file: run_multiprocess joins the parties before draining its queue.
    path = os.path.join(a.outdir, f"party{rank}.npz")
    arrays = {"Y": y.get_plain_text().double().numpy(), "dX": x.grad.get_plain_text().double().numpy()}
    arrays.update({f"d{n}": t.grad.get_plain_text().double().numpy() for n, t in lora.items()})
    np.savez(path, **arrays)
    with open(path + ".json", "w") as f:
        json.dump(runs, f)
    return rank, path


def reference(a) -> dict[str, torch.Tensor]:
    w = weights(a.batch, a.seq, a.seed)
    p = {n: w[n] for n in FROZEN}
    for n in LORA:
        p[n] = w[n].clone().requires_grad_(True)
    x = w["X"].clone().requires_grad_(True)
    y = encoder_layer(p, x, a.batch, a.seq, secret=False)
    y.backward(w["G"])
    out = {"Y": y.detach(), "dX": x.grad}
    out.update({f"d{n}": p[n].grad for n in LORA})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--reps", type=int, default=2, help="timed iterations (default 2)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed iterations first (default 1)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    for name in ("batch", "seq", "reps"):
        if getattr(a, name) < 1:
            ap.error(f"--{name}: must be >= 1")
    if a.warmup < 0:
        ap.error("--warmup: must be >= 0")
    a.outdir = tempfile.mkdtemp(prefix="crypten-layer-")
    res = run_multiprocess(world_size=2)(party)(a)
    if not res:
        print("a CrypTen party failed", file=sys.stderr)
        return 1
    path = dict(res)[0]
    got = np.load(path)
    with open(path + ".json") as f:
        runs = json.load(f)
    ref = reference(a)
    err = {k: float(np.abs(got[k] - ref[k].numpy()).max()) for k in ref}
    scale = {k: float(ref[k].abs().max()) for k in ref}
    timed = [r for r in runs if not r["warmup"]]
    tot = [r["fwd_s"] + r["bwd_s"] for r in timed]
    rec = {"peer": "crypten", "version": "0.4.1", "case": "encoder_layer_lora",
           "what": "MiniLM encoder layer (H 384, 12 heads, FFN 1536) + LoRA r8 on q,v: forward + backward",
           "batch": a.batch, "seq": a.seq, "threads_per_party": 1, "reps": a.reps, "warmup": a.warmup,
           "includes": "triples made inside the timer (TFP provider); stock autograd also computes frozen-weight "
                       "gradients; 2 processes, loopback Gloo",
           "fwd_s_all": [round(r["fwd_s"], 3) for r in timed], "bwd_s_all": [round(r["bwd_s"], 3) for r in timed],
           "s_all": [round(t, 3) for t in tot], "s_median": round(statistics.median(tot), 3),
           "fwd_s_median": round(statistics.median(r["fwd_s"] for r in timed), 3),
           "bwd_s_median": round(statistics.median(r["bwd_s"] for r in timed), 3),
           "fwd_bytes": timed[0]["fwd_bytes"], "bwd_bytes": timed[0]["bwd_bytes"],
           "comm_bytes": timed[0]["fwd_bytes"] + timed[0]["bwd_bytes"],
           "fwd_rounds": timed[0]["fwd_rounds"], "bwd_rounds": timed[0]["bwd_rounds"],
           "comm_rounds": timed[0]["fwd_rounds"] + timed[0]["bwd_rounds"],
           "max_abs_err": err, "ref_max_abs": scale}
    print(json.dumps(rec), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
