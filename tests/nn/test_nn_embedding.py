"""Embedding lookup on shares vs the plaintext lookup (word + position + token type, then
LayerNorm), in secret mode (DPF one-hot x frozen table) and the relaxed public-table mode;
bytes per token against the formula in embedding.py; bad token ids."""
import math

import pytest
import torch
import torch.nn.functional as F

from fsskernels import mpc, nn
from fsskernels.nn.embedding import TABLE_BOUND, TABLE_RING_BITS
from nn_helpers import randn

V, D, P, NT = 100, 16, 12, 2


def _weights():
    return {"word_embeddings": randn(V, D, seed=1), "position_embeddings": randn(P, D, seed=2, scale=0.5),
            "token_type_embeddings": randn(NT, D, seed=3, scale=0.5), "LayerNorm.weight": 1 + randn(D, seed=4, scale=0.1),
            "LayerNorm.bias": randn(D, seed=5, scale=0.1)}


def _plain(w, ids, tt):
    e = w["word_embeddings"][ids] + w["token_type_embeddings"][tt] + w["position_embeddings"][: ids.shape[1]]
    return F.layer_norm(e, (D,), w["LayerNorm.weight"], w["LayerNorm.bias"], 1e-12)


def _prog(s, w, ids, tt, public, one_hot):
    mine = w if (s.party == 1 or public) else None
    emb = nn.Embeddings(s, V, D, P, NT, mine, public_table=public, one_hot=one_hot)
    s.reset_stats()
    out = emb.embed(ids if s.party == 0 else None, tt if s.party == 0 else None, shape=ids.shape)
    st = s.stats()
    return out.reveal(), st


@pytest.mark.parametrize("public,one_hot", [(False, "share"), (False, "dpf"), (True, "share")])
def test_embedding_matches_plaintext_lookup(gates_impl, public, one_hot):
    _, scale = gates_impl
    w = _weights()
    g = torch.Generator().manual_seed(9)  # csprng-ok: public test data
    ids = torch.randint(0, V, (3, 10), generator=g)
    ids[0, :3] = torch.tensor([0, V - 1, 7])  # domain edges
    tt = torch.randint(0, NT, (3, 10), generator=g)
    (got, st0), (_, st1) = mpc.run_local(_prog, w, ids, tt, public, one_hot, seed=4)
    assert (got - _plain(w, ids, tt)).abs().max().item() < 2e-3 * scale
    if not public:
        # frozen product: the client sends L bits per (vocab + types) entry and per output
        # element (its masked one-hot share and its share of the truncation input), L = the
        # lookup's narrow ring (26 bits, not mul_bits = 54)
        n, L = ids.numel(), TABLE_RING_BITS
        assert L == 26
        want = math.ceil(n * (V + NT) * L / 8) + math.ceil(n * D * L / 8)
        assert st0["protocols"]["embedding/matmul_frozen"]["bytes_sent"] == want
        if one_hot == "dpf":  # the DPF opening: ceil(log2 V) = 7 bits per token each way
            assert st0["protocols"]["embedding"]["bytes_sent"] == math.ceil(n * 7 / 8)
        else:  # the client's one-hot rows and token types: one 88-byte share message
            assert st0["protocols"]["embedding/share"]["bytes_sent"] == 88


def test_embedding_table_outside_the_narrow_ring_is_refused():
    w = _weights()
    w["word_embeddings"] = w["word_embeddings"].clone()
    w["word_embeddings"][3, 1] = TABLE_BOUND  # |T| must stay below the bound

    def prog(s):
        return nn.Embeddings(s, V, D, P, NT, w if s.party == 1 else None)

    with pytest.raises(ValueError, match="word_embeddings.*below 64"):
        mpc.run_local(prog, seed=1)


def test_embedding_bad_tokens():
    w = _weights()

    def prog(s, ids):
        emb = nn.Embeddings(s, V, D, P, NT, w if s.party == 1 else None)
        emb.embed(ids if s.party == 0 else None, shape=ids.shape)

    with pytest.raises(ValueError, match=r"input_ids: token ids must be in \[0, 100\)"):
        mpc.run_local(prog, torch.tensor([[1, V]]), seed=1, timeout=10)
    with pytest.raises(ValueError, match="sequence length 13 exceeds"):
        mpc.run_local(prog, torch.zeros(1, 13, dtype=torch.int64), seed=1, timeout=10)
