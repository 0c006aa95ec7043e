"""Composite gates of a transformer: softmax, log_softmax, layer_norm, dropout,
cross_entropy, each with its backward (formulas of torch's autograd, on shares).

softmax(x, dim): m = amax(x) (pairwise tree, exact), e = exp(x - m) (x - m <= 0), S = sum e,
    y = e * reciprocal(S) with the reciprocal's domain [1, 2^ceil(log2 n + 1)) (S >= 1 since
    the maximum contributes exp(0)). Rounds: 2 ceil(log2 n) + 6 + 11 + 2.
log_softmax(x, dim) = (x - m) - log(S); its ctx also keeps the softmax for the backward.
layer_norm: mean and variance with the public 1/H encoded at 24 fractional bits (the
    session's 16 would bias the variance by up to 0.2% for H = 384; the squares are summed
    before they are truncated: one truncation per row), rsqrt(var + eps) at 20
    output bits over var in [2^-14, 2^10), y = (x - mean) * rsqrt * weight + bias.
dropout(x, p): the dealer's shared Bernoulli(1 - p) mask m (keep probability quantised to
    2^-16), y = x * m / (1 - p); the backward reuses m.
cross_entropy(logits, target): mean over rows of -log_softmax[target]; target is a shared
    one-hot (frac_bits 0, secret labels) or a public LongTensor of class indices; backward
    (softmax - onehot) / N.
"""
from __future__ import annotations

import math

import torch

from ..tensor import SharedTensor, cat
from ..truncation import truncate
from .compare import amax
from .normalize import log as _log, reciprocal, rsqrt
from .smooth import exp
from .spline import mul_sum_to, mul_to, mul_unreduced

_MEAN_BITS = 24


def _check(x, name="input") -> SharedTensor:
    if not isinstance(x, SharedTensor):
        raise ValueError(f"{name}: expected a SharedTensor, got {type(x).__name__}")
    if x.frac_bits != x.session.frac_bits:
        raise ValueError(f"{name}: expected the session's frac_bits {x.session.frac_bits}, got {x.frac_bits}")
    return x


def _row_domain(n: int) -> tuple[int, int]:
    return (0, max(1, math.ceil(math.log2(max(n, 1)))) + 1)


def _count(t: SharedTensor, dims: tuple) -> int:
    n = 1
    for d in dims:
        n *= t.shape[d]
    return n


def _mean_precise(t: SharedTensor, dims: tuple, out_frac: int) -> SharedTensor:
    """Mean over ``dims`` (keepdim) as sum * round(2^24 / n) truncated in the 64-bit ring:
    relative error of the constant <= 2^-24 * n. Precondition |sum| < 2^(36 - frac_bits)."""
    tot = SharedTensor(t.session, t.share.sum(dim=dims, keepdim=True), t.frac_bits)
    return _mean_from_sum(tot, _count(t, dims), out_frac)


def _mean_from_sum(tot: SharedTensor, n: int, out_frac: int) -> SharedTensor:
    """tot / n at ``out_frac`` (as _mean_precise, from the sum of n values)."""
    s = tot.session
    c = round(2.0 ** _MEAN_BITS / n)
    shift = tot.frac_bits + _MEAN_BITS - out_frac
    with s.protocol("mean"):
        return SharedTensor(s, truncate(s, tot.share * c, shift, 64), out_frac)


def _mean_of_squares(d: SharedTensor, dims: tuple, out_frac: int, ring_bits: int) -> SharedTensor:
    """mean(d^2) over ``dims`` (keepdim) at ``out_frac``: the squares stay untruncated at scale
    2 f_d in the ``ring_bits`` ring (one Beaver square, d opened once), their row sums are
    truncated to ``out_frac`` (one truncation per row, not per element), then the mean as
    _mean_precise. Precondition: sum d^2 < 2^(ring_bits - 2 - 2 f_d)."""
    tot = mul_sum_to(d, d, dims, out_frac, ring_bits=ring_bits)
    return _mean_from_sum(tot, _count(d, dims), out_frac)


# ----------------------------------------------------------------------------- softmax family
def _shifted_exp(x: SharedTensor, dim: int):
    """(z, e, S, n): z = x - max(x), e = exp(z), S = sum(e) over ``dim`` (S >= 1)."""
    _check(x)
    z = x - amax(x, dim, keepdim=True)
    e = exp(z, nonpositive=True)   # z = x - max <= 0 exactly
    return z, e, e.sum(dim, keepdim=True), x.shape[dim]


def _unit_ring(s) -> int:
    """Ring width of e * (1 / S) in softmax: e = exp(z <= 0) <= 1 and 1/S <= 1 (S >= 1: the
    row's maximum contributes exp(0)), both within 1e-3 of that, so |e / S| < 2 at scale 2f and
    2f + 4 bits keep mul_to's |a b| < 2^(L - 2) (36 instead of mul_bits = 54 at f = 16)."""
    return min(2 * s.frac_bits + 4, s.config.mul_bits)


