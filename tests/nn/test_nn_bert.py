"""End to end: a 1-layer tiny BERT (hidden 32, 2 heads, seq 8, vocab 100, random weights) on
shares vs transformers BertForSequenceClassification + peft LoRA (float64): embeddings,
logits, loss and the gradients of every trainable tensor (LoRA A/B on query/value, the
classifier), with a padded row (secret attention mask) and secret labels.
Bounds (oracle gates: fixed-point error only): 5e-3 absolute on every output; with the real
gates the bound is scaled by the fixture's factor."""
import pytest
import torch

from fsskernels import mpc, nn
from fsskernels.nn import twin
from nn_helpers import fx, gen, tiny_config

transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

B, T, R, ALPHA = 2, 8, 4, 8.0


def _reference(num_layers=1, target=("query", "value")):
    torch.manual_seed(0)  # csprng-ok: public test weights
    cfg = tiny_config(num_layers, initializer_range=0.3)  # larger than BERT's 0.02: gradients above 2^-16
    hf = transformers.BertForSequenceClassification(cfg).double().eval()
    pm = peft.get_peft_model(hf, peft.LoraConfig(r=R, lora_alpha=ALPHA, target_modules=list(target), lora_dropout=0.0,
                                                 modules_to_save=["classifier"]))
    with torch.no_grad():  # B is zero at peft's init: make it non-zero so that A's gradient is too
        for i, (n, p) in enumerate(pm.named_parameters()):
            if "lora_B" in n:
                p.copy_(torch.randn(p.shape, generator=gen(100 + i), dtype=torch.float64) * 0.2)
    server_sd = {k: v.detach().clone() for k, v in hf.state_dict().items() if "lora_" not in k
                 and "modules_to_save" not in k and "original_module" not in k}
    server_sd = {k.replace("base_layer.", ""): v for k, v in server_sd.items()}
    init = {k: v.detach().clone() for k, v in peft.get_peft_model_state_dict(pm).items()}
    return cfg, pm, server_sd, init


def _batch():
    ids = torch.randint(0, 100, (B, T), generator=gen(3))
    mask = torch.ones(B, T, dtype=torch.int64)
    mask[1, 5:] = 0  # row 1 is padded
    labels = torch.tensor([2, 0])
    return ids, mask, labels


def _private(s, cfg, server_sd, init, ids, mask, labels, num_layers, target, scale_bits=0):
    model = nn.PrivateBertClassifier(
        s, cfg, server_sd if s.party == 1 else None, num_layers=num_layers,
        lora=nn.LoraSettings(r=R, alpha=ALPHA, target_modules=target), init=init if s.party == 0 else None)
    model.eval()
    emb, m = model.prepare(ids if s.party == 0 else None, mask if s.party == 0 else None, shape=(B, T))
    logits = model.forward(emb, m)
    y = nn.share_labels(s, labels if s.party == 0 else None, num_classes=cfg.num_labels, n=B)
    ce = nn.CrossEntropy()
    loss = ce.forward(logits, y)
    model.backward(ce.backward(), grad_scale_bits=scale_bits)
    grads = {k: p.grad.reveal() for k, p in model.trainable().items()}
    out = model.export_adapters(reveal_to=0)
    # a model without embedding tables (later training segments) on the cached embeddings
    lean = nn.PrivateBertClassifier(
        s, cfg, server_sd if s.party == 1 else None, num_layers=num_layers,
        lora=nn.LoraSettings(r=R, alpha=ALPHA, target_modules=target), init=init if s.party == 0 else None,
        build_embeddings=False).eval()
    with pytest.raises(ValueError, match="build_embeddings=False"):
        lean.prepare(shape=(B, T))
    lean_logits = lean.forward(emb, m).reveal()
    return emb.reveal(), (logits.reveal(), lean_logits), loss.reveal(), grads, out, s.stats()


@pytest.mark.parametrize("target,layers,scale_bits", [(("query", "value"), 1, 0), (("query", "value"), 1, 6),
                                                      (("query", "key", "value", "dense"), 2, 0)])
def test_tiny_bert_matches_transformers_peft(gates_impl, target, layers, scale_bits):
    impl, scale = gates_impl
    if impl == "mf" and layers != 1:
        pytest.skip("the 1-layer configurations are enough for the real gates (time)")
    cfg, pm, server_sd, init = _reference(layers, target)
    ids, mask, labels = _batch()
    (emb, (logits, lean_logits), loss, grads, exported, stats), (_, _, _, _, none, _) = mpc.run_local(
        _private, cfg, server_sd, init, ids, mask, labels, layers, target, scale_bits, seed=11)
    out = pm(input_ids=ids, attention_mask=mask, labels=labels)
    out.loss.backward()
    ref_emb = pm.base_model.model.bert.embeddings(input_ids=ids)
    tol = 5e-3 * scale
    assert (emb - ref_emb).abs().max().item() < tol
    assert (logits - out.logits).abs().max().item() < tol
    assert (lean_logits - out.logits).abs().max().item() < tol
    assert abs(loss.item() - out.loss.item()) < tol
    ref_grads = {}
    for n, p in pm.named_parameters():
        if p.requires_grad:
            ref_grads[nn.to_peft_name(nn.from_peft_name(n))] = p.grad
    assert set(grads) == set(ref_grads) == set(init)
    for k, g in grads.items():
        assert g.shape == ref_grads[k].shape, k
        assert (g - ref_grads[k]).abs().max().item() < tol, k
        assert ref_grads[k].abs().max().item() > 0.05, f"{k}: reference gradient too small to test"
    # export: peft names and plaintext values at party 0 only
    assert none is None and set(exported) == set(init)
    for k, v in exported.items():
        assert (v.double() - fx(init[k])).abs().max().item() < 1e-4


