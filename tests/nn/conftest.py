"""Fixtures for the nn/ tests: ``gates_impl`` runs a test with the insecure reveal-and-
recompute oracle (checks the layers' composition and manual backward to fixed-point
precision) and, once the gate suite exists, with the real gates (fsskernels.mpc.functional)."""
import pytest

import oracle_gates
from fsskernels.nn import gates as nn_gates

IMPLS = ["oracle"] + (["mf"] if nn_gates.available() else [])


@pytest.fixture(params=IMPLS)
def gates_impl(request):
    """("oracle" | "mf", tolerance scale): the oracle's errors are fixed-point encoding only;
    the real gates add their approximation error (tolerances x 4)."""
    if request.param == "oracle":
        with nn_gates.use_gates(oracle_gates):
            yield "oracle", 1.0
    else:
        yield "mf", 4.0
