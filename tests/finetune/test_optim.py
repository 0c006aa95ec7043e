"""Optimizer steps on shares against torch.optim on the same values (float64 reference)."""
import pytest
import torch

from fsskernels import mpc
from fsskernels.finetune import optim

SHAPES = {"a": (3, 4), "b": (5,), "c": (2, 2)}


def _values(seed):
    g = torch.Generator().manual_seed(seed)  # test data only
    params = {n: torch.randn(*s, generator=g, dtype=torch.float64) * 0.3 for n, s in SHAPES.items()}
    grads = [{n: torch.randn(*s, generator=g, dtype=torch.float64) * 0.2 for n, s in SHAPES.items()} for _ in range(4)]
    return params, grads


def _torch_run(make_opt, params, grads):
    ps = {n: torch.nn.Parameter(v.clone()) for n, v in params.items()}
    opt = make_opt(list(ps.values()))
    for gs in grads:
        for n, p in ps.items():
            p.grad = gs[n].clone()
        opt.step()
    return {n: p.detach() for n, p in ps.items()}


def _shared_run(make_shared, params, grads):
    def prog(s):
        opt = make_shared()
        P = {n: mpc.share(s, v if s.party == 0 else None, owner=0, shape=v.shape) for n, v in params.items()}
        for gs in grads:
            G = {n: mpc.share(s, v if s.party == 1 else None, owner=1, shape=v.shape) for n, v in gs.items()}
            P = opt.step(P, G)
        return {n: p.reveal() for n, p in P.items()}, opt.state_dict()

    (r0, st0), (r1, st1) = mpc.run_local(prog, seed=7)
    assert all(torch.equal(r0[n], r1[n]) for n in r0)
    return r0, st0


@pytest.mark.parametrize("momentum,wd", [(0.0, 0.0), (0.9, 0.0), (0.9, 0.01)])
def test_sgd_matches_torch(momentum, wd):
    params, grads = _values(1)
    ref = _torch_run(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=momentum, weight_decay=wd), params, grads)
    got, st = _shared_run(lambda: optim.SharedSGD(0.1, momentum, wd), params, grads)
    for n in SHAPES:
        assert got[n].shape == ref[n].shape
        assert torch.allclose(got[n], ref[n], atol=2e-4), (n, (got[n] - ref[n]).abs().max())
    assert st["t"] == len(grads)
    assert ("momentum_buffer" in st["tensors"]) == (momentum > 0)
    # the update is not a no-op
    assert not torch.allclose(got["a"], params["a"], atol=1e-2)


def test_optimizer_rejects_mismatch():
    def prog(s):
        P = {"a": mpc.share(s, torch.zeros(2) if s.party == 0 else None, owner=0, shape=(2,))}
        G = {"a": mpc.share(s, torch.zeros(3) if s.party == 0 else None, owner=0, shape=(3,))}
        with pytest.raises(ValueError, match="gradient a has shape"):
            optim.SharedSGD(0.1).step(P, G)
        with pytest.raises(ValueError, match="differ in names"):
            optim.SharedSGD(0.1).step(P, {"b": G["a"]})
        return True

    assert mpc.run_local(prog, seed=1) == (True, True)
    with pytest.raises(ValueError, match="lr"):
        optim.SharedSGD(0)
    with pytest.raises(ValueError, match="momentum"):
        optim.SharedSGD(0.1, momentum=1.5)


def _has_gates():
    try:
        from fsskernels.mpc import functional  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _has_gates(), reason="gate suite (fsskernels.mpc.functional) not available")
@pytest.mark.parametrize("wd", [0.0, 0.01])
def test_adamw_matches_torch(wd):
    """Gradient magnitudes in [0.05, 4] (inside the range where the shares' AdamW is exact up to rsqrt's 1e-3
    relative error, see optim.py); 4 steps against torch.optim.AdamW in float64."""
    params, grads = _values(2)
    g = torch.Generator().manual_seed(9)  # test data only
    for gs in grads:
        for n, v in gs.items():
            mag = torch.rand(v.shape, generator=g, dtype=torch.float64) * 3.95 + 0.05
            gs[n] = torch.where(v >= 0, mag, -mag)
    lr = 0.01
    ref = _torch_run(lambda ps: torch.optim.AdamW(ps, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd), params, grads)
    got, st = _shared_run(lambda: optim.SharedAdamW(lr, (0.9, 0.999), 1e-8, wd), params, grads)
    for n in SHAPES:
        err = (got[n] - ref[n]).abs().max()
        assert err < 4e-4, (n, err)  # 4 steps of lr = 0.01: within 1% of a step (bias correction x1000 of v at t = 1)
    assert set(st["tensors"]) == {"exp_avg", "exp_avg_sq"} and st["t"] == 4
    moved = (ref["a"] - params["a"]).abs().mean()
    assert moved > 0.01  # Adam's steps are ~lr each: the comparison is not trivially satisfied
