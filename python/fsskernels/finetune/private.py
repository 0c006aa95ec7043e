"""The private training loop of one party: LoRA fine-tuning on shares through ``nn.PrivateBertClassifier``.

Roles: party 0 = client (tokens, attention masks, labels: all secret), party 1 = server
(the frozen weights: secret; it also holds the initial adapters, the public peft init).
The run is cut into *segments* (a prepare segment, then one per checkpoint interval of
training steps); each segment runs in a fresh session (fresh dealer, fresh frozen-weight
masks). Between segments a party keeps only ring shares (int64): the cached embeddings,
masks and one-hot labels, the adapter shares and the optimizer state. Checkpoints store
exactly those, so a resumed run repeats the same segments from the same shares; with the
seeded test dealer (``seed``: each segment's session seed is derived from (seed, segment))
the resumed run is bit-identical to an uninterrupted one.

Per step (``train_segment``): batch rows of the cached embeddings (indexing shares, free),
``model.forward`` -> logits, cross-entropy with the shared one-hot labels, its backward,
``model.backward``, the optimizer step on shares (optim.py); the loss is revealed to the
client only (``loss.reveal(to=0)``). Evaluation: forward on the held-out set, logits revealed
to the client, which computes the accuracy. Dealer material is requested per operation as
the protocol goes (streamed), never generated for the whole run up front.

In training segments the model is built with ``public_embeddings=True`` and ALL-ZERO tables:
the embedding lookup already happened (cached shares), so this only skips re-freezing the
79 MB word table per segment; no real table is made public.

Errors: ValueError naming the argument for inconsistent inputs; PeerError if the other
party or the dealer dies (the CLI turns it into one line).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import torch

from .. import mpc
from . import optim as optim_mod
from .schedule import all_steps

PEFT_PREFIX = "base_model.model."


def derive_seed(seed, *labels):
    """Test seeds only: an independent 63-bit seed per (seed, labels); None stays None."""
    if seed is None:
        return None
    h = hashlib.sha256(repr((int(seed),) + tuple(labels)).encode()).digest()
    return int.from_bytes(h[:8], "little") >> 1


@dataclass
class PartyState:
    """What one party carries between segments (and checkpoints): ring shares plus public progress."""
    party: int
    cfg: object
    hf_config: object                 # transformers BertConfig with num_labels set (public)
    n_train: int
    n_eval: int
    state_dict: dict | None = None    # server: frozen weights (torch tensors)
    init: dict | None = None          # server: initial adapters {peft name: tensor}
    train_ids: torch.Tensor | None = None   # client
    train_mask: torch.Tensor | None = None
    train_labels: torch.Tensor | None = None
    eval_ids: torch.Tensor | None = None
    eval_mask: torch.Tensor | None = None
    eval_labels: torch.Tensor | None = None
    cache: dict = field(default_factory=dict)    # name -> (int64 share, frac_bits)
    params: dict = field(default_factory=dict)   # peft name -> int64 share
    frac_bits: int = 16
    opt: object = None
    step: int = 0
    log: dict = field(default_factory=lambda: {"losses": [], "step_seconds": [], "step_bytes": [], "eval_acc": [],
                                               "segments": []})
    stats: dict = field(default_factory=dict)    # label -> {bytes, rounds, seconds}

    def __post_init__(self):
        if self.opt is None:
            self.opt = optim_mod.make(self.cfg)


def _lora(cfg):
    from ..nn import LoraSettings

    return LoraSettings(r=cfg.lora_r, alpha=float(cfg.lora_alpha), dropout=float(cfg.lora_dropout),
                        target_modules=tuple(cfg.target_modules))


def build_model(s, st: PartyState, *, with_embeddings: bool):
    """The nn model for this segment. Server passes the weights and the initial adapters;
    shares from ``st.params`` (if any) replace the freshly shared initial values."""
    from ..nn import PrivateBertClassifier

    c = st.hf_config
    kw = {}
    sd = st.state_dict if s.party == 1 else None
    if not with_embeddings:
        zeros = {f"embeddings.{k}": torch.zeros(shape, dtype=torch.float64) for k, shape in (
            ("word_embeddings.weight", (c.vocab_size, c.hidden_size)),
            ("position_embeddings.weight", (c.max_position_embeddings, c.hidden_size)),
            ("token_type_embeddings.weight", (c.type_vocab_size, c.hidden_size)),
            ("LayerNorm.weight", (c.hidden_size,)), ("LayerNorm.bias", (c.hidden_size,)))}
        kw = dict(public_embeddings=True, public_tables=zeros)
    init = st.init if s.party == 1 else None
    if st.params and s.party == 1:
        init = {n: torch.zeros(tuple(v.shape), dtype=torch.float64) for n, v in st.params.items()}  # replaced below
    model = PrivateBertClassifier(s, c, sd, num_layers=st.cfg.layers, lora=_lora(st.cfg), init=init, init_owner=1,
                                  owner=1, **kw)
    if st.params:
        tr = model.trainable()
        if set(tr) != set(st.params):
            raise ValueError(f"adapters: the model's trainable tensors differ from the saved ones "
                             f"({sorted(set(tr) ^ set(st.params))[:2]})")
        for n, p in tr.items():
            sh = st.params[n].to(s.device)
            if tuple(sh.shape) != tuple(p.value.shape):
                raise ValueError(f"adapters: {n} has shape {tuple(sh.shape)}, the model expects {tuple(p.value.shape)}")
            p.value = mpc.SharedTensor(s, sh.clone(), st.frac_bits)
    return model


def _keep(st: PartyState, name: str, t) -> None:
    st.cache[name] = (t.share.detach().cpu().clone(), t.frac_bits)


def _get(s, st: PartyState, name: str):
    sh, fb = st.cache[name]
    return mpc.SharedTensor(s, sh.to(s.device), fb)


def _record(st: PartyState, s, label: str, t0: float, before: dict) -> None:
    after = s.stats()["total"]
    e = st.stats.setdefault(label, {"seconds": 0.0, "bytes": 0, "rounds": 0})
    e["seconds"] += time.perf_counter() - t0
    e["bytes"] += after["bytes"] - before["bytes"]
    e["rounds"] += after["rounds"] - before["rounds"]


def _merge_protocols(st: PartyState, s) -> None:
    """Per-label bytes of this segment's session (nested labels as given by nn/ and the runtime)."""
    agg = st.stats.setdefault("_protocols", {})
    for lab, c in s.stats()["protocols"].items():
        e = agg.setdefault(lab, {"bytes": 0, "rounds": 0})
        e["bytes"] += int(c["bytes"])
        e["rounds"] += int(c["rounds"])


