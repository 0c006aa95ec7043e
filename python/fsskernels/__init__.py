"""fsskernels: function secret sharing kernels (AES-NI/VAES and CUDA) and a two-party
runtime for training on secret shares.

Kernels: dpf_gen / dpf_eval / dpf_eval_all / dpf_lookup, dcf_gen / dcf_eval (KeyBatch), prg_hash,
ring_matmul. Runtime: fsskernels.mpc. See README.md and docs/kernels.md.
"""
from __future__ import annotations

import os as _os

# Development builds may place the compiled modules outside the source tree.
if _os.environ.get("FSSKERNELS_EXT_DIR"):
    __path__.insert(0, _os.environ["FSSKERNELS_EXT_DIR"])  # type: ignore[name-defined]

from . import _C  # noqa: E402
from ._backend import available_backends, build_info, get_num_threads, set_num_threads  # noqa: E402
from .keys import KeyBatch  # noqa: E402
from .fss import dcf_eval, dcf_gen, dpf_eval, dpf_eval_all, dpf_gen, dpf_lookup  # noqa: E402
from .prg import prg_hash  # noqa: E402
from .ring import ring_matmul  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "KeyBatch",
    "available_backends",
    "build_info",
    "dcf_eval",
    "dcf_gen",
    "dpf_eval",
    "dpf_eval_all",
    "dpf_lookup",
    "dpf_gen",
    "get_num_threads",
    "prg_hash",
    "ring_matmul",
    "set_num_threads",
]
