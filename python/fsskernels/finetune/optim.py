"""Optimizers on shares: SGD with momentum and AdamW over secret-shared adapters and gradients.

Both follow torch.optim's update rules exactly (same formulas, same first-step behaviour), in
fixed point on ``SharedTensor``s, on one flat vector that holds every adapter (so a step costs
the same few rounds whatever the number of tensors):

SGD (torch.optim.SGD, momentum mu, weight decay wd, dampening 0, no Nesterov):
    g <- g + wd p;  b <- g (first step) else mu b + g;  p <- p - lr b
    rounds: 1 (+1 with momentum, +1 with wd) truncations of the flat vector.

AdamW (torch.optim.AdamW, Loshchilov & Hutter 2019):
    p <- p (1 - lr wd);  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
    p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    On shares the gradient is first multiplied by the public power of two S = 2^grad_shift
    (exact, local) so that g^2 keeps precision at f = 16 fractional bits (m and v are stored
    for S g; the ratio m / sqrt(v) is unchanged), and clamped on shares to |S g| <= 2^9
    (``MF.clamp``, exact; keeps (S g)^2 inside the product range 2^20 and v_hat inside the
    rsqrt domain). 1 / sqrt(.) is ``MF.rsqrt`` of v_hat + max(eps S, 2^-5)^2 on the domain
    [2^-10, 2^18): the floor keeps the input inside the domain when v = 0 (e.g. the LoRA A
    gradient of the first step, where B = 0) and only changes steps whose gradient is below
    ~2^-5 / S. With the default S = 2^5: full Adam behaviour for |g| in ~[1e-3, 16];
    smaller gradients get a damped step, larger ones are clipped to 16.
    Rounds per step: ~4 truncations, 1 clamp (2), 1 Beaver square, rsqrt (11), 1 product.

The step consumes the gradient shares; nothing is revealed. Learning rates and betas are
public. State (buffers, step count) is exported as ring tensors for checkpoints.
Errors: ValueError when gradients and parameters do not match (names, shapes).
"""
from __future__ import annotations

import math

import torch

from .. import mpc


def flatten(tensors: dict, names: list) -> "mpc.SharedTensor":
    return mpc.cat([tensors[n].reshape(-1) for n in names], 0)


def unflatten(flat, names: list, shapes: dict) -> dict:
    out, i = {}, 0
    for n in names:
        k = int(math.prod(shapes[n]))
        out[n] = flat[i:i + k].reshape(*shapes[n]) if shapes[n] else flat[i:i + k].reshape(())
        i += k
    return out


def _check(params: dict, grads: dict) -> None:
    if set(params) != set(grads):
        extra = sorted(set(params) ^ set(grads))
        raise ValueError(f"optimizer: gradients and parameters differ in names (e.g. {extra[:2]})")
    for n, p in params.items():
        if tuple(grads[n].shape) != tuple(p.shape):
            raise ValueError(f"optimizer: gradient {n} has shape {tuple(grads[n].shape)}, parameter {tuple(p.shape)}")


class _SharedOptimizer:
    """Base: holds state as raw shares (int64 tensors) so it can move between sessions."""

    def __init__(self, lr: float):
        if not (isinstance(lr, (int, float)) and lr > 0):
            raise ValueError(f"lr: must be > 0, got {lr!r}")
        self.lr = float(lr)
        self.t = 0
        self.state: dict = {}  # name -> int64 share tensor (flat)
        self.frac_bits = None

    def _get(self, session, key):
        return None if key not in self.state else mpc.SharedTensor(session, self.state[key].to(session.device), self.frac_bits)

    def _put(self, key, st) -> None:
        self.state[key] = st.share.detach().clone()

    def state_dict(self) -> dict:
        """{'t': int, 'tensors': {name: int64}} (this party's shares)."""
        return {"t": self.t, "tensors": {k: v.cpu() for k, v in self.state.items()}, "frac_bits": self.frac_bits}

    def load_state_dict(self, d: dict) -> None:
        self.t = int(d["t"])
        self.frac_bits = d.get("frac_bits")
        self.state = {k: torch.as_tensor(v, dtype=torch.int64).clone() for k, v in d["tensors"].items()}

    def step(self, params: dict, grads: dict) -> dict:
        """New parameter shares (same names/shapes). ``params``/``grads``: name -> SharedTensor."""
        _check(params, grads)
        names = list(params)
        shapes = {n: tuple(params[n].shape) for n in names}
        p = flatten(params, names)
        g = flatten(grads, names)
        if g.frac_bits != p.frac_bits:
            raise ValueError("optimizer: gradients and parameters must have the same scale (frac_bits)")
        self.frac_bits = p.frac_bits
        self.t += 1
        s = p.session
        with s.protocol("optimizer"):
            newp = self._flat_step(s, p, g)
        return unflatten(newp, names, shapes)


