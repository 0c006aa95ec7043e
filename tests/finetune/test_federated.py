"""Federated rounds: weighted FedAvg on shares against float math, and a tiny 2-client round vs its plaintext twin."""
import pytest
import torch

from fsskernels import mpc
from fsskernels.finetune import federated
from finetune_helpers import needs_hf, tiny_csv, tiny_model_dir


def test_aggregate_on_shares_matches_weighted_average():
    g = torch.Generator().manual_seed(4)  # test data only
    clients = [{"a": torch.randn(3, 5, generator=g, dtype=torch.float64), "b": torch.randn(4, generator=g,
                                                                                          dtype=torch.float64)}
               for _ in range(3)]
    weights = [5, 2, 9]
    want = {n: sum(w * c[n] for w, c in zip(weights, clients)) / sum(weights) for n in clients[0]}

    def prog(s):
        shares = []
        for c in clients:
            shares.append({n: mpc.share(s, v if s.party == 0 else None, owner=0, shape=v.shape).share for n, v in c.items()})
        agg = federated.aggregate(s, shares, weights)
        return {n: mpc.SharedTensor(s, v, 16).reveal() for n, v in agg.items()}

    got, got1 = mpc.run_local(prog, seed=3)
    for n in want:
        assert torch.allclose(got[n], want[n], atol=3e-5), (n, (got[n] - want[n]).abs().max())
        assert torch.equal(got[n], got1[n])


def test_aggregate_rejects_bad_weights():
    def prog(s):
        sh = [{"a": torch.zeros(2, dtype=torch.int64)}]
        with pytest.raises(ValueError, match="positive integers"):
            federated.aggregate(s, sh, [0])
        with pytest.raises(ValueError, match="one weight per client"):
            federated.aggregate(s, sh, [1, 2])
        return True

    assert mpc.run_local(prog, seed=1) == (True, True)


@needs_hf
def test_federated_round_matches_plaintext_fedavg(tmp_path):
    from fsskernels.finetune.config import TrainConfig

    model = tiny_model_dir(tmp_path / "m")
    csv = tiny_csv(tmp_path / "d.csv")
    cfg = TrainConfig(model=str(model), dataset=str(csv), layers=1, seq_len=8, train_size=8, eval_size=4, epochs=1,
                      batch_size=2, lr=0.5).check()
    summary, adapters, twin = federated.run_federated(cfg, 2, 2, tmp_path / "out", dealer_seed=5)
    p, t = summary["private"], summary["twin"]
    assert len(p["losses"]) == len(t["losses"]) == 8  # 2 rounds x 2 clients x 2 steps
    assert max(abs(a - b) for a, b in zip(p["losses"], t["losses"])) < 0.01
    for k, v in adapters.items():
        ref = twin["final"][k[len("base_model.model."):]]
        assert torch.allclose(v.to(torch.float64), ref, atol=2e-3), k
    assert max(abs(v) for v in twin["final"]["classifier.bias"].tolist()) > 1e-3  # training moved the adapters
    rows = p["rounds_log"]
    assert len(rows) == 2 and all(len(r["bytes_per_client"]) == 2 and min(r["bytes_per_client"]) > 0 for r in rows)