def prepare_segment(s, st: PartyState) -> None:
    """Once per run: share the adapters' initial values, embed every train/eval example
    (cached), share the attention masks and the one-hot labels."""
    from ..nn import share_labels

    t0, before = time.perf_counter(), s.stats()["total"]
    model = build_model(s, st, with_embeddings=True)
    T = st.cfg.seq_len
    client = s.party == 0
    for part, n, ids, mask in (("train", st.n_train, st.train_ids, st.train_mask),
                               ("eval", st.n_eval, st.eval_ids, st.eval_mask)):
        if n == 0:
            continue
        emb, m = model.prepare(ids if client else None, mask if client else None, shape=(n, T))
        _keep(st, f"{part}_emb", emb)
        _keep(st, f"{part}_mask", m)
    with s.protocol("labels"):
        y = share_labels(s, st.train_labels if client else None, num_classes=st.hf_config.num_labels, n=st.n_train,
                         owner=0)
    _keep(st, "train_onehot", y)
    st.params = {n: p.value.share.detach().cpu().clone() for n, p in model.trainable().items()}
    st.frac_bits = next(iter(model.trainable().values())).value.frac_bits
    _record(st, s, "prepare (embeddings, masks, labels, once)", t0, before)
    _merge_protocols(st, s)


def train_segment(s, st: PartyState, steps: list, *, on_step=None) -> None:
    """Run the given [(epoch, j, batch indices)] steps; updates ``st`` (params, opt, step, log)."""
    from ..nn import CrossEntropy

    t0, before = time.perf_counter(), s.stats()["total"]
    model = build_model(s, st, with_embeddings=False)
    model.train()
    _record(st, s, "model setup (frozen weights masked)", t0, before)
    ce = CrossEntropy()
    emb, mask, onehot = _get(s, st, "train_emb"), _get(s, st, "train_mask"), _get(s, st, "train_onehot")
    for (epoch, j, b) in steps:
        t0, before = time.perf_counter(), s.stats()["total"]
        idx = torch.as_tensor(b, dtype=torch.int64, device=s.device)
        model.zero_grad()
        tf = time.perf_counter()
        b0 = s.stats()["total"]
        logits = model.forward(emb[idx], mask[idx])
        _record(st, s, "forward", tf, b0)
        tf, b0 = time.perf_counter(), s.stats()["total"]
        with s.protocol("loss"):
            loss = ce.forward(logits, onehot[idx])
            dlogits = ce.backward()
        _record(st, s, "loss", tf, b0)
        tf, b0 = time.perf_counter(), s.stats()["total"]
        model.backward(dlogits, grad_scale_bits=st.cfg.grad_scale_bits)
        _record(st, s, "backward", tf, b0)
        tf, b0 = time.perf_counter(), s.stats()["total"]
        tr = model.trainable()
        new = st.opt.step({n: p.value for n, p in tr.items()}, {n: p.grad for n, p in tr.items()})
        for n, p in tr.items():
            p.value = new[n]
        _record(st, s, "optimizer", tf, b0)
        with s.protocol("loss reveal"):
            lv = loss.reveal(to=0)  # the client alone learns the loss
        st.step += 1
        dt = time.perf_counter() - t0
        db = s.stats()["total"]["bytes"] - before["bytes"]
        if lv is not None:
            st.log["losses"].append(float(lv))
        st.log["step_seconds"].append(dt)
        st.log["step_bytes"].append(int(db))
        if on_step is not None:
            on_step(st, None if lv is None else float(lv), dt, db)
    st.params = {n: p.value.share.detach().cpu().clone() for n, p in model.trainable().items()}
    _merge_protocols(st, s)


