"""The two-party program of the demo (SPMD: each party runs it on its own share).

Client (party 0) holds reviews as hashed token ids; server (party 1) holds a bag-of-words
logistic-regression model (W, b). Per batch of reviews:

1. the client secret-shares its token ids (ring integers);
2. one-hot rows from a DPF (the construction of DESIGN.md "Fine-tuning on shares"): the dealer
   gives DPF keys for a random point r per token plus shares of r; the parties open
   y = x - r mod 2^v (v bits per token) and each evaluates its keys on the full domain and
   rotates by y, which gives shares of one_hot(x) since f_r(j - y) = [j == x];
3. bag-of-words counts = sum of the one-hot rows (local);
4. logits = counts @ W + b with W a frozen matrix: masked once for all batches, so each
   batch sends only the masked activation side;
5. logits are revealed to the client only.
The server learns nothing (it sees only uniformly masked values); the client learns its
logits.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import mpc
from ..fss import dpf_eval_all
from ..mpc.material import key_batch


def one_hot_rows(s, x: mpc.SharedTensor, vocab_bits: int) -> np.ndarray:
    """This party's uint64 shares of one_hot(x_i) for every element of the shared ring
    integers x (values < 2^vocab_bits): shape (x.numel(), 2^vocab_bits)."""
    n, size, mask = x.numel(), 1 << vocab_bits, (1 << vocab_bits) - 1
    raw_keys, r = s.take("dpf", (vocab_bits, 64, n, 1))
    keys = key_batch(raw_keys)  # bytes validated on load; the material stream hands it out once
    (y,) = s.open([(x.share.reshape(-1) - r) & mask], bits=vocab_bits)
    full = dpf_eval_all(s.party, keys)
    idx = (np.arange(size, dtype=np.int64)[None, :] - y.cpu().numpy()[:, None]) & mask
    return np.take_along_axis(full, idx, axis=1)


def classify_batches(s, batches=None, weights=None, bias=None, *, vocab_bits: int, batch_shape, n_batches: int):
    """Party program. Party 0 passes ``batches`` (list of int64 token arrays of batch_shape),
    party 1 passes ``weights`` (2^vocab_bits x classes, float) and ``bias``. Returns the
    logits of every batch to party 0 (None to party 1) and this party's stats."""
    B, T = batch_shape
    size = 1 << vocab_bits
    classes = None if weights is None else weights.shape[1]
    with s.protocol("model (once)"):
        W = mpc.freeze_owned(s, None if weights is None else torch.as_tensor(weights, dtype=torch.float64),
                             owner=1, shape=None if weights is not None else (size, 2))
        b = mpc.share(s, None if bias is None else torch.as_tensor(bias, dtype=torch.float64), owner=1,
                      shape=None if bias is not None else (2,))
    del classes
    logits = []
    for i in range(n_batches):
        with s.protocol("input"):
            x = mpc.share(s, None if batches is None else torch.as_tensor(batches[i]), owner=0, shape=(B, T))
        with s.protocol("one-hot (DPF)"):
            rows = one_hot_rows(s, x, vocab_bits)
            counts = rows.reshape(B, T, size).sum(axis=1, dtype=np.uint64)
        # Integer counts to fixed point: multiplying shares by the public 2^f is local and exact.
        c = mpc.SharedTensor(s, torch.from_numpy(counts.view(np.int64)) << s.frac_bits, s.frac_bits)
        with s.protocol("linear (frozen W)"):
            z = c @ W + b
        logits.append(z.reveal(to=0))
    return (logits if s.party == 0 else None), s.stats()
