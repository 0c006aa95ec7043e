"""Cross-entropy with secret labels (mean over the batch), a wrapper over the gate.

``target``: a SharedTensor one-hot (N, C) at frac_bits 0 (the client's secret labels: see
``share_labels``) or a public LongTensor of class indices. backward(g=None) returns the
shared gradient of the mean loss w.r.t. the logits: (softmax(logits) - onehot) / N, scaled
by g if given.
"""
from __future__ import annotations

import torch

from .. import mpc
from ..mpc.tensor import SharedTensor
from .gates import gates
from .module import Module


def share_labels(session, labels=None, *, num_classes: int, n: int, owner: int = 0) -> SharedTensor:
    """The owner's class indices (n,) as a shared one-hot (n, num_classes) at frac_bits 0
    (one 88-byte share message). Raises ValueError for labels outside [0, num_classes)."""
    if session.party == owner:
        if labels is None:
            raise ValueError(f"labels: party {owner} owns the labels and must pass them")
        t = torch.as_tensor(labels).to(torch.int64).cpu().reshape(-1)
        if t.numel() != n:
            raise ValueError(f"labels: expected {n} labels, got {t.numel()}")
        if t.numel() and (t.min() < 0 or t.max() >= num_classes):
            raise ValueError(f"labels: must be in [0, {num_classes})")
        hot = torch.nn.functional.one_hot(t, num_classes).to(torch.int64).to(session.device)
        return mpc.share(session, hot, owner=owner, shape=(n, num_classes), frac_bits=0)
    if labels is not None:
        raise ValueError(f"labels: only party {owner} passes the labels")
    return mpc.share(session, None, owner=owner, shape=(n, num_classes), frac_bits=0)


class CrossEntropy(Module):
    def forward(self, logits: SharedTensor, target) -> SharedTensor:
        if logits.ndim != 2:
            raise ValueError(f"logits: expected (N, C), got shape {tuple(logits.shape)}")
        MF = gates()
        ctx = MF.Ctx()
        loss = MF.cross_entropy(logits, target, ctx=ctx)
        self._save(ctx=ctx)
        return loss

    def backward(self, g=None) -> SharedTensor:
        return gates().cross_entropy_backward(self._pop()["ctx"], g)
