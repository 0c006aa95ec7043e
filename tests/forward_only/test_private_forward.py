"""The batched private forward (population x examples, soft prompt inserted after [CLS]) equals
the float64 twin's forward on the same prompts, for softmax and random-feature attention
(1-layer tiny BERT, padded rows, secret mask). Also: private RFA attention alone against
the float64 RFA reference on the same public W, and that RFA approximates softmax attention."""
import math

import pytest
import torch

from fsskernels import mpc
from fsskernels.finetune.forward_only import plain, session
from fsskernels.finetune.forward_only.population import plain_logits, private_logits
from fsskernels.finetune.forward_only.prompt import PromptProjection
from fsskernels.nn.rfa_attention import rfa_attention_plain, rfa_weights

from fo_helpers import fo_config, gen, tiny_model, tiny_task

pytest.importorskip("transformers")

# stated bounds on the logits (max abs error), softmax and RFA: fixed point + gate errors
BOUND = {"softmax": 2e-2, "rfa": 3e-2}


def _party_inputs(fo, cfg, sd, ids, mask):
    """Both parties' inputs for one layer and 3 examples: the client's tokens, the server's weights."""
    inp = [session.PartyInputs(fo, cfg, 1, 3, 0, ids.shape[1]) for _ in range(2)]
    inp[0].train_ids, inp[0].train_mask = ids, mask
    inp[1].state_dict = sd
    return inp


@pytest.mark.parametrize("attention", ["softmax", "rfa"])
def test_private_population_forward_equals_plaintext(attention):
    cfg, sd = tiny_model()
    fo = fo_config(attention=attention)
    ids, mask, labels = tiny_task(3)
    K = 2
    Z = torch.randn(K, fo.z_dim, generator=gen(5), dtype=torch.float64)
    proj = PromptProjection(fo.z_dim, fo.prompt_len, cfg.hidden_size, fo.seed)
    inp = _party_inputs(fo, cfg, sd, ids, mask)

    def prog(s):
        i = inp[s.party]
        model = session.build_model(s, i)
        emb, m = model.prepare(i.train_ids, i.train_mask, shape=(3, ids.shape[1]))
        P = mpc.share(s, proj.prompts(Z) if s.party == 0 else None, owner=0, shape=(K, fo.prompt_len, cfg.hidden_size))
        return private_logits(model, emb, m, P).reveal(to=0)

    got, none = mpc.run_local(prog, seed=11, timeout=120)
    assert none is None
    twin = plain.build_twin(fo, cfg, sd, 1)
    want = plain_logits(twin, twin.embed(ids), mask, proj.prompts(Z))
    assert got.shape == want.shape == (K * 3, 2)
    assert (got - want).abs().max() < BOUND[attention]


def _heads(B, H, T, dh, seed):
    g = gen(seed)
    return [torch.randn(B, H, T, dh, generator=g, dtype=torch.float64) * 0.8 for _ in range(3)]


def test_rfa_attention_on_shares_equals_reference_and_approximates_softmax():
    from fsskernels.nn.attention import SelfAttention
    from fsskernels.nn.rfa_attention import RFASelfAttention

    B, H, T, dh, m = 1, 2, 8, 8, 256
    d = H * dh
    x = torch.randn(B, T, d, generator=gen(2), dtype=torch.float64)
    Ws = [torch.randn(d, d, generator=gen(10 + i), dtype=torch.float64) * 0.12 for i in range(3)]
    mask = torch.ones(B, T)
    mask[0, -2:] = 0

    class Lin:  # a public projection standing in for the frozen linears
        def __init__(self, w):
            self.w, self.out_features = w, d

        def __call__(self, t):
            return t.matmul_public(self.w.T)

    def prog(s):
        from fsskernels.nn.module import Module

        class P(Module):
            def __init__(self, w):
                super().__init__()
                self.lin, self.out_features = Lin(w), d

            def forward(self, t):
                return self.lin(t)

        sa = SelfAttention(P(Ws[0]), P(Ws[1]), P(Ws[2]), H)
        rfa = RFASelfAttention(sa, m, seed=4)
        X = mpc.share(s, x if s.party == 0 else None, owner=0, shape=(B, T, d))
        M = mpc.share(s, mask if s.party == 0 else None, owner=0, shape=(B, T))
        s.reset_stats()
        out = rfa.forward(X, ((M - 1.0) * 64).reshape(B, 1, 1, T))
        return out.reveal(to=0), s.stats()["total"]["rounds"]

    (got, rounds), _ = mpc.run_local(prog, seed=5, timeout=120)

    def split(t):
        return t.reshape(B, T, H, dh).permute(0, 2, 1, 3)

    q, k, v = (split(x @ w.T) for w in Ws)
    ref = rfa_attention_plain(q, k, v, rfa_weights(dh, m, 4), mask).permute(0, 2, 1, 3).reshape(B, T, d)
    assert (got - ref).abs().max() < 5e-3
    sm = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh) + ((mask - 1) * 64)[:, None, None, :], -1) @ v
    sm = sm.permute(0, 2, 1, 3).reshape(B, T, d)
    # random features approximate softmax attention (for small |q|, |k|: the cos estimator's
    # variance grows like exp(|q'|^2 + |k'|^2)): closer than attending uniformly
    uniform = (v * mask[:, None, :, None]).sum(2, keepdim=True) / mask.sum()
    uniform = uniform.expand(B, H, T, dh).permute(0, 2, 1, 3).reshape(B, T, d)
    assert (ref - sm).abs().mean() < 0.5 * (uniform - sm).abs().mean()
    assert rounds < 60


@pytest.mark.parametrize("target, attention", [("lora", "softmax"), ("lora", "rfa"), ("prompt", "softmax")])
def test_candidates_private_equals_plaintext(target, attention):
    """session.Candidates (what the loop evaluates) against plain.Candidates: K candidates of the
    soft-prompt or LoRA target (adapters on query/value from z) in one batched forward."""
    cfg, sd = tiny_model()
    fo = fo_config(attention=attention, target=target, lora_scale=0.3)
    ids, mask, labels = tiny_task(3)
    K = 3
    Z = torch.randn(K, fo.z_dim, generator=gen(6), dtype=torch.float64)
    inp = _party_inputs(fo, cfg, sd, ids, mask)

    def prog(s):
        i = inp[s.party]
        model = session.build_model(s, i)
        emb, m = model.prepare(i.train_ids, i.train_mask, shape=(3, ids.shape[1]))
        c = session.Candidates(s, i, model)
        return c.logits(Z if s.party == 0 else None, K, emb, m).reveal(to=0)

    got, _ = mpc.run_local(prog, seed=12, timeout=120)
    twin = plain.build_twin(fo, cfg, sd, 1)
    want = plain.Candidates(fo, cfg, 1, twin).logits(Z, twin.embed(ids), mask)
    base = plain.Candidates(fo, cfg, 1, twin).logits(torch.zeros(1, fo.z_dim), twin.embed(ids), mask)
    assert got.shape == want.shape == (K * 3, 2)
    assert (got - want).abs().max() < BOUND[attention]
    # the candidates really change the model's output (not a no-op target)
    assert (want - base.repeat(K, 1)).abs().max() > 5 * BOUND[attention]