class SharedSGD(_SharedOptimizer):
    def __init__(self, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum: must be in [0, 1), got {momentum!r}")
        if not 0 <= weight_decay < 1:
            raise ValueError(f"weight_decay: must be in [0, 1), got {weight_decay!r}")
        self.momentum, self.weight_decay = float(momentum), float(weight_decay)

    def _flat_step(self, s, p, g):
        if self.weight_decay:
            g = g + p * self.weight_decay
        if self.momentum:
            buf = self._get(s, "momentum_buffer")
            buf = g if buf is None else buf * self.momentum + g
            self._put("momentum_buffer", buf)
            g = buf
        return p - g * self.lr


RSQRT_DOMAIN = (-10, 18)  # the widest the gate allows from 2^-10 at f = 16 (a 64-bit ring)
CLAMP = 2.0 ** 9 - 1


def _gates():
    try:
        from ..nn.gates import gates
    except ImportError as e:  # pragma: no cover - depends on the install
        raise RuntimeError(f"optimizer adamw: needs the gate suite ({e})") from None
    return gates()


def _rsqrt(x):
    MF = _gates()
    try:
        return MF.rsqrt(x, domain=RSQRT_DOMAIN)
    except TypeError:  # a gate module without the domain argument (e.g. a test oracle)
        return MF.rsqrt(x)


def _clamp(x, lo, hi):
    return _gates().clamp(x, lo, hi)


class SharedAdamW(_SharedOptimizer):
    def __init__(self, lr: float, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.01,
                 grad_shift: int = 5):
        super().__init__(lr)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"betas: each must be in [0, 1), got {betas!r}")
        if not eps > 0:
            raise ValueError(f"eps: must be > 0, got {eps!r}")
        if not 0 <= weight_decay < 1:
            raise ValueError(f"weight_decay: must be in [0, 1), got {weight_decay!r}")
        if not (isinstance(grad_shift, int) and 0 <= grad_shift <= 12):
            raise ValueError(f"grad_shift: must be an integer in 0..12, got {grad_shift!r}")
        self.b1, self.b2, self.eps, self.weight_decay, self.grad_shift = float(b1), float(b2), float(eps), float(weight_decay), grad_shift

    def _flat_step(self, s, p, g):
        t = self.t
        if self.weight_decay:
            p = p - p * (self.lr * self.weight_decay)
        gs = _clamp(g * (1 << self.grad_shift), -CLAMP, CLAMP)  # integer public multiply (exact, local), then clamp
        m, v = self._get(s, "exp_avg"), self._get(s, "exp_avg_sq")
        g2 = gs * gs
        m = gs * (1 - self.b1) if m is None else m + (gs - m) * (1 - self.b1)
        v = g2 * (1 - self.b2) if v is None else v + (g2 - v) * (1 - self.b2)
        self._put("exp_avg", m)
        self._put("exp_avg_sq", v)
        floor = max(self.eps * (1 << self.grad_shift), 2.0 ** -5)
        inv = _rsqrt(v * (1.0 / (1 - self.b2 ** t)) + floor * floor)
        upd = m * inv
        return p - upd * (self.lr / (1 - self.b1 ** t))


def make(cfg):
    if cfg.optimizer == "sgd":
        return SharedSGD(cfg.lr, cfg.momentum, cfg.weight_decay)
    return SharedAdamW(cfg.lr, cfg.betas, cfg.eps, cfg.weight_decay)
