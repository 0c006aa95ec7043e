"""fsskernels.nn: layers on secret shares with explicit forward and backward, and the BERT
sequence classifier with LoRA assembled from a Hugging Face config and weights.

    from fsskernels import nn
    model = nn.PrivateBertClassifier(session, config, state_dict_or_None, num_layers=2,
                                     lora=nn.LoraSettings(r=8, alpha=16), init=init_or_None)
    emb, mask = model.prepare(input_ids_or_None, attention_mask_or_None, shape=(B, T))  # once per example
    logits = model.forward(emb, mask); loss = ce.forward(logits, labels)
    model.backward(ce.backward()); grads = {n: p.grad for n, p in model.trainable().items()}

Layers talk to the other party only through the runtime (fsskernels.mpc) and the gates
(fsskernels.mpc.functional). ``nn.twin`` has the plaintext float64 twin. See docs/nn.md.
"""
from __future__ import annotations

from .attention import SelfAttention, additive_mask
from .bert import LayerBuilder, PrivateBertClassifier
from .bert_layer import Attention, BertLayer, Encoder, Intermediate, ResidualOutput
from .embedding import Embeddings, dpf_one_hot
from .gates import use_gates
from .layers import GELU, Dropout, LayerNorm, Tanh
from .linear import FrozenLinear, FrozenSlice, FusedFrozenLinear, Linear, LoRALinear
from .lora_config import LoraSettings, from_peft_name, to_peft_name
from .loss import CrossEntropy, share_labels
from .module import Module, Param, Sequence

__all__ = [
    "Attention", "BertLayer", "CrossEntropy", "Dropout", "Embeddings", "Encoder", "FrozenLinear", "FrozenSlice", "FusedFrozenLinear", "GELU",
    "Intermediate", "LayerBuilder", "LayerNorm", "Linear", "LoRALinear", "LoraSettings", "Module", "Param", "PrivateBertClassifier",
    "ResidualOutput", "SelfAttention", "Sequence", "Tanh", "additive_mask", "dpf_one_hot", "from_peft_name",
    "share_labels", "to_peft_name", "use_gates",
]
