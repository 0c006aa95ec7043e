"""CUDA shares (skipped without a GPU): results match the CPU run bit for bit."""
import torch

from fsskernels import mpc

from mpc_helpers import requires_cuda


@requires_cuda
def test_cuda_matches_cpu():
    g = torch.Generator().manual_seed(0)
    x, w = torch.randn(16, 32, generator=g), torch.randn(32, 8, generator=g)

    def prog(s):
        X = mpc.share(s, x.to(s.device) if s.party == 0 else None, owner=0)
        W = mpc.share(s, w.to(s.device) if s.party == 1 else None, owner=1)
        Wf = mpc.freeze_owned(s, w.to(s.device) if s.party == 1 else None, owner=1, shape=(32, 8))
        return [t.share.cpu() for t in (X @ W, X * X, X @ Wf)]

    cpu = mpc.run_local(prog, seed=5)
    gpu = mpc.run_local(prog, seed=5, device="cuda")
    for a, b in zip(cpu, gpu):
        for u, v in zip(a, b):
            assert torch.equal(u, v)
