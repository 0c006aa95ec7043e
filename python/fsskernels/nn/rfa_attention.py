"""Random-feature attention (RFA) on shares: SecP-Tuning's replacement for softmax attention
(Luo et al. 2025, arXiv:2506.15307; random Fourier features of Rahimi & Recht 2007; RFA of
Peng et al. ICLR 2021). FORWARD ONLY (forward-only tuning never runs a backward).

For one head with q, k (dh) and s = dh^(1/4), q' = q / s, k' = k / s (so q'.k' = q.k / sqrt(dh)):
    exp(q'.k') = exp(|q'|^2/2) exp(|k'|^2/2) exp(-|q' - k'|^2 / 2)
    exp(-|u|^2/2) = E_w[cos(w.u)],  w ~ N(0, I)
    cos(w.(q'-k')) = cos(w.q') cos(w.k') + sin(w.q') sin(w.k')
so with m public Gaussian rows W (m, dh) and phi(x) = [cos(Wx'), sin(Wx')],
    attn(q) = sum_k e_k phi(q).phi(k) v_k / sum_k e_k phi(q).phi(k),   e_k = exp(|k'|^2/2 - M)
Keys are first centred per head (k - mean_T k: softmax is invariant to it, since it adds a
per-query constant to the scores), which shrinks |k'| and the estimator's variance.
The query factor exp(|q'|^2/2) and any per-row constant M cancel in the ratio; M is the row's
largest |k'|^2/2 (so the exp argument is <= 0, the exp gate's domain) and the secret padding
mask is added to the exp argument (a padded key gets e_k = 0 exactly: exp(<= -64) = 0).

Private pipeline (B batch, H heads, T tokens, m features), rounds in brackets:
  q, k, v projections as in SelfAttention (frozen / LoRA products)
  [1] one public product [q; k] @ [W^T / (2 pi s) | I / sqrt(2 sqrt dh)] (angles in periods
      and k' / sqrt 2 for the norm), one truncation;  [1] the key mean (public 1/T)
  [2] fourier_features (gates/fourier.py): cos and sin from ONE f-bit opening + one
      truncation; the query rows get the factor 1/m (folded into the public coefficients)
  [2] |k'|^2/2 = sum (k'/sqrt 2)^2 (Beaver + truncation), + mask;  [2 log2 T] row max;
  [6] e = exp(a - max) (nonpositive exp);  [2] e * v (the normaliser column is e itself)
  [2] KV = phi(k)^T @ [e v | e];  [2] [num | den] = phi_q @ KV;  [11] 1 / den;  [2] num / den
Error: the random-feature estimate itself (O(1/sqrt(m)), not a protocol error; compare the
private result with ``rfa_attention_plain`` for the protocol error and with softmax
attention for the approximation error). den = sum_k e_k kappa_hat(q, k) must lie in the
reciprocal gate's domain [2^-5, 2^10) (it is clamped into it, and the float64 reference
clamps it the same way): queries far from every key (kappa ~ 0, large |q'|) get a wrong
(clamped) normaliser; this is the cos/sin estimator's known weakness (its variance grows
with exp(|q'|^2 + |k'|^2)), worse with few features.
Security: W is public (seeded; it carries no data). Every value the parties see is a masked
opening (products, truncations, the fourier opening c = v + t mod 2^f, comparisons of the
max, exp and reciprocal gates): uniform given the party's view. Nothing is revealed.
Dropout on attention probabilities is not applied (forward-only tuning runs in eval mode).
"""
from __future__ import annotations

import math

import torch

from ..mpc.gates.fourier import fourier_features
from ..mpc.tensor import SharedTensor, cat
from .attention import DEFAULT_MASK_BIG, SelfAttention
from .gates import gates
from .linear import fused_lora_forward
from .module import Module


DEN_LO, DEN_HI = 2.0 ** -5, 2.0 ** 10 - 2.0 ** -16   # the reciprocal gate's (default) domain


def check_features(features) -> int:
    if isinstance(features, bool) or not isinstance(features, int) or not 1 <= features <= 4096:
        raise ValueError(f"rfa-features: must be an integer in 1..4096, got {features!r}")
    return features


def rfa_weights(head_dim: int, features: int, seed: int) -> torch.Tensor:
    """The public Gaussian matrix W (features, head_dim), float64, from ``seed``."""
    check_features(features)
    g = torch.Generator().manual_seed(int(seed))  # csprng-ok: W is public (random projection, no secret)
    return torch.randn(features, head_dim, generator=g, dtype=torch.float64)  # csprng-ok: public W


def rfa_attention_plain(q, k, v, W, mask=None, big: int = DEFAULT_MASK_BIG):
    """float64 reference of RFA for heads (B, H, T, dh); mask (B, T) 0/1 or None. The same
    estimator as the private path: sum_k e_k phi(q).phi(k) v_k / sum_k e_k phi(q).phi(k)."""
    dh = q.shape[-1]
    s = dh ** 0.25
    qp, kp = q / s, (k - k.mean(-2, keepdim=True)) / s
    fq = torch.cat([torch.cos(qp @ W.T), torch.sin(qp @ W.T)], -1) / W.shape[0]
    fk = torch.cat([torch.cos(kp @ W.T), torch.sin(kp @ W.T)], -1)
    a = (kp * kp).sum(-1) / 2
    if mask is not None:
        a = a + ((mask - 1.0) * big)[:, None, :]
    e = torch.exp(a - a.amax(-1, keepdim=True))
    kern = fq @ (fk * e[..., None]).transpose(-1, -2)          # (B, H, T, T)
    den = kern.sum(-1, keepdim=True).clamp(DEN_LO, DEN_HI)     # as the reciprocal gate's domain
    return (kern @ v) / den


