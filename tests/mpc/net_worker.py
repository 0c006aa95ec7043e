"""A party (or dealer) process for the multi-process tests.

    python net_worker.py <scenario> <party> <port> <out.pt> <dealer: process|replicated> <seed> <timeout> [certs dir]

Without a certs dir the links are plaintext (loopback); with one, TLS 1.3 with pinned certificates.

Scenarios: compute (the deterministic program below; saves this party's output shares and
stats), die (party 1 exits abruptly mid-protocol), raise (party 1 raises and stays alive),
stall (party 1 stops answering),
dealer_dies (parties pause after printing READY; the test kills the dealer).
Writes {"ok": ..., "error": type name, "message": ..., "elapsed": ...} to out.pt.
"""
from __future__ import annotations

import os
import sys
import time

import torch


def data():
    g = torch.Generator().manual_seed(1234)  # test data only
    return {
        "x": (torch.rand(6, 8, generator=g, dtype=torch.float64) - 0.5) * 8,
        "y": (torch.rand(8, 5, generator=g, dtype=torch.float64) - 0.5) * 8,
        "k": torch.randint(-2**40, 2**40, (6, 8), generator=g),
    }


def program(s):
    """Runs every kind of protocol; returns this party's shares of each result."""
    from fsskernels import mpc

    d = data()
    X = mpc.share(s, d["x"] if s.party == 0 else None, owner=0)
    Y = mpc.share(s, d["y"] if s.party == 1 else None, owner=1)
    K = mpc.share(s, d["k"] if s.party == 1 else None, owner=1)
    W = mpc.freeze_owned(s, d["y"] if s.party == 1 else None, owner=1, shape=(8, 5))
    Wsh = mpc.freeze(Y)
    out = {
        "X": X, "mul": X * X, "matmul": X @ Y, "ring_mul": K * K, "frozen_owned": X @ W,
        "frozen_shared": X @ Wsh, "pmul": X * 0.3, "mean": X.mean(0), "trunc": X.trunc(3),
    }
    import fsskernels.mpc.functional as MF  # FSS gates over the network too

    out.update({"relu": MF.relu(X), "gelu": MF.gelu(X), "softmax": MF.softmax(X, -1),
                "layer_norm": MF.layer_norm(X, (8,)), "lt": MF.lt(X, X * 0.5)})
    shares = {k: v.share.clone() for k, v in out.items()}
    plain = {k: v.reveal() for k, v in out.items()}
    return shares, plain, s.stats()


def main() -> int:
    scenario, party, port, out, dealer, seed, timeout = sys.argv[1:8]
    party, port, seed, timeout = int(party), int(port), int(seed), float(timeout)
    tls = sys.argv[8] if len(sys.argv) > 8 else False
    from fsskernels import mpc

    res = {"ok": False}
    t0 = time.perf_counter()
    try:
        if scenario == "compute":
            res["result"] = mpc.run_network(program, party=party, port=port, dealer=dealer, seed=seed, timeout=timeout,
                                            tls=tls)
        else:
            def prog(s):
                X = mpc.from_public(s, torch.ones(64, 64))
                (X @ X).reveal()
                if scenario == "die" and s.party == 1:
                    os._exit(7)
                if scenario == "raise" and s.party == 1:
                    raise RuntimeError("party 1 gave up")
                if scenario == "stall" and s.party == 1:
                    time.sleep(3600)
                if scenario == "dealer_dies":
                    print("READY", flush=True)
                    time.sleep(3.0)
                t = time.perf_counter()
                try:
                    for _ in range(3):
                        (X @ X).reveal()
                finally:
                    res["wait"] = time.perf_counter() - t

            mpc.run_network(prog, party=party, port=port, dealer=dealer, seed=seed, timeout=timeout, tls=tls)
        res["ok"] = True
    except Exception as exc:  # noqa: BLE001 - reported to the test
        res.update(error=type(exc).__name__, message=str(exc), mro=[c.__name__ for c in type(exc).__mro__])
    res["elapsed"] = time.perf_counter() - t0
    torch.save(res, out)
    if scenario == "raise" and party == 1:
        time.sleep(20)  # stay alive: the peer must not wait for this process to exit
    return 0


if __name__ == "__main__":
    sys.exit(main())
