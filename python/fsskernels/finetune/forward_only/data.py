"""The client's examples for forward-only tuning: the usual split, or a few-shot training set.

``few_shot(ds, shots, eval_size, seed)``: a seeded permutation of the dataset (public order of
the client's own rows); the first ``eval_size`` rows are held out, then the first ``shots``
rows of each class (in permutation order) form the training set, in permutation order.
Errors: ValueError naming ``shots`` when a class has fewer than ``shots`` examples left, and
``eval-size`` when the held-out set leaves nothing to sample from.
"""
from __future__ import annotations

import numpy as np


def few_shot(ds, shots: int, eval_size: int, seed: int):
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
        raise ValueError(f"shots: must be a positive integer, got {shots!r}")
    if isinstance(eval_size, bool) or not isinstance(eval_size, int) or not 0 <= eval_size < len(ds):
        raise ValueError(f"eval-size: must be in 0..{len(ds) - 1}, got {eval_size!r}")
    perm = np.random.default_rng(seed).permutation(len(ds)).tolist()  # csprng-ok: public order of the client's rows
    held, rest = perm[:eval_size], perm[eval_size:]
    picked, count = [], {c: 0 for c in range(ds.num_labels)}
    for i in rest:
        c = int(ds.labels[i])
        if count[c] < shots:
            count[c] += 1
            picked.append(i)
    short = {ds.label_names[c]: n for c, n in count.items() if n < shots}
    if short:
        name, n = next(iter(short.items()))
        raise ValueError(f"shots: {shots} examples per class asked, but class {name!r} has only {n} outside the "
                         f"{eval_size} held-out examples")
    return ds.subset(picked), ds.subset(held)
