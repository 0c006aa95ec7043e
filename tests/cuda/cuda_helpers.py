"""What the GPU tests of this folder need to know about the machine: whether fsskernels sees a
CUDA GPU, and torch with CUDA (None without either: the tests skip with a reason)."""
from __future__ import annotations

import fsskernels as fk

HAVE_GPU = "cuda" in fk.available_backends()


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


TORCH = _torch_cuda() if HAVE_GPU else None
