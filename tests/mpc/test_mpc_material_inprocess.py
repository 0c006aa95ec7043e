"""The in-process material path (Dealer.generate(serialize=False), used by LocalDealerSource)
against the serialized path that pieces take across processes: for every kind a real program
requests (runtime kinds and the gates' kinds), two dealers with the same seed give parsed
pieces with identical arrays, widths and sizes; the key batches handed over are the keys whose
bytes the network path sends; and the parties' results are bit-identical either way."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from fsskernels import mpc
import fsskernels.mpc.functional as MF
from fsskernels.mpc.dealer import Dealer, LocalDealerSource
from fsskernels.mpc.material import encode_spec, parse_piece

X = torch.linspace(-5.0, 5.0, 24, dtype=torch.float64).reshape(4, 6)


def _program(s):
    x = mpc.share(s, X if s.party == 0 else None, owner=0, shape=X.shape)
    w = mpc.share(s, X.T if s.party == 1 else None, owner=1, shape=X.T.shape)
    y = MF.gelu(x) + MF.relu(x) * x + MF.softmax(x) + MF.sin(x)
    y = MF.dropout(y, p=0.25, training=True) + (x @ w).sum() + (x * x).sum()  # x's mask reused, a square
    return y.reveal(to=0)


def _requests(carry: str, reuse: bool):
    def prog(s):
        s.material_log(clear=True)
        _program(s)
        return s.material_log()

    plan, _ = mpc.run_local(prog, seed=3, config=mpc.FixedPointConfig(trunc_carry=carry, mask_reuse=reuse))
    return plan


@pytest.mark.parametrize("carry, trunc_kind, reuse", [("bit", "trunc_xb", True), ("word", "trunc_x", False)])
def test_every_requested_kind_is_identical_on_both_paths(carry, trunc_kind, reuse):
    plan = _requests(carry, reuse)
    kinds = {k for k, _ in plan}
    triples = {"rtriple", "rmatmul_triple"} if reuse else {"triple", "matmul_triple"}
    assert triples | {"cmp", "relu", "lut", "tr", "trig", "bern", trunc_kind} <= kinds, kinds
    a, b = Dealer(11), Dealer(11)
    for seq, (kind, spec) in enumerate(plan):
        words = encode_spec(tuple(spec))
        wire = a.generate(seq, kind, words)
        local = b.generate(seq, kind, words, serialize=False)
        for p in (0, 1):
            parsed, made = parse_piece(wire[p]), local[p]
            assert made.nbytes == len(wire[p]), kind
            assert (made.kind, made.spec, made.bits, made.seq) == (parsed.kind, parsed.spec, parsed.bits, parsed.seq)
            for x, y in zip(parsed.arrays, made.arrays):
                if hasattr(y, "to_bytes"):
                    assert x.tobytes() == y.to_bytes(), kind
                else:
                    assert x.dtype == y.dtype == np.uint64 and np.array_equal(x, y), kind


def _wire_fetch(self, party, seq, kind, words):
    """LocalDealerSource.fetch through the wire format: serialized halves, parsed by the party."""
    with self._lock:
        cache = self.__dict__.setdefault("_wire", {})
        if seq not in cache:
            cache[seq] = list(self.dealer.generate(seq, kind, words))
        return cache[seq][party]


def _run():
    def prog(s):
        out = _program(s)
        return out, s.stats()["total"]["bytes"], s.material.bytes_in

    return mpc.run_local(prog, seed=5)


def test_results_are_bit_identical_and_traffic_equal(monkeypatch):
    local = _run()
    monkeypatch.setattr(LocalDealerSource, "fetch", _wire_fetch)
    wire = _run()
    assert torch.equal(local[0][0], wire[0][0])
    assert [r[1:] for r in local] == [r[1:] for r in wire]