def rfa_self_attention_plain(W):
    """A twin attention function (nn/twin.py signature) that uses RFA with matrix W."""
    def attention(x, q, k, v, num_heads, mask=None, big=DEFAULT_MASK_BIG):
        Bn, T, d = x.shape
        dh = d // num_heads

        def split(t):
            return t.reshape(Bn, T, num_heads, dh).permute(0, 2, 1, 3)

        m = None if mask is None else torch.as_tensor(mask, dtype=torch.float64)
        o = rfa_attention_plain(split(q(x)), split(k(x)), split(v(x)), W, m, big)
        return o.permute(0, 2, 1, 3).reshape(Bn, T, d)

    return attention


def rfa_heads(q: SharedTensor, k: SharedTensor, v: SharedTensor, W: torch.Tensor,
              mask_add: SharedTensor | None = None) -> SharedTensor:
    """Random-feature attention on shared heads q, k, v (B, H, T, dh) with the public W
    (m, dh); mask_add: the shared additive padding mask (B, 1, 1, T) or None. (B, H, T, dh)."""
    MF = gates()
    s = q.session
    B, H, T, dh = q.shape
    m = W.shape[0]
    if W.shape[1] != dh:
        raise ValueError(f"W: expected (features, {dh}), got {tuple(W.shape)}")
    with s.protocol("rfa"):
        sc = dh ** 0.25
        # public matrix: periods of W q' / (2 pi), and k' / sqrt(2) for the squared norm
        P = torch.cat([W.T / (2.0 * math.pi * sc), torch.eye(dh, dtype=torch.float64) / (sc * math.sqrt(2.0))], 1)
        z = cat([q, k], 2).matmul_public(P.to(q.device))                      # (B, H, 2T, m + dh)
        # centre the keys (softmax is invariant to k -> k - mu per head): smaller |k'|
        zk = z[:, :, T:]
        zk = zk - zk.sum(2, keepdim=True) * (1.0 / T)
        per = cat([z[:, :, :T, :m], zk[..., :m]], 2)
        scale = torch.cat([torch.full((T, 1), 1.0 / m), torch.ones(T, 1)]).to(torch.float64)
        feats = fourier_features(per, scale)                                  # (B, H, 2T, 2m)
        fq, fk = feats[:, :, :T], feats[:, :, T:]
        kh = zk[..., m:]
        a = (kh * kh).sum(-1)                                                 # |k'|^2 / 2, (B, H, T)
        if mask_add is not None:
            a = a + mask_add.reshape(B, 1, T)
        e = MF.exp(a - MF.amax(a, dim=-1, keepdim=True), nonpositive=True)
        # sum_k e_k phi(k) [v_k | 1] = phi(K)^T [e v | e]: the product with e is on the value side
        # (T x dh elements, fewer than T x 2m), and the normaliser column needs none
        eu = e.unsqueeze(-1)
        kv = fk.transpose(-1, -2) @ cat([eu.expand(B, H, T, dh) * v, eu], -1)  # (B, H, 2m, dh + 1)
        nd = fq @ kv                                                          # (B, H, T, dh + 1)
        inv = MF.reciprocal(nd[..., dh:])                                     # den clamped to [2^-5, 2^10)
        return nd[..., :dh] * inv.expand(B, H, T, dh)


class RFASelfAttention(Module):
    """SelfAttention with random-feature attention: same ``query``, ``key``, ``value``
    sub-modules and heads as ``base`` (a SelfAttention), ``features`` random features per
    head (public W from ``seed``, shared by the heads)."""

    def __init__(self, base: SelfAttention, features: int, seed: int) -> None:
        super().__init__()
        if not isinstance(base, SelfAttention):
            raise ValueError(f"base: expected a SelfAttention, got {type(base).__name__}")
        self.features = check_features(features)
        self.query, self.key, self.value = base.query, base.key, base.value
        self.num_heads, self.head_dim = base.num_heads, base.head_dim
        object.__setattr__(self, "_base", base)
        object.__setattr__(self, "W", rfa_weights(self.head_dim, self.features, seed))

    def _project(self, x):
        base = self._base
        fused = base._fused()
        if fused is None:
            return self.query(x), self.key(x), self.value(x)
        return fused_lora_forward(fused, [self.query, self.key, self.value], x)

    def forward(self, x: SharedTensor, mask_add: SharedTensor | None = None) -> SharedTensor:
        if x.ndim != 3:
            raise ValueError(f"x: expected (batch, seq, hidden), got shape {tuple(x.shape)}")
        yq, yk, yv = self._project(x)
        split = self._base._split  # the softmax attention's head layout
        out = rfa_heads(split(yq), split(yk), split(yv), self.W, mask_add)
        return SelfAttention._merge(out)

    def backward(self, g, need_input_grad: bool = True):
        raise ValueError("attention: random-feature attention is forward-only (use attention='softmax' "
                         "for gradient-based fine-tuning)")


def use_rfa(model, features: int, seed: int) -> list:
    """Replace the SelfAttention of every encoder layer of a PrivateBertClassifier with
    RFASelfAttention (layer i uses W from seed + i). Returns the public W matrices."""
    check_features(features)
    Ws = []
    for i, layer in enumerate(model.bert.encoder.layer):
        att = layer.attention
        rfa = RFASelfAttention(getattr(att, "self"), features, seed + i)
        setattr(att, "self", rfa)
        Ws.append(rfa.W)
    return Ws


__all__ = ["RFASelfAttention", "rfa_heads", "rfa_attention_plain", "rfa_self_attention_plain", "rfa_weights", "use_rfa",
           "check_features"]
