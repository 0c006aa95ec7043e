import pytest
import torch

from fsskernels import mpc


@pytest.fixture
def run2():
    """Run an SPMD program on two in-process parties (seeded test dealer); party 0's result."""
    def go(prog, *args, seed=11):
        r0, _ = mpc.run_local(prog, *args, seed=seed)
        return r0
    return go