def softmax(x: SharedTensor, dim: int = -1, ctx=None) -> SharedTensor:
    s = _check(x).session
    with s.protocol("softmax"):
        _z, e, S, n = _shifted_exp(x, dim)
        y = mul_to(e, reciprocal(S, domain=_row_domain(n)), s.frac_bits, ring_bits=_unit_ring(s))
    if ctx is not None:
        ctx.save(y=y, dim=dim)
    return y


def softmax_backward(ctx, grad: SharedTensor) -> SharedTensor:
    """y * (grad - sum(grad * y, dim)). Four rounds."""
    _need(ctx, "y", "softmax")
    s = grad.session
    with s.protocol("softmax_backward"):
        gy = mul_sum_to(grad, ctx.y, ctx.dim, s.frac_bits)      # one truncation per row
        return mul_to(ctx.y, grad - gy, s.frac_bits)


def log_softmax(x: SharedTensor, dim: int = -1, ctx=None) -> SharedTensor:
    s = _check(x).session
    with s.protocol("log_softmax"):
        z, e, S, n = _shifted_exp(x, dim)
        y = z - _log(S, domain=_row_domain(n))
        if ctx is not None:
            ctx.save(p=mul_to(e, reciprocal(S, domain=_row_domain(n)), s.frac_bits, ring_bits=_unit_ring(s)), dim=dim)
    return y


def log_softmax_backward(ctx, grad: SharedTensor) -> SharedTensor:
    """grad - softmax * sum(grad, dim). Two rounds."""
    _need(ctx, "p", "log_softmax")
    s = grad.session
    with s.protocol("log_softmax_backward"):
        return grad - mul_to(ctx.p, grad.sum(ctx.dim, keepdim=True), s.frac_bits)


# ----------------------------------------------------------------------------- cross entropy
def _onehot(target, logits: SharedTensor) -> SharedTensor:
    s = logits.session
    N, C = logits.shape
    if isinstance(target, SharedTensor):
        logits._same_session(target, "cross_entropy")
        if target.frac_bits != 0 or tuple(target.shape) != (N, C):
            raise ValueError(f"target: a shared target must be a one-hot (N, C) = {(N, C)} at frac_bits 0, "
                             f"got shape {tuple(target.shape)} at frac_bits {target.frac_bits}")
        return target
    t = torch.as_tensor(target)
    if t.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8) or tuple(t.shape) != (N,):
        raise ValueError(f"target: public targets are integer class indices of shape ({N},), got {tuple(t.shape)} {t.dtype}")
    if t.numel() and (t.min() < 0 or t.max() >= C):
        raise ValueError(f"target: class indices must be in [0, {C})")
    oh = torch.nn.functional.one_hot(t.long(), C).to(torch.int64).to(s.device)
    return SharedTensor(s, oh if s.party == 0 else torch.zeros_like(oh), 0)


def cross_entropy(logits: SharedTensor, target, ctx=None) -> SharedTensor:
    """Mean over the N rows of -log_softmax(logits)[target] (a 0-dim SharedTensor)."""
    _check(logits, "logits")
    if logits.ndim != 2:
        raise ValueError(f"logits: expected shape (N, C), got {tuple(logits.shape)}")
    s = logits.session
    N = logits.shape[0]
    oh = _onehot(target, logits)
    with s.protocol("cross_entropy"):
        inner = _Saved()
        ls = log_softmax(logits, 1, ctx=inner)
        picked = (oh * ls).sum()                               # exact (bit x value)
        loss = -(picked * (1.0 / N))
    if ctx is not None:
        ctx.save(p=inner.p, onehot=oh, n=N)
    return loss


def cross_entropy_backward(ctx, grad: SharedTensor | None = None) -> SharedTensor:
    """d(mean loss)/d logits = (softmax - onehot) / N (times ``grad`` if given)."""
    _need(ctx, "p", "cross_entropy")
    s = ctx.p.session
    with s.protocol("cross_entropy_backward"):
        oh = SharedTensor(s, ctx.onehot.share << s.frac_bits, s.frac_bits)
        d = (ctx.p - oh) * (1.0 / ctx.n)
        if grad is not None:
            d = mul_to(d, grad, s.frac_bits)
    return d


