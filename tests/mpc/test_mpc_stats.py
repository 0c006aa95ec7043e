"""Traffic accounting (bytes after bit-packing, rounds per protocol) and the cost model."""
import pytest
import torch

from fsskernels import mpc
from fsskernels.mpc.stats import LINKS, project_time, select


@pytest.mark.parametrize("carry", ["bit", "word"])
def test_matmul_traffic_matches_the_formulas(carry):
    m, k, n, L = 8, 12, 10, 54
    bit = carry == "bit"  # one more round and one more bit per element each way (truncation.py)
    x, w = torch.ones(m, k), torch.ones(k, n) * 0.5

    def prog(s):
        X = mpc.share(s, x if s.party == 0 else None, owner=0)
        W = mpc.share(s, w if s.party == 1 else None, owner=1)
        Wf = mpc.freeze_owned(s, w if s.party == 1 else None, owner=1, shape=(k, n))
        s.reset_stats()
        X @ W
        both = s.stats()
        s.reset_stats()
        X @ Wf
        frozen = s.stats()
        return both, frozen

    (b0, f0), (b1, f1) = mpc.run_local(prog, seed=1, config=mpc.FixedPointConfig(trunc_carry=carry))
    pk = lambda cnt: (cnt * L + 7) // 8  # noqa: E731
    bits = (m * n + 7) // 8 if bit else 0  # the masked carry bits
    both = select(b0, "matmul")
    assert both["bytes"] == 2 * (pk(m * k + k * n)) + 2 * (pk(m * n) + bits) and both["rounds"] == 2 + bit
    assert b0["protocols"]["matmul"]["bytes_sent"] == pk(m * k + k * n)
    assert b0["protocols"]["matmul/trunc"]["bytes_sent"] == pk(m * n) + bits
    fz = select(f0, "matmul_frozen")
    f = 16
    answer = (m * n * (f + 1) + 7) // 8 + bits  # (d, c_lo), then the masked carry bits
    assert fz["bytes"] == pk(m * k + m * n) + answer + bits and fz["rounds"] == 2 + bit
    assert f0["protocols"]["matmul_frozen"]["bytes_sent"] == pk(m * k + m * n)  # party 0 sends E and its c share
    # the owner answers the wrap bit and the low f bits of the opening (exact truncation),
    # with a "bit" carry also its masked carry bit; party 0 answers with its own
    assert f1["protocols"]["matmul_frozen/trunc"]["bytes_sent"] == answer
    assert f0["protocols"]["matmul_frozen/trunc"]["bytes_sent"] == bits
    assert b0["total"]["bytes"] == b1["total"]["bytes"]
    assert b0["dealer"]["pieces"] > 0


def test_labels_nest_and_cost_model():
    def prog(s):
        X = mpc.from_public(s, torch.ones(100))
        with s.protocol("layer"):
            with s.protocol("inner"):
                X.reveal()
        return s.stats()

    st, _ = mpc.run_local(prog, seed=2)
    assert st["protocols"]["layer/inner/reveal"]["bytes"] == 1600
    c = {"rounds": 10, "critical_bytes": 1_000_000}
    assert project_time(c, "lan") == pytest.approx(10 * 0.8e-3 + 8e6 / 3e9)
    assert project_time(c, "wan100", compute_s=0.5) == pytest.approx(0.5 + 0.8 + 0.08)
    assert set(LINKS) == {"lan", "wan200", "wan100"}
    with pytest.raises(ValueError, match="link"):
        project_time(c, "moon")
    with pytest.raises(ValueError, match="label"):
        with mpc.local_sessions(seed=3)[0].protocol("a/b"):
            pass