def test_mask_reuse_is_bit_identical_and_sends_less():
    """The whole model (real gates, forward + backward): reusing the masks of values opened
    before (mpc/opened.py) changes no bit of any output, gradient or export, and sends less."""
    cfg, _pm, server_sd, init = _reference(1)
    ids, mask, labels = _batch()
    runs = {}
    for reuse in (True, False):
        res, _ = mpc.run_local(_private, cfg, server_sd, init, ids, mask, labels, 1, ("query", "value"), 0,
                               seed=11, config=mpc.FixedPointConfig(mask_reuse=reuse))
        runs[reuse] = res
    on, off = runs[True], runs[False]
    for a, b in zip((on[0], *on[1], on[2]), (off[0], *off[1], off[2])):
        assert torch.equal(a, b)
    assert set(on[3]) == set(off[3]) and all(torch.equal(on[3][k], off[3][k]) for k in on[3])
    assert all(torch.equal(on[4][k], off[4][k]) for k in on[4])
    assert on[5]["total"]["bytes"] < 0.9 * off[5]["total"]["bytes"]
    assert on[5]["total"]["rounds"] <= off[5]["total"]["rounds"]


def test_twin_matches_transformers():
    cfg, pm, server_sd, init = _reference(2)
    ids, mask, _ = _batch()
    tw = twin.TwinBertClassifier(cfg, server_sd, lora=nn.LoraSettings(r=R, alpha=ALPHA), init=init)
    got = tw(tw.embed(ids), mask)
    want = pm(input_ids=ids, attention_mask=mask).logits
    assert (got - want).abs().max().item() < 1e-9


def test_model_bad_arguments():
    cfg, _, server_sd, init = _reference(1)
    lora = nn.LoraSettings(r=R, alpha=ALPHA)

    def build(s, sd_for, init_for, num_layers=1, drop_key=None):
        sd = dict(server_sd)
        if drop_key:
            sd.pop(drop_key)
        nn.PrivateBertClassifier(s, cfg, sd if s.party in sd_for else None, num_layers=num_layers, lora=lora,
                                 init=init if s.party in init_for else None)

    with pytest.raises(ValueError, match="state_dict: only party 1 passes the weights"):
        mpc.run_local(build, (0, 1), (0,), seed=1, timeout=10)
    with pytest.raises(ValueError, match="init: party 0 must pass"):
        mpc.run_local(build, (1,), (), seed=1, timeout=10)
    with pytest.raises(ValueError, match="num_layers: must be in 1..1"):
        mpc.run_local(build, (1,), (0,), 2, seed=1, timeout=10)
    with pytest.raises(ValueError, match="state_dict: missing 'encoder.layer.0.output.dense.weight'"):
        mpc.run_local(build, (1,), (0,), 1, "bert.encoder.layer.0.output.dense.weight", seed=1, timeout=10)
    with pytest.raises(ValueError, match="r: must be a positive integer"):
        nn.LoraSettings(r=0)
    with pytest.raises(ValueError, match="target_modules"):
        nn.LoraSettings(target_modules="query")


def test_public_embedding_tables_relaxed_mode():
    """public_embeddings=True (both parties hold the tables): same logits as transformers."""
    import oracle_gates
    from fsskernels.nn.gates import use_gates

    cfg, pm, server_sd, init = _reference(1)
    ids, mask, _ = _batch()
    tables = {k[5:]: v for k, v in server_sd.items() if k.startswith("bert.embeddings.")}

    def prog(s):
        model = nn.PrivateBertClassifier(s, cfg, server_sd if s.party == 1 else None, lora=nn.LoraSettings(r=R, alpha=ALPHA),
                                         init=init if s.party == 0 else None, public_embeddings=True,
                                         public_tables=tables).eval()
        emb, m = model.prepare(ids if s.party == 0 else None, mask if s.party == 0 else None, shape=(B, T))
        return model.forward(emb, m).reveal()

    with use_gates(oracle_gates):
        logits, _ = mpc.run_local(prog, seed=12)
    want = pm(input_ids=ids, attention_mask=mask).logits
    assert (logits - want).abs().max().item() < 5e-3
