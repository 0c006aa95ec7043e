#!/usr/bin/env python3
"""TenSEAL CKKS aggregation peer: federated averaging of LoRA updates under homomorphic
encryption at FedShield-LLM's parameters (poly modulus degree 8192, coefficient moduli
[60, 40, 40, 60] bits, scale 2^40, Galois keys made), one thread.

    python ckks_agg.py [--clients 3 10] [--values 73728] [--reps 3]

Each client encrypts its update (float32 values ~ N(0, 0.01), public benchmark data) in chunks of
4096 slots under the public context and serializes the ciphertexts; the server deserializes all
clients' ciphertexts and adds them; the key holder decrypts and divides by the number of
clients. One JSON line per client count: median seconds per client (encrypt + serialize), at the
server (deserialize + add) and to decrypt, bytes per value on the wire (client to server), the
one-off key set-up, and the max abs error of the average against float64 numpy.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np
import tenseal as ts

SLOTS, POLY, MODULI, SCALE = 4096, 8192, [60, 40, 40, 60], 2.0 ** 40


def make_context():
    ctx = ts.context(ts.SCHEME_TYPE.CKKS, poly_modulus_degree=POLY, coeff_mod_bit_sizes=MODULI, n_threads=1)
    ctx.global_scale = SCALE
    ctx.generate_galois_keys()
    public = ctx.copy()
    public.make_context_public()
    return ctx, public.serialize()


def encrypt_update(public_bytes: bytes, update: np.ndarray) -> list[bytes]:
    ctx = ts.context_from(public_bytes, n_threads=1)
    return [ts.ckks_vector(ctx, update[i:i + SLOTS].tolist()).serialize() for i in range(0, update.size, SLOTS)]


def aggregate(public_bytes: bytes, uploads: list[list[bytes]]):
    ctx = ts.context_from(public_bytes, n_threads=1)
    total = [ts.ckks_vector_from(ctx, c) for c in uploads[0]]
    for up in uploads[1:]:
        for j, c in enumerate(up):
            total[j] += ts.ckks_vector_from(ctx, c)
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, nargs="+", default=[3, 10])
    ap.add_argument("--values", type=int, default=73_728)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    if a.reps < 1 or a.values < 1 or min(a.clients) < 1:
        ap.error("--clients, --values and --reps must be >= 1")
    t0 = time.perf_counter()
    secret_ctx, public_bytes = make_context()
    setup_s = time.perf_counter() - t0
    rng = np.random.default_rng(0)  # csprng-ok: public benchmark data (the updates)
    for n in a.clients:
        updates = (0.01 * rng.standard_normal((n, a.values))).astype(np.float32)
        per_client, server, dec, err, up_bytes = [], [], [], 0.0, 0
        for _ in range(a.reps):
            uploads = []
            for u in updates:
                t = time.perf_counter()
                uploads.append(encrypt_update(public_bytes, u))
                per_client.append(time.perf_counter() - t)
            up_bytes = sum(len(c) for c in uploads[0])
            t = time.perf_counter()
            total = aggregate(public_bytes, uploads)
            server.append(time.perf_counter() - t)
            t = time.perf_counter()
            avg = np.concatenate([np.asarray(_decrypt(v, secret_ctx)) for v in total])[:a.values] / n
            dec.append(time.perf_counter() - t)
            err = max(err, float(np.abs(avg - updates.astype(np.float64).mean(0)).max()))
        print(json.dumps({
            "peer": "tenseal", "version": getattr(ts, "__version__", "?"), "case": "ckks_agg", "clients": n,
            "values": a.values, "reps": a.reps, "threads": 1,
            "client_s_median": statistics.median(per_client), "client_s_all": [round(x, 5) for x in per_client],
            "server_s_median": statistics.median(server), "server_s_all": [round(x, 5) for x in server],
            "decrypt_s_median": statistics.median(dec), "bytes_per_client": up_bytes,
            "bytes_per_value": up_bytes / a.values, "public_context_bytes": len(public_bytes),
            "setup_s": setup_s, "max_abs_err": err,
            "includes": "client: encrypt + serialize; server: deserialize + add; decrypt by the key holder; "
                        "key set-up (incl. Galois keys) once, outside the per-round times",
        }), flush=True)
    return 0


def _decrypt(vec, secret_ctx):
    vec.link_context(secret_ctx)
    return vec.decrypt()


if __name__ == "__main__":
    sys.exit(main())
