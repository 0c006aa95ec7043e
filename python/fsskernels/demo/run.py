"""``fsskernels demo``: train the server's model in plaintext, then classify held-out
reviews with the client's text and the server's weights both secret-shared, and compare
with plaintext inference (accuracy, agreement, time, bytes, rounds, projected network time)."""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from .. import build_info, mpc
from .data import bag_of_words, hash_tokens, load_rotten_tomatoes
from .model import predict, train_logreg
from .secure import classify_batches


def run_demo(*, vocab_bits: int = 12, max_tokens: int = 48, test_size: int = 512, batch: int = 32,
             seed: int = 0, verbose: bool = True) -> dict:
    """Run the demo; returns a summary dict (also printed when verbose)."""
    say = print if verbose else (lambda *a, **k: None)
    texts, labels = load_rotten_tomatoes()
    order = np.random.default_rng(seed).permutation(len(texts))  # csprng-ok: train/test split of public data, not secret
    test_idx, train_idx = order[:test_size], order[test_size:]
    tokens = hash_tokens(texts, vocab_bits, max_tokens)
    say(f"Rotten Tomatoes: {len(texts)} reviews ({len(train_idx)} server training, {test_size} client test); "
        f"{1 << vocab_bits} hashed word/bigram ids, {max_tokens} tokens per review")

    t0 = time.perf_counter()
    w, b = train_logreg(bag_of_words(tokens[train_idx], vocab_bits), labels[train_idx])
    plain_pred = predict(bag_of_words(tokens[test_idx], vocab_bits), w, b)
    plain_acc = float((plain_pred == labels[test_idx]).mean())
    say(f"server trains its model in plaintext ({time.perf_counter() - t0:.1f} s); plaintext test accuracy {plain_acc:.3f}")

    n_batches = test_size // batch
    batches = [tokens[test_idx[i * batch:(i + 1) * batch]] for i in range(n_batches)]
    t0 = time.perf_counter()
    (logits, stats0), (_, stats1) = mpc.run_local(
        lambda s: classify_batches(s, batches if s.party == 0 else None, w if s.party == 1 else None,
                                   b if s.party == 1 else None, vocab_bits=vocab_bits,
                                   batch_shape=(batch, max_tokens), n_batches=n_batches))
    secure_s = time.perf_counter() - t0
    z = np.concatenate([t.numpy() for t in logits])
    secure_pred = np.argmax(z, axis=1)
    n = n_batches * batch
    truth = labels[test_idx[:n]]
    plain_z = bag_of_words(tokens[test_idx[:n]], vocab_bits) @ w + b
    summary = {
        "reviews": n,
        "plaintext_accuracy": float((plain_pred[:n] == truth).mean()),
        "secure_accuracy": float((secure_pred == truth).mean()),
        "agreement_with_plaintext": float((secure_pred == plain_pred[:n]).mean()),
        "max_abs_logit_error": float(np.abs(z - plain_z).max()),
        "seconds": secure_s,
        "stats_party0": stats0,
        "links": {name: mpc.project_time(stats0, name) for name in mpc.LINKS},
        "build": build_info(),
    }
    say(f"two-party inference on {n} reviews in {secure_s:.2f} s (both parties as threads of this process)")
    say(f"  secure accuracy {summary['secure_accuracy']:.3f} (plaintext {summary['plaintext_accuracy']:.3f}); "
        f"predictions agree on {summary['agreement_with_plaintext']:.1%}; max |logit error| {summary['max_abs_logit_error']:.2e}")
    say("  per protocol (party 0):")
    for name, st in stats0.get("protocols", {}).items():
        say(f"    {name:<40} {st['bytes'] / 1e3:10.1f} kB {st['rounds']:4d} rounds")
    tot = stats0["total"]
    say(f"    {'total':<40} {tot['bytes'] / 1e3:10.1f} kB {tot['rounds']:4d} rounds")
    say("  projected network time of the traffic (rounds x latency + bytes / bandwidth): " + ", ".join(
        f"{mpc.LINKS[name].name}: {secs:.2f} s" for name, secs in summary["links"].items()))
    naive = n * max_tokens * (1 << vocab_bits) * 8
    say(f"  sharing one-hot rows directly would send {naive / 1e6:.1f} MB; the DPF sends {max_tokens * n * vocab_bits / 8 / 1e3:.1f} kB of openings")
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="fsskernels demo", description=__doc__)
    ap.add_argument("--vocab-bits", type=int, default=12)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--test-size", type=int, default=512)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--json", help="write the summary to this file")
    args = ap.parse_args(argv)
    summary = run_demo(vocab_bits=args.vocab_bits, max_tokens=args.max_tokens, test_size=args.test_size,
                       batch=args.batch)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2, default=str)
    return 0 if summary["agreement_with_plaintext"] >= 0.99 else 1
