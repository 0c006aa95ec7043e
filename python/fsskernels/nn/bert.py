"""The BERT sequence classifier on shares, assembled from a Hugging Face BertConfig and the
server's weights (state dict with BertForSequenceClassification names; "bert." optional).

``PrivateBertClassifier`` = HF BertForSequenceClassification + peft LoRA:
    embeddings (cached per example) -> encoder (num_layers layers, LoRA on target modules)
    -> pooler (frozen dense + tanh on [CLS]) -> dropout -> classifier (trainable, peft's
    modules_to_save).
Parties: the server (``owner``, default 1) holds the frozen weights; the client (the other
party) holds tokens, attention mask and labels. The trainable values (LoRA A/B, classifier
weight/bias) start from values the caller gives at ``init_owner`` (e.g. the plaintext peft
twin's initial values) and are shared. Everything else about the model (config, LoRA
settings, num_layers, shapes) is public.

Security: the attention mask enters the scores as a shared additive mask (padding lengths
stay hidden); weights are masked once (freeze_owned) and never revealed; adapters are
revealed only by an explicit ``export_adapters(reveal_to)``.
"""
from __future__ import annotations

import torch

from .. import mpc
from ..mpc.tensor import SharedTensor
from .attention import DEFAULT_MASK_BIG, SelfAttention, additive_mask
from .bert_layer import Attention, BertLayer, Encoder, Intermediate, ResidualOutput
from .embedding import Embeddings
from .layers import Dropout, LayerNorm, Tanh
from .linear import FrozenLinear, FusedFrozenLinear, Linear, LoRALinear
from .lora_config import PEFT_PREFIX, LoraSettings, from_peft_name, to_peft_name
from .module import Module


def _normalize_state_dict(sd: dict) -> dict:
    out = {}
    for k, v in sd.items():
        k = k[len("bert."):] if k.startswith("bert.") else k
        out[k] = v
    return out


class Pooler(Module):
    """HF BertPooler: tanh(dense(h[:, 0]))."""

    def __init__(self, dense: Module) -> None:
        super().__init__()
        self.dense = dense
        self.activation = Tanh()

    def forward(self, h: SharedTensor) -> SharedTensor:
        self._save(shape=tuple(h.shape), h=h)
        return self.activation(self.dense(h[:, 0]))

    def backward(self, g: SharedTensor) -> SharedTensor:
        st = self._pop()
        g0 = self.dense.backward(self.activation.backward(g))
        out = SharedTensor(g0.session, torch.zeros(st["shape"], dtype=torch.int64, device=g0.device), g0.frac_bits)
        out[:, 0] = g0
        return out


class CachedEmbeddingInput(Module):
    """Stands in for Embeddings when the model is built without tables: the hidden dropout
    on cached embeddings (what Embeddings.forward does)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.dropout = Dropout(p)

    def forward(self, cached: SharedTensor) -> SharedTensor:
        return self.dropout(cached)

    def backward(self, g: SharedTensor) -> SharedTensor:
        return self.dropout.backward(g)


class BertBackbone(Module):
    """HF BertModel without the embedding's forward (see Embeddings.embed)."""

    def __init__(self, embeddings: Embeddings, encoder: Encoder, pooler: Pooler) -> None:
        super().__init__()
        self.embeddings, self.encoder, self.pooler = embeddings, encoder, pooler


