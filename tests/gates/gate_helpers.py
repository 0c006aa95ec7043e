"""Helpers of the gate tests."""
import torch

from fsskernels import mpc


def shared(s, x, owner=0, frac_bits=None):
    return mpc.share(s, x if s.party == owner else None, owner=owner, frac_bits=frac_bits)


def edge_values(lo, hi, f=16):
    """Domain edges and their neighbours (one ulp apart), zero, and far outside."""
    u = 2.0 ** -f
    vals = [lo - u, lo, lo + u, hi - u, hi, hi + u, 0.0, -u, u, lo - 100.0, hi + 100.0, -1000.0, 1000.0]
    return torch.tensor(vals, dtype=torch.float64)
