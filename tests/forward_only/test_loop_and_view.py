"""The forward-only loop on shares: CMA-ES improves the training loss of a tiny separable task
(fixed seeds; checked in float64 on the full training set at z = 0 and at the client's final
z); its first generation's candidate losses equal the plaintext run's (same candidates: same
optimizer seed); the server's view holds only shares and masked openings: it receives
nothing in any reveal, no received message contains the logits' or the prompt's encoding,
and its result is None."""
import numpy as np
import pytest
import torch

from fsskernels import mpc
from fsskernels.finetune.forward_only import plain, session
from fsskernels.finetune.forward_only.population import candidate_losses, plain_logits
from fsskernels.finetune.forward_only.prompt import PromptProjection

from fo_helpers import fo_config, tiny_model, tiny_task

pytest.importorskip("transformers")
pytest.importorskip("cma")

FO = dict(generations=6, population=6, batch_size=4, z_dim=8, prompt_len=2, prompt_scale=2.0)


def _inputs(fo, cfg, sd, ids, mask, labels):
    n = len(labels)
    inp = [session.PartyInputs(fo, cfg, 1, n, n, ids.shape[1]) for _ in range(2)]
    c = inp[0]
    c.train_ids, c.train_mask, c.train_labels = ids, mask, labels
    c.eval_ids, c.eval_mask, c.eval_labels = ids, mask, labels
    inp[1].state_dict = sd
    return inp


def _run(fo, record=None):
    cfg, sd = tiny_model()
    ids, mask, labels = tiny_task(8)
    inp = _inputs(fo, cfg, sd, ids, mask, labels)

    def prog(s):
        if record is not None and s.party == 1:
            ch = s.channel
            pull = ch._pull

            def spy(check):
                data = pull(check)
                record.append(np.asarray(data).tobytes())
                return data

            ch._pull = spy
        return session.run_party(s, inp[s.party])

    r0, r1 = mpc.run_local(prog, seed=7, timeout=300)
    return cfg, sd, (ids, mask, labels), r0, r1


def test_cma_improves_the_loss_and_matches_plaintext_first_generation():
    fo = fo_config(attention="softmax", **FO)
    cfg, sd, (ids, mask, labels), r0, r1 = _run(fo)
    twin = plain.build_twin(fo, cfg, sd, 1)
    proj = PromptProjection(fo.z_dim, fo.prompt_len, cfg.hidden_size, fo.seed, fo.prompt_scale)
    emb = twin.embed(ids)

    def loss(z):
        P = proj.prompts(torch.as_tensor(z, dtype=torch.float64).reshape(1, -1))
        return float(candidate_losses(plain_logits(twin, emb, mask, P), labels, 1))

    assert loss(r0["best_z"]) < loss(np.zeros(fo.z_dim)) - 0.1
    ref = plain.run_plain(fo, cfg, sd, 1, (ids, mask, labels), (ids, mask, labels))
    assert abs(r0["losses"][0] - ref["losses"][0]) < 2e-2      # same candidates, same batch
    assert r0["acc_after"] is not None and r1["acc_after"] is None
    assert len(r0["step_bytes"]) == fo.generations and min(r0["step_bytes"]) > 0


def test_server_view_has_no_logits_and_no_prompt():
    fo = fo_config(attention="softmax", generations=1, population=2, batch_size=2, z_dim=4, prompt_len=2)
    got = []
    cfg, sd, (ids, mask, labels), r0, r1 = _run(fo, record=got)
    assert r1["eval_logits"] is None and r1["losses"] == [] and r1["best_z"] is None
    # reveals go to the client only: the server receives nothing under any "reveal" label
    prot1 = r1["stats"]["protocols"]
    rev = {k: v for k, v in prot1.items() if "reveal" in k}
    assert rev and all(v["bytes_recv"] == 0 for v in rev.values()) and any(v["bytes_sent"] > 0 for v in rev.values())
    # no message the server received contains the encoding of a revealed logit or a prompt value
    blob = b"".join(got)
    assert len(blob) > 1000
    logits = r0["eval_logits"]
    proj = PromptProjection(fo.z_dim, fo.prompt_len, cfg.hidden_size, fo.seed, fo.prompt_scale)
    prompt = proj.prompts(torch.as_tensor(r0["best_z"]).reshape(1, -1))
    for vals in (logits.reshape(-1), prompt.reshape(-1)[:32]):
        for v in vals.tolist():
            enc = int(round(v * 2 ** 16)) & ((1 << 64) - 1)
            assert enc.to_bytes(8, "little") not in blob


def test_lora_target_improves_the_plaintext_loss():
    """The LoRA target through the same loop (plaintext run; its private forward equals this
    one: test_private_forward.py): CMA-ES lowers the training loss of the tiny task."""
    fo = fo_config(attention="softmax", target="lora", lora_scale=0.3, **dict(FO, generations=10))
    cfg, sd = tiny_model()
    ids, mask, labels = tiny_task(8)
    log = plain.run_plain(fo, cfg, sd, 1, (ids, mask, labels), (ids, mask, labels))
    twin = plain.build_twin(fo, cfg, sd, 1)
    c = plain.Candidates(fo, cfg, 1, twin)
    emb = twin.embed(ids)

    def loss(z):
        return float(candidate_losses(c.logits(torch.as_tensor(z).reshape(1, -1), emb, mask), labels, 1))

    assert loss(log["best_z"]) < loss(np.zeros(fo.z_dim)) - 0.05