class LayerBuilder:
    """Builds the frozen/LoRA layers of a BERT from the owner's state dict (names without
    "bert.") and the init owner's trainable values (our parameter names). Parties that do
    not hold a dict pass None; shapes come from the config."""

    def __init__(self, session, config, state_dict, init, lora: LoraSettings, owner: int = 1, init_owner: int = 0):
        self.s, self.c, self.sd, self.iv, self.lora = session, config, state_dict, init, lora
        self.owner, self.init_owner = owner, init_owner

    def W(self, name):
        if self.sd is None:
            return None
        if name not in self.sd:
            raise ValueError(f"state_dict: missing {name!r}")
        return self.sd[name]

    def I(self, name):  # noqa: E743 - "initial value"
        if self.iv is None:
            return None
        if name not in self.iv:
            raise ValueError(f"init: missing the initial value of {to_peft_name(name)!r}")
        return self.iv[name]

    def linear(self, path, fin, fout):
        s = self.s
        base = FrozenLinear(s, fin, fout, self.W(f"{path}.weight"), self.W(f"{path}.bias"), owner=self.owner, name=path)
        return self._wrap(path, base)

    def _wrap(self, path, base):
        """base, or a LoRALinear around it if ``path`` is a LoRA target."""
        s = self.s
        if not self.lora.targets(path):
            return base
        full = f"bert.{path}"
        return LoRALinear(s, base, self.lora.r, self.lora.alpha, self.lora.dropout, self.I(f"{full}.lora_A"),
                          self.I(f"{full}.lora_B"), owner=self.init_owner, name=full)

    def layer_norm(self, path):
        return LayerNorm(self.s, self.c.hidden_size, self.W(f"{path}.weight"), self.W(f"{path}.bias"),
                         eps=float(self.c.layer_norm_eps), owner=self.owner, name=path)

    def layer(self, i: int) -> BertLayer:
        """Encoder layer i (HF names encoder.layer.<i>.*)."""
        c, p = self.c, f"encoder.layer.{i}"
        d, inter, H = c.hidden_size, c.intermediate_size, c.num_attention_heads
        pdrop, adrop = float(c.hidden_dropout_prob), float(c.attention_probs_dropout_prob)
        qkv = [f"{p}.attention.self.{n}" for n in ("query", "key", "value")]
        fused = FusedFrozenLinear(self.s, d, (d, d, d), None if self.sd is None else [self.W(f"{n}.weight") for n in qkv],
                                  None if self.sd is None else [self.W(f"{n}.bias") for n in qkv], owner=self.owner,
                                  name=f"{p}.attention.self.qkv")
        sa = SelfAttention(*(self._wrap(n, fused.part(i)) for i, n in enumerate(qkv)), H, adrop)
        att = Attention(sa, ResidualOutput(self.linear(f"{p}.attention.output.dense", d, d),
                                           self.layer_norm(f"{p}.attention.output.LayerNorm"), pdrop))
        approx = "none" if getattr(c, "hidden_act", "gelu") == "gelu" else "tanh"
        it = Intermediate(self.linear(f"{p}.intermediate.dense", d, inter), approx)
        out = ResidualOutput(self.linear(f"{p}.output.dense", inter, d), self.layer_norm(f"{p}.output.LayerNorm"), pdrop)
        return BertLayer(att, it, out)


