"""Plaintext models of the gate pipelines in exact integer arithmetic (torch int64, Python
ints for constants), written from the docstrings of fsskernels.mpc.gates, independently of
the protocol code: the secure gates must equal these bit for bit (exact truncation makes
every gate deterministic), and these must meet the stated error bounds on every fixed-point
input of the domain (checked exhaustively, which is cheap in plaintext)."""
import math

import numpy as np
import torch

F = 16


def enc(x, f=F):
    return torch.round(torch.as_tensor(x, dtype=torch.float64) * 2.0 ** f).to(torch.int64)


def dec(v, f=F):
    return v.to(torch.float64) / 2.0 ** f


def relu_int(v):
    return torch.clamp(v, min=0)


def spline_tables(lo, n, s, fn, f=F):
    """Least-squares lines of fn on each piece, from 65 samples (as the docs state)."""
    h = 2.0 ** -s
    xi = lo + h * np.arange(1 << n)
    t = np.linspace(0.0, h, 65)
    Y = fn(xi[:, None] + t[None, :])
    tm, ym = t.mean(), Y.mean(1)
    B = ((t - tm)[None, :] * (Y - ym[:, None])).sum(1) / ((t - tm) ** 2).sum()
    A = ym - B * tm
    return torch.tensor(np.round(A * 2.0 ** f), dtype=torch.int64), torch.tensor(np.round(B * 2.0 ** f), dtype=torch.int64)


def spline_int(v, lo, n, s, fn, fx=F, f=F, clamp=True):
    """Integer pipeline: clamp to [lo, lo + 2^(n-s) - ulp], index by floor, A + floor(B * delta / 2^fx)."""
    lo_i = int(round(lo * 2 ** fx))
    hi_i = lo_i + (1 << (n - s + fx)) - 1
    xc = torch.clamp(v, lo_i, hi_i) if clamp else v
    u = xc - lo_i
    k = fx - s
    i = u >> k
    delta = u - (i << k)
    A, B = spline_tables(lo, n, s, fn, f)
    return A[i] + torch.div(B[i] * delta, 2 ** fx, rounding_mode="floor"), v - hi_i


def gelu_f(x):
    return 0.5 * x * (1.0 + torch.special.erf(torch.as_tensor(x) / math.sqrt(2.0)).numpy())


def dgelu_f(x):
    return 0.5 * (1.0 + torch.special.erf(torch.as_tensor(x) / math.sqrt(2.0)).numpy()) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


SMOOTH = {  # name: (lo, n, s, fn, right tail slope)
    "gelu": (-4.0, 7, 4, gelu_f, 1),
    "tanh": (-8.0, 8, 4, np.tanh, 0),
    "sigmoid": (-16.0, 8, 3, lambda x: 1.0 / (1.0 + np.exp(-x)), 0),
    "exp": (-16.0 + 1.0 / 16, 8, 4, np.exp, 0),
}


def smooth_int(name, v):
    lo, n, s, fn, tail = SMOOTH[name]
    y, over = spline_int(v, lo, n, s, fn)
    return y + relu_int(over) if tail else y
