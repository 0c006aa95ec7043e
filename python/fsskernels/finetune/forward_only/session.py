"""The private run of forward-only tuning as one SPMD program (both parties call
``run_party(s, inp)``; ``mpc.run_local`` runs them as threads, ``mpc.run_network`` as processes).

Party 1 (server) holds the frozen BERT weights and the classifier head; party 0 (client) holds
the tokens, masks and labels, the optimizer, z and the prompts. Per run: the model is built
(weights masked once), the train and held-out examples are embedded once (cached shares).
Per generation: the client shares the population's prompts or LoRA adapters (one share call;
``Candidates``), both parties run ONE batched forward on shares, the logits are revealed to the client only (``reveal(to=0)``),
the client computes the losses in plaintext and tells the optimizer. At the end the client's
best z is shared as a single prompt and the held-out set is classified (logits to the client).
What the server sees: shares and masked openings only (tests/forward_only/test_server_view.py).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from ... import mpc
from ...nn import LoraSettings, PrivateBertClassifier
from ...nn.rfa_attention import use_rfa
from . import lora_target, loop
from .population import private_logits
from .prompt import PromptProjection

NO_LORA = LoraSettings(target_modules=())


@dataclass
class PartyInputs:
    """One party's inputs. Public: fo (ForwardOnlyConfig), hf_config, layers, n_train, n_eval,
    seq_len. Server: state_dict (frozen weights, 'classifier.*' included). Client: the rest."""
    fo: object
    hf_config: object
    layers: int
    n_train: int
    n_eval: int
    seq_len: int
    state_dict: dict | None = None
    train_ids: torch.Tensor | None = None
    train_mask: torch.Tensor | None = None
    train_labels: torch.Tensor | None = None
    eval_ids: torch.Tensor | None = None
    eval_mask: torch.Tensor | None = None
    eval_labels: torch.Tensor | None = None


def split_head(sd: dict) -> tuple:
    """(frozen weights without the head, head {classifier.weight, classifier.bias})."""
    head = {k: v for k, v in sd.items() if k.startswith("classifier.")}
    if set(head) != {"classifier.weight", "classifier.bias"}:
        raise ValueError("state_dict: needs classifier.weight and classifier.bias (the server's head)")
    return {k: v for k, v in sd.items() if not k.startswith("classifier.")}, head


def build_model(s, inp: PartyInputs):
    """The server's frozen classifier on shares (head shared by the server), RFA if asked."""
    sd = head = None
    if s.party == 1:
        sd, head = split_head(inp.state_dict)
    model = PrivateBertClassifier(s, inp.hf_config, sd, num_layers=inp.layers, lora=NO_LORA, init=head, init_owner=1,
                                  owner=1)
    model.eval()
    if inp.fo.target == "lora":   # before RFA, which takes the layers' q/k/v modules as they are
        model.fo_adapters = lora_target.install(model, inp.fo.lora_r, inp.fo.lora_targets)
    if inp.fo.attention == "rfa":
        use_rfa(model, inp.fo.rfa_features, inp.fo.seed + 1000)
    return model


class Candidates:
    """How a population of z reaches the private forward: the soft prompt (inserted after
    [CLS]) or per-candidate LoRA adapters (rows repeated per candidate). The client shares
    one tensor per generation (one ``share`` call); the server passes Z = None."""

    def __init__(self, s, inp: PartyInputs, model) -> None:
        fo, d = inp.fo, inp.hf_config.hidden_size
        self.s, self.fo, self.model, self.d = s, fo, model, d
        if fo.target == "prompt":
            self.proj = PromptProjection(fo.z_dim, fo.prompt_len, d, fo.seed, fo.prompt_scale)
        else:
            self.proj = lora_target.LoraProjection(
                fo.z_dim, lora_target.shapes_for(inp.hf_config, inp.layers, fo.lora_r, fo.lora_targets), fo.seed,
                fo.lora_scale)

    def logits(self, Z, K: int, emb, mask):
        s, fo, client = self.s, self.fo, self.s.party == 0
        with s.protocol("candidates"):
            if fo.target == "prompt":
                P = mpc.share(s, self.proj.prompts(Z) if client else None, owner=0, shape=(K, fo.prompt_len, self.d))
            else:
                F = mpc.share(s, self.proj.flat(Z) if client else None, owner=0, shape=(K, self.proj.size))
                for (_, _, ad), (A, B) in zip(self.model.fo_adapters, self.proj.split(F)):
                    ad.set(A, B)
        if fo.target == "prompt":
            return private_logits(self.model, emb, mask, P)
        B_, T, d = emb.shape
        x = emb.unsqueeze(0).expand(K, B_, T, d).reshape(K * B_, T, d)
        m = mask.unsqueeze(0).expand(K, B_, T).reshape(K * B_, T)
        return self.model.forward(x, m)


def _totals(s):
    t = s.stats()["total"]
    return t["bytes"], t["rounds"]


def run_party(s, inp: PartyInputs, *, on_gen=None, eval_batch: int = 16) -> dict:
    fo = inp.fo
    client = s.party == 0
    t_prep = time.perf_counter()
    b0 = _totals(s)
    with s.protocol("prepare"):
        model = build_model(s, inp)
        emb, mask = model.prepare(inp.train_ids if client else None, inp.train_mask if client else None,
                                  shape=(inp.n_train, inp.seq_len))
        eemb, emask = (model.prepare(inp.eval_ids if client else None, inp.eval_mask if client else None,
                                     shape=(inp.n_eval, inp.seq_len)) if inp.n_eval else (None, None))
    prep = {"seconds": time.perf_counter() - t_prep, "bytes": _totals(s)[0] - b0[0], "rounds": _totals(s)[1] - b0[1]}
    cands = Candidates(s, inp, model)

    def evaluate(Z, idx):
        return cands.logits(Z, fo.population, emb[idx], mask[idx]).reveal(to=0)

    log = loop.tune(fo, evaluate, inp.train_labels if client else None, inp.n_train, is_client=client,
                    on_gen=on_gen, cost=lambda: _totals(s))
    acc, eval_logits = None, None
    if inp.n_eval:
        with s.protocol("eval"):
            z = torch.as_tensor(log["best_z"], dtype=torch.float64).reshape(1, -1) if client else None
            outs = []
            for a in range(0, inp.n_eval, eval_batch):
                b = min(inp.n_eval, a + eval_batch)
                outs.append(cands.logits(z, 1, eemb[a:b], emask[a:b]).reveal(to=0))
        if client:
            eval_logits = torch.cat(outs)
            acc = float((eval_logits.argmax(-1) == inp.eval_labels).to(torch.float64).mean())
    log.update(prepare=prep, acc_after=acc, eval_logits=eval_logits, stats=s.stats())
    return log