class PrivateBertClassifier(Module):
    """BertForSequenceClassification + LoRA on shares. Construction is SPMD: both parties
    call it with the same config/settings; party ``owner`` passes ``state_dict``, party
    ``init_owner`` passes ``init`` ({peft or our name: tensor} for every trainable value).

    config: a transformers BertConfig (or any object with its attributes).
    num_layers: use the first num_layers encoder layers (default: all).
    public_embeddings: relaxed option, both parties pass the embedding tables in ``public_tables``.
    build_embeddings=False: no embedding tables at all (no masking of the table, no weights
    needed for them): ``forward`` takes embeddings cached by an earlier ``prepare``."""

    def __init__(self, session, config, state_dict: dict | None = None, *, num_layers: int | None = None,
                 lora: LoraSettings = LoraSettings(), init: dict | None = None, init_owner: int = 0, owner: int = 1,
                 public_embeddings: bool = False, public_tables: dict | None = None, build_embeddings: bool = True,
                 mask_big: int = DEFAULT_MASK_BIG) -> None:
        super().__init__()
        c = config
        act = getattr(c, "hidden_act", "gelu")
        if act not in ("gelu", "gelu_new", "gelu_pytorch_tanh"):
            raise ValueError(f"config.hidden_act: {act!r} is not supported (gelu, gelu_new, gelu_pytorch_tanh)")
        self.session, self.config, self.lora_settings = session, c, lora
        self.owner, self.init_owner, self.mask_big = owner, init_owner, mask_big
        L = c.num_hidden_layers if num_layers is None else int(num_layers)
        if not 1 <= L <= c.num_hidden_layers:
            raise ValueError(f"num_layers: must be in 1..{c.num_hidden_layers}, got {num_layers!r}")
        self.num_layers = L
        d = c.hidden_size
        self.num_labels = int(c.num_labels)
        eps = float(c.layer_norm_eps)
        pdrop = float(c.hidden_dropout_prob)
        cdrop = getattr(c, "classifier_dropout", None)
        cdrop = pdrop if cdrop is None else float(cdrop)
        is_owner, is_init = session.party == owner, session.party == init_owner
        if is_owner and state_dict is None:
            raise ValueError(f"state_dict: party {owner} owns the weights and must pass them")
        if not is_owner and state_dict is not None:
            raise ValueError(f"state_dict: only party {owner} passes the weights")
        sd = _normalize_state_dict(state_dict) if is_owner else {}
        if is_init and init is None:
            raise ValueError(f"init: party {init_owner} must pass the initial adapter/classifier values")
        if not is_init and init is not None:
            raise ValueError(f"init: only party {init_owner} passes initial values")
        iv = {from_peft_name(k): v for k, v in (init or {}).items()}

        bld = LayerBuilder(session, c, sd if is_owner else None, iv if is_init else None, lora, owner, init_owner)
        W = bld.W
        if not build_embeddings:
            embeddings = CachedEmbeddingInput(pdrop)
        else:
            if public_embeddings:
                if public_tables is None:
                    raise ValueError("public_tables: both parties pass the embedding tables with public_embeddings=True")
                emb_w = {k: public_tables[f"embeddings.{k}"] for k in
                         ("word_embeddings.weight", "position_embeddings.weight", "token_type_embeddings.weight",
                          "LayerNorm.weight", "LayerNorm.bias")}
            else:
                emb_w = {k: W(f"embeddings.{k}") for k in ("word_embeddings.weight", "position_embeddings.weight",
                                                           "token_type_embeddings.weight", "LayerNorm.weight",
                                                           "LayerNorm.bias")} if is_owner else None
            if emb_w is not None:
                emb_w = {k.replace(".weight", "") if "embeddings" in k else k: v for k, v in emb_w.items()}
            embeddings = Embeddings(session, c.vocab_size, d, c.max_position_embeddings, c.type_vocab_size, emb_w, eps=eps,
                                    dropout=pdrop, owner=owner, public_table=public_embeddings)
        layers = [bld.layer(i) for i in range(L)]
        pooler = Pooler(bld.linear("pooler.dense", d, d))
        self.bert = BertBackbone(embeddings, Encoder(layers), pooler)
        self.dropout = Dropout(cdrop)
        self.classifier = Linear(session, d, self.num_labels, bld.I("classifier.weight"), bld.I("classifier.bias"),
                                 owner=init_owner, name="classifier")

    # -- data -----------------------------------------------------------------------------
    def prepare(self, input_ids=None, attention_mask=None, token_type_ids=None, *, shape):
        """Once per example/batch: (cached embeddings (B, T, d), shared attention mask (B, T)).
        The client passes its tokens and mask (default all ones); the server passes None.
        Both pass shape = (B, T). Cache the result and pass it to ``forward`` every step;
        rows can be regrouped with indexing and ``mpc.cat``."""
        s = self.session
        B, T = (int(v) for v in shape)
        if not isinstance(self.bert.embeddings, Embeddings):
            raise ValueError("prepare: this model was built with build_embeddings=False")
        emb = self.bert.embeddings.embed(input_ids, token_type_ids, shape=(B, T))
        client = 1 - self.owner
        m = None
        if s.party == client:
            m = torch.ones(B, T, dtype=torch.float64) if attention_mask is None else \
                torch.as_tensor(attention_mask).to(torch.float64).cpu()
            if tuple(m.shape) != (B, T) or not bool(((m == 0) | (m == 1)).all()):
                raise ValueError(f"attention_mask: expected 0/1 values of shape {(B, T)}")
        elif attention_mask is not None:
            raise ValueError(f"attention_mask: only party {client} (the client) passes it")
        with s.protocol("attention mask"):
            mask = mpc.share(s, None if m is None else m.to(s.device), owner=client, shape=(B, T))
        return emb, mask

    # -- forward / backward -----------------------------------------------------------------
    def forward(self, embeddings: SharedTensor, attention_mask: SharedTensor | None = None) -> SharedTensor:
        """Logits (B, num_labels) as a SharedTensor."""
        s = self.session
        with s.protocol("forward"):
            x = self.bert.embeddings(embeddings)
            mask_add = None if attention_mask is None else additive_mask(attention_mask, self.mask_big)
            h = self.bert.encoder(x, mask_add)
            return self.classifier(self.dropout(self.bert.pooler(h)))

    def backward(self, dlogits: SharedTensor, grad_scale_bits: int = 0) -> None:
        """Adds the gradients of every trainable Param (``.grad``) for the last forward.

        grad_scale_bits = k > 0: loss scaling. The backward runs on 2^k dlogits (an exact,
        local integer product) and the new gradients are divided by 2^k at the end (one
        truncation round for all of them together). Small gradients then keep k more bits
        over the fixed-point resolution 2^-f: on a MiniLM layer, an upstream gradient of
        std 0.01 gives ~3% relative error in the LoRA gradients without scaling and ~0.1%
        at 100x. Precondition: the scaled backward values stay inside the gates' domains
        and the product range (|values| < 2^10 is safe at the defaults)."""
        if isinstance(grad_scale_bits, bool) or not isinstance(grad_scale_bits, int) or not 0 <= grad_scale_bits <= 12:
            raise ValueError(f"grad_scale_bits: must be an integer in 0..12, got {grad_scale_bits!r}")
        s = self.session
        params = self.parameters()
        before = {n: p.grad for n, p in params.items()}
        if grad_scale_bits:
            for p in params.values():
                p.grad = None
            dlogits = dlogits * (1 << grad_scale_bits)
        with s.protocol("backward"):
            g = self.dropout.backward(self.classifier.backward(dlogits))
            g = self.bert.pooler.backward(g)
            self.bert.encoder.backward(g, need_input_grad=False)
            if grad_scale_bits:
                names = list(params)
                flat = mpc.cat([params[n].grad.reshape(-1) for n in names]) * (1.0 / (1 << grad_scale_bits))
                i = 0
                for n in names:
                    p = params[n]
                    k = p.value.numel()
                    p.grad = flat[i:i + k].reshape(*p.value.shape)
                    i += k
                    if before[n] is not None:
                        p.grad = p.grad + before[n]

    # -- adapters ------------------------------------------------------------------------
    def trainable(self, style: str = "peft") -> dict:
        """{name: Param} of every trainable parameter. style="peft": peft's saved-adapter
        names (base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight,
        base_model.model.classifier.weight); "canonical": the same without the
        "base_model.model." prefix."""
        if style not in ("peft", "canonical"):
            raise ValueError(f"style: must be 'peft' or 'canonical', got {style!r}")
        cut = 0 if style == "peft" else len(PEFT_PREFIX)
        return {to_peft_name(k)[cut:]: p for k, p in self.parameters().items()}

    def export_adapters(self, reveal_to: int | None = None) -> dict | None:
        """The trainable values as plaintext float tensors with peft's saved-adapter names,
        revealed to party ``reveal_to`` (None: both). The other party gets None."""
        if reveal_to not in (None, 0, 1):
            raise ValueError(f"reveal_to: must be 0, 1 or None, got {reveal_to!r}")
        s = self.session
        out = {}
        with s.protocol("export adapters"):
            for name, p in self.trainable().items():
                v = p.value.reveal(to=reveal_to)
                if v is not None:
                    out[name] = v.to(torch.float32).cpu()
        return out if (reveal_to is None or s.party == reveal_to) else None
