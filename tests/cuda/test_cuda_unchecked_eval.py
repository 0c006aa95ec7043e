"""fsskernels._cuda.evaluate(..., check=False): the runtime's path for opened masked values,
enqueued without the x range check and its stream synchronization. Bits of x above `bits`
are ignored, so the result equals the checked evaluation of x mod 2^bits (GPU only; skipped
here; the same path on the stand-in CuPy runs in tests/test_cuda.py::test_glue_gen_eval)."""
from __future__ import annotations

import numpy as np
import pytest

import fsskernels as fk

from kernel_helpers import HAVE_GPU, TORCH  # noqa: E402


@pytest.mark.skipif(not HAVE_GPU or TORCH is None, reason="no CUDA GPU (or torch without CUDA)")
@pytest.mark.parametrize("scheme,bits,out_bits", [("dpf", 20, 1), ("dcf", 33, 64), ("dcf", 12, 1)])
def test_gpu_unchecked_eval_ignores_high_bits(scheme, bits, out_bits):
    import fsskernels._cuda as glue

    rng = np.random.default_rng(bits)
    n = 3000
    alpha = np.frombuffer(rng.bytes(8 * n), np.uint64) >> np.uint64(64 - bits)
    gen = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
    ev = fk.dpf_eval if scheme == "dpf" else fk.dcf_eval
    k0, k1 = gen(alpha, 1, bits=bits, out_bits=out_bits, seed=7)
    x = alpha.copy()
    x[1::2] = np.frombuffer(rng.bytes(8 * (n // 2)), np.uint64) >> np.uint64(64 - bits)
    high = x | (np.frombuffer(rng.bytes(8 * n), np.uint64) << np.uint64(bits))
    dev = lambda a: TORCH.from_numpy(np.ascontiguousarray(a).view(np.int64)).cuda()  # noqa: E731
    for party, kb in ((0, k0), (1, k1)):
        got = glue.evaluate(scheme, party, kb.to("cuda"), dev(high), check=False)
        assert np.array_equal(got.cpu().numpy().view(np.uint64), ev(party, kb, x))