# ----------------------------------------------------------------------------- layer norm
def layer_norm(x: SharedTensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5, ctx=None,
               var_domain=(-14, 10)) -> SharedTensor:
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing ``normalized_shape``
    dims. weight/bias: public tensors, SharedTensors or None."""
    _check(x)
    s = x.session
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(x.shape[x.ndim - len(ns):]) != ns:
        raise ValueError(f"normalized_shape: {ns} does not match the trailing dims of {tuple(x.shape)}")
    if not (isinstance(eps, (int, float)) and eps >= 0 and math.isfinite(eps)):
        raise ValueError(f"eps: must be a finite number >= 0, got {eps!r}")
    dims = tuple(range(x.ndim - len(ns), x.ndim))
    f = s.frac_bits
    L = _layer_norm_ring(s, _count(x, dims), var_domain)
    with s.protocol("layer_norm"):
        d = x - _mean_precise(x, dims, f)
        var = _mean_of_squares(d, dims, f + 8, L)                  # scale 24
        var = var + eps
        rs = rsqrt(var, domain=var_domain, out_frac_bits=f + 4, bits=48)   # scale 20; var < 2^23
        xhat = mul_to(d, rs, f, ring_bits=L)
        y = _affine(xhat, weight, bias)
    if ctx is not None:
        ctx.save(rs=rs, xhat=xhat, weight=weight, dims=dims)
    return y


def _layer_norm_ring(s, n: int, var_domain) -> int:
    """The ring of LayerNorm's products with d = x - mean (the sum of squares and
    d * rsqrt): the sum of n squares at scale 2f is below n 2^(e_hi + 2f) for a variance in
    the domain [2^e_lo, 2^e_hi), and |x-hat| <= sqrt(n) keeps d * rsqrt (scale f + 20) far
    below that, so ceil(log2 n) + e_hi + 2f + 2 bits satisfy |z| < 2^(L-2). Never narrower than
    mul_bits (so rsqrt, opened once, serves the backward's products in that ring too), at most
    64 (MiniLM at f = 16: 54 instead of 64)."""
    try:
        e_hi = int(var_domain[1])
    except (TypeError, IndexError, ValueError):
        raise ValueError(f"var_domain: expected (e_lo, e_hi) exponents, got {var_domain!r}") from None
    need = math.ceil(math.log2(max(n, 2))) + e_hi + 2 * s.frac_bits + 2
    return min(64, max(s.config.mul_bits, need))


def _affine(t: SharedTensor, weight, bias) -> SharedTensor:
    s = t.session
    if weight is not None:
        t = mul_to(t, weight, s.frac_bits) if isinstance(weight, SharedTensor) else t * torch.as_tensor(weight, dtype=torch.float64)
    if bias is not None:
        t = t + bias if isinstance(bias, SharedTensor) else t + torch.as_tensor(bias, dtype=torch.float64)
    return t


def layer_norm_backward(ctx, grad: SharedTensor) -> SharedTensor:
    """dx = rs * (g - mean(g)) - x-hat * (rs * mean(g * x-hat)) with g = grad * weight (weight
    and bias are frozen: only dx). The products g * x-hat are summed before their truncation
    (one per row), and dx's three terms are summed untruncated at scale f + 20 and truncated
    once; rs and x-hat were opened in the forward, so g * rs opens nothing. Twelve rounds.
    Precondition: |dx| < 2^(mul_bits - 2 - f - 20) (2^16 at the defaults)."""
    _need(ctx, "rs", "layer_norm")
    s = grad.session
    f = s.frac_bits
    rs, xhat, dims = ctx.rs, ctx.xhat, ctx.dims
    with s.protocol("layer_norm_backward"):
        g = _affine(grad, ctx.weight, None)
        sums = cat([SharedTensor(s, g.share.sum(dim=dims, keepdim=True), f), mul_sum_to(g, xhat, dims, f)], dim=-1)
        means = _mean_from_sum(sums, _count(g, dims), f)                    # [mean(g), mean(g x-hat)]
        rs_means = mul_unreduced(rs, means)                                  # rows, scale f + 20
        t = rs_means[..., 1:2].truncated(f)                                  # rs * mean(g x-hat), scale 20
        u = mul_unreduced(g, rs) - rs_means[..., 0:1] - mul_unreduced(xhat, t)
        return u.truncated(rs.frac_bits)


# ----------------------------------------------------------------------------- dropout
def dropout(x: SharedTensor, p: float = 0.5, training: bool = True, ctx=None) -> SharedTensor:
    """Inverted dropout with a dealer-made shared mask (keep probability 1 - p, quantised
    to a multiple of 2^-16). Identity when not training or p == 0. Two rounds."""
    _check(x)
    if not (isinstance(p, (int, float)) and 0.0 <= p < 1.0):
        raise ValueError(f"p: dropout probability must be in [0, 1), got {p!r}")
    s = x.session
    if not training or p == 0:
        if ctx is not None:
            ctx.save(mask=None, scale=1.0)
        return x
    q = round((1.0 - p) * 65536)
    with s.protocol("dropout"):
        (m,) = s.take("bern", (q, tuple(x.shape)))
        mask = SharedTensor(s, m, 0)
        y = (mask * x) * (65536.0 / q)
    if ctx is not None:
        ctx.save(mask=mask, scale=65536.0 / q)
    return y


def dropout_backward(ctx, grad: SharedTensor) -> SharedTensor:
    """grad * mask / (1 - p) with the forward's mask. Two rounds."""
    if ctx is None or not hasattr(ctx, "mask"):
        raise ValueError("ctx: dropout_backward needs the ctx filled by dropout(x, ctx=ctx)")
    if ctx.mask is None:
        return grad
    s = grad.session
    with s.protocol("dropout_backward"):
        return (ctx.mask * grad) * ctx.scale


class _Saved:
    def save(self, **kw) -> None:
        self.__dict__.update(kw)


def _need(ctx, attr: str, name: str) -> None:
    if ctx is None or getattr(ctx, attr, None) is None:
        raise ValueError(f"ctx: {name}_backward needs the ctx filled by the forward call ({name}(..., ctx=ctx))")
