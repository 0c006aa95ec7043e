#!/usr/bin/env python3
"""CKKS (TenSEAL) weighted FedAvg of client updates, at FedShield-LLM's parameters, for
bench_agg.py. Runs in a THROWAWAY virtual environment that has tenseal (it is not a dependency
of fsskernels):

    python3 -m venv /tmp/ckksvenv && /tmp/ckksvenv/bin/pip install tenseal==0.3.18 numpy
    /tmp/ckksvenv/bin/python bench/bench_agg_ckks.py --npz updates.npz --clients 3 10 50

Parameters: poly_modulus_degree 8192, coeff_mod_bit_sizes [60, 40, 40, 60], global scale 2^40,
Galois keys generated (as FedShield-LLM does); one thread. Each client encrypts w_i * x_i as
ckks_vector chunks of 4096 slots and serializes them; the server deserializes, adds all
clients' ciphertexts and serializes the sum; the key holder decrypts and divides by W = sum w_i
(sent in the clear here). Prints one JSON line per client count: client time and bytes per
update, server time, decrypt time, max abs error vs float64 weighted FedAvg.
"""
import argparse
import json
import os
import sys
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

SLOTS, POLY, COEFF, SCALE = 4096, 8192, [60, 40, 40, 60], 2.0 ** 40


def main(argv=None):
    import numpy as np
    import tenseal as ts

    ap = argparse.ArgumentParser()
    ap.add_argument("--npz", required=True, help="file with 'updates' (N, d) float32 and 'weights' (N,) int")
    ap.add_argument("--clients", type=int, nargs="+", required=True)
    a = ap.parse_args(argv)
    z = np.load(a.npz)
    upd, wts = z["updates"], z["weights"].astype(np.int64)
    now = time.perf_counter
    t0 = now()
    ctx = ts.context(ts.SCHEME_TYPE.CKKS, poly_modulus_degree=POLY, coeff_mod_bit_sizes=COEFF, n_threads=1)
    ctx.global_scale = SCALE
    ctx.generate_galois_keys()
    setup_s = now() - t0
    pub = ctx.copy()
    pub.make_context_public()
    pub_bytes = pub.serialize()
    for n in a.clients:
        x, w = upd[:n].astype(np.float64), wts[:n]
        d = x.shape[1]
        ref = (w[:, None] * x).sum(0) / w.sum()
        cctx = ts.context_from(pub_bytes, n_threads=1)
        sctx = ts.context_from(pub_bytes, n_threads=1)
        t_client, blobs = [], []
        for i in range(n):
            t0 = now()
            v = w[i] * x[i]
            b = [ts.ckks_vector(cctx, v[s:s + SLOTS]).serialize() for s in range(0, d, SLOTS)]
            t_client.append(now() - t0)
            blobs.append(b)
        t0 = now()
        acc = [ts.ckks_vector_from(sctx, c) for c in blobs[0]]
        for bl in blobs[1:]:
            for j, c in enumerate(bl):
                acc[j] += ts.ckks_vector_from(sctx, c)
        res = [c.serialize() for c in acc]
        server_s = now() - t0
        t0 = now()
        dec = np.concatenate([np.asarray(ts.ckks_vector_from(ctx, c).decrypt()) for c in res])[:d] / w.sum()
        decrypt_s = now() - t0
        print(json.dumps({"method": "ckks_tenseal", "n": n, "values": d,
                          "client_bytes": sum(len(c) for c in blobs[0]),
                          "client_s": float(np.median(t_client)), "server_s": server_s,
                          "decrypt_s": decrypt_s, "setup_s": setup_s, "public_context_bytes": len(pub_bytes),
                          "max_abs_err": float(np.max(np.abs(dec - ref))), "tenseal": ts.__version__}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