def evaluate_segment(s, st: PartyState, *, batch_size: int = 16):
    """Held-out logits on shares, revealed to the client only. Returns (logits float64 or None, accuracy or None)."""
    t0, before = time.perf_counter(), s.stats()["total"]
    model = build_model(s, st, with_embeddings=False)
    model.eval()
    emb, mask = _get(s, st, "eval_emb"), _get(s, st, "eval_mask")
    outs = []
    with s.protocol("eval"):
        for i in range(0, st.n_eval, batch_size):
            lg = model.forward(emb[i:i + batch_size], mask[i:i + batch_size])
            outs.append(lg.reveal(to=0))
    _record(st, s, "eval (forward on held-out set)", t0, before)
    _merge_protocols(st, s)
    if s.party != 0:
        return None, None
    logits = torch.cat(outs)
    acc = float((logits.argmax(-1) == st.eval_labels.to(logits.device)).to(torch.float64).mean())
    return logits, acc


def export_segment(s, st: PartyState, reveal_to):
    """Reveal the adapters to party ``reveal_to`` (0/1): {peft name: float tensor} there, None at the other."""
    model = build_model(s, st, with_embeddings=False)
    return model.export_adapters(reveal_to)


def segments(cfg, n_train: int, checkpoint_every: int | None):
    """[[(epoch, j, batch)], ...]: the training steps cut at checkpoint boundaries
    (default: one segment per epoch)."""
    steps = all_steps(n_train, cfg.batch_size, cfg.epochs, cfg.seed)
    if checkpoint_every is None:
        out, cur = [], []
        for st in steps:
            if cur and st[0] != cur[-1][0]:
                out.append(cur)
                cur = []
            cur.append(st)
        return out + ([cur] if cur else [])
    if checkpoint_every < 1:
        raise ValueError(f"checkpoint-every: must be >= 1, got {checkpoint_every}")
    return [steps[i:i + checkpoint_every] for i in range(0, len(steps), checkpoint_every)]
