"""Heterogeneous LoRA ranks: aggregate the products B_i A_i on shares, refactor per client.

What is computed (SHE-LoRA's setting: clients train adapters of different ranks r_i):
each client i shares, for every adapted module, the dense product

    P_i = s_i B_i A_i        (out x in; B_i: out x r_i, A_i: r_i x in, s_i = lora_alpha / r_i)

weighted by w_i, with ``shares.share_update`` (one flattened vector for all modules). The
aggregators reveal only sum_i w_i P_i and W = sum_i w_i; the average P = sum w_i P_i / W is
factored once by a truncated SVD P = U S V^T, and client i receives the rank-r_i truncation
B = U_r sqrt(S_r) / sqrt(s_i), A = sqrt(S_r) V_r^T / sqrt(s_i), so s_i B A is the best rank-r_i
approximation of P in Frobenius norm (Eckart-Young).

Choice and its bytes: we share the dense product, 8 * out * in bytes per module (plus one
16-byte seed per client). Sharing the factors instead (8 r (out + in)) would be 24x smaller for
MiniLM (r = 8, 384 x 384) but averaging factors is not averaging products (cross terms B_i A_j),
and padding ranks (HetLoRA) changes the result; the sum of products is the only exact one.
For MiniLM q/v (12 modules of 384 x 384) that is 1,769,472 values = 14.2 MB per client per
round instead of 590 kB.

Errors: ValueError for mismatched shapes, a rank outside 1..min(out, in), or non-finite data.
"""
from __future__ import annotations

import numbers

import numpy as np


def lora_product(B, A, scaling: float = 1.0) -> np.ndarray:
    """s * B @ A in float64 (B: out x r, A: r x in)."""
    B, A = np.asarray(B, np.float64), np.asarray(A, np.float64)
    if B.ndim != 2 or A.ndim != 2 or B.shape[1] != A.shape[0]:
        raise ValueError(f"B, A: expected out x r and r x in, got {B.shape} and {A.shape}")
    if not (np.isfinite(B).all() and np.isfinite(A).all()):
        raise ValueError("B, A: contain NaN or infinity")
    return float(scaling) * (B @ A)


def flatten_products(products: dict) -> tuple[np.ndarray, list]:
    """(one float64 vector, layout [(name, shape)]) from a dict name -> out x in product."""
    if not products:
        raise ValueError("products: empty")
    layout = [(k, tuple(np.shape(v))) for k, v in products.items()]
    return np.concatenate([np.asarray(v, np.float64).reshape(-1) for v in products.values()]), layout


def unflatten(vec: np.ndarray, layout: list) -> dict:
    """Inverse of flatten_products."""
    out, o = {}, 0
    for name, shape in layout:
        n = int(np.prod(shape))
        out[name] = np.asarray(vec[o:o + n]).reshape(shape)
        o += n
    if o != np.size(vec):
        raise ValueError("vec: length does not match the layout")
    return out


def factorize(P, rank: int, scaling: float = 1.0):
    """(B, A) with scaling * B @ A = the best rank-``rank`` approximation of P (truncated SVD)."""
    P = np.asarray(P, np.float64)
    if P.ndim != 2:
        raise ValueError("P: expected a matrix")
    if isinstance(rank, bool) or not isinstance(rank, numbers.Integral) or not 1 <= rank <= min(P.shape):
        raise ValueError(f"rank: expected an integer in 1..{min(P.shape)}, got {rank!r}")
    if not float(scaling) > 0:
        raise ValueError("scaling: must be positive")
    U, S, Vt = np.linalg.svd(P, full_matrices=False)
    root = np.sqrt(S[:rank] / float(scaling))
    return U[:, :rank] * root, root[:, None] * Vt[:rank]


def redistribute(avg_products: dict, rank: int, scaling: float = 1.0) -> dict:
    """name -> (B, A) of the given rank for one client (its own rank and scaling)."""
    return {k: factorize(P, rank, scaling) for k, P in avg_products.items()}


def product_upload_values(shapes) -> int:
    """Ring values a client uploads for the products of modules with the given (out, in) shapes."""
    return sum(int(o) * int(i) for o, i in shapes) + 1  # + the weight slot


def factor_downlink(max_rank: int):
    """A ``SecureFedAvg(downlink=...)`` hook: ArrayRecord of average products {name: P} ->
    ArrayRecord {name + ".B": U_r sqrt(S_r), name + ".A": sqrt(S_r) V_r^T} with r = max_rank
    (capped at min(out, in)); r_max (out + in) values per module go down instead of out x in."""
    if isinstance(max_rank, bool) or not isinstance(max_rank, numbers.Integral) or max_rank < 1:
        raise ValueError(f"max_rank: expected a positive integer, got {max_rank!r}")

    def downlink(record):
        from flwr.app import Array, ArrayRecord

        out = {}
        for name, arr in record.items():
            P = np.asarray(arr.numpy(), np.float64)
            B, A = factorize(P, min(int(max_rank), min(P.shape)))
            out[name + ".B"], out[name + ".A"] = Array(B), Array(A)
        return ArrayRecord(out)

    return downlink


def client_factors(record, rank: int, scaling: float = 1.0) -> dict:
    """A client's rank-``rank`` factors from a ``factor_downlink`` record: name -> (B, A) with
    scaling * B @ A = the best rank-``rank`` approximation of the average product (the SVD
    factors are ordered, so truncating rank-r_max factors is the rank-r truncation)."""
    arrays = {k: np.asarray(v.numpy(), np.float64) for k, v in record.items()}
    out = {}
    for key in arrays:
        if not key.endswith(".B"):
            continue
        name = key[:-2]
        B, A = arrays[key], arrays[name + ".A"]
        if isinstance(rank, bool) or not isinstance(rank, numbers.Integral) or not 1 <= rank <= B.shape[1]:
            raise ValueError(f"rank: expected an integer in 1..{B.shape[1]}, got {rank!r}")
        if not float(scaling) > 0:
            raise ValueError("scaling: must be positive")
        root = 1.0 / np.sqrt(float(scaling))
        out[name] = (B[:, :rank] * root, A[:rank] * root)
    return out
