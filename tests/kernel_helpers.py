"""Input generators and reconstruction shared by the DPF and DCF tests, and what the GPU tests
need to know about the machine (tests/ is on sys.path for every test folder: tests/conftest.py)."""
import numpy as np

import fsskernels as fk

# whether fsskernels sees a CUDA GPU, and torch with CUDA (None without either: GPU tests skip)
HAVE_GPU = "cuda" in fk.available_backends()


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


TORCH = _torch_cuda() if HAVE_GPU else None


def mask(m: int) -> np.uint64:
    return np.uint64((1 << m) - 1)


def reconstruct(y0, y1, m):
    return (np.asarray(y0, dtype=np.uint64) + np.asarray(y1, dtype=np.uint64)) & mask(m)


def rand_u64(rng: np.random.Generator, n: int, bits: int) -> np.ndarray:
    v = np.frombuffer(rng.bytes(8 * n), dtype=np.uint64).copy()
    return v >> np.uint64(64 - bits) if bits < 64 else v


def special_alphas(rng, n, bits):
    a = rand_u64(rng, n, bits)
    top = (1 << bits) - 1
    for i, v in enumerate([0, top, 1 % (top + 1), max(top - 1, 0)][:n]):
        a[i] = v
    return a


def near_points(rng, alpha: np.ndarray, bits: int) -> np.ndarray:
    """Per key one of: alpha, alpha-1, alpha+1 (kept in range), random, 0, 2^bits-1, alpha with a
    random bit flipped."""
    n = alpha.size
    top = np.uint64((1 << bits) - 1)
    one = np.uint64(1)
    kind = np.arange(n) % 7
    rnd = rand_u64(rng, n, bits)
    flip = one << (rand_u64(rng, n, 6) % np.uint64(bits))
    dec = np.where(alpha > 0, alpha - one, alpha + one) & top
    inc = np.where(alpha < top, alpha + one, alpha - one) & top
    x = np.select([kind == 0, kind == 1, kind == 2, kind == 3, kind == 4, kind == 5],
                  [alpha, dec, inc, rnd, np.zeros_like(alpha), np.full_like(alpha, top)], alpha ^ flip)
    return x.astype(np.uint64)
