"""One BERT encoder layer on shares (Devlin et al. 2019; HF BertLayer, post-LayerNorm):

    a = LayerNorm_1(dropout(dense_o(SelfAttention(x, mask))) + x)        (BertAttention)
    y = LayerNorm_2(dropout(dense_2(gelu(dense_1(a)))) + a)              (Intermediate, Output)

Module names follow transformers (attention.self.query, attention.output.dense,
intermediate.dense, output.dense, ...), so ``parameters()`` names map to peft's names.
Backward is the reverse chain; residual gradients add (local).
"""
from __future__ import annotations

from ..mpc.tensor import SharedTensor
from .layers import GELU, Dropout, LayerNorm
from .module import Module


class ResidualOutput(Module):
    """HF BertSelfOutput / BertOutput: LayerNorm(dropout(dense(h)) + residual)."""

    def __init__(self, dense: Module, layer_norm: LayerNorm, dropout: float = 0.0) -> None:
        super().__init__()
        self.dense = dense
        self.dropout = Dropout(dropout)
        self.LayerNorm = layer_norm

    def forward(self, h: SharedTensor, residual: SharedTensor) -> SharedTensor:
        return self.LayerNorm(self.dropout(self.dense(h)) + residual)

    def backward(self, g: SharedTensor):
        """Returns (grad of h, grad of residual)."""
        gs = self.LayerNorm.backward(g)
        return self.dense.backward(self.dropout.backward(gs)), gs


class Attention(Module):
    """HF BertAttention: ``self`` (SelfAttention) then ``output`` (ResidualOutput)."""

    def __init__(self, self_attention: Module, output: ResidualOutput) -> None:
        super().__init__()
        setattr(self, "self", self_attention)
        self.output = output

    def forward(self, x: SharedTensor, mask_add=None) -> SharedTensor:
        return self.output(getattr(self, "self")(x, mask_add), x)

    def backward(self, g: SharedTensor, need_input_grad: bool = True) -> SharedTensor | None:
        gh, gres = self.output.backward(g)
        dx = getattr(self, "self").backward(gh, need_input_grad)
        return dx + gres if need_input_grad else None


class Intermediate(Module):
    """HF BertIntermediate: act(dense(x)), act = GELU (erf form for hidden_act="gelu")."""

    def __init__(self, dense: Module, approximate: str = "none") -> None:
        super().__init__()
        self.dense = dense
        self.act = GELU(approximate)

    def forward(self, x: SharedTensor) -> SharedTensor:
        return self.act(self.dense(x))

    def backward(self, g: SharedTensor) -> SharedTensor:
        return self.dense.backward(self.act.backward(g))


class BertLayer(Module):
    def __init__(self, attention: Attention, intermediate: Intermediate, output: ResidualOutput) -> None:
        super().__init__()
        self.attention = attention
        self.intermediate = intermediate
        self.output = output

    def forward(self, x: SharedTensor, mask_add=None) -> SharedTensor:
        a = self.attention(x, mask_add)
        return self.output(self.intermediate(a), a)

    def backward(self, g: SharedTensor, need_input_grad: bool = True) -> SharedTensor | None:
        gh, ga = self.output.backward(g)
        return self.attention.backward(self.intermediate.backward(gh) + ga, need_input_grad)


class Encoder(Module):
    """HF BertEncoder: ``layer.0``, ``layer.1``, ... applied in order."""

    def __init__(self, layers) -> None:
        super().__init__()
        from .module import Sequence

        self.layer = Sequence(*layers)

    def forward(self, x: SharedTensor, mask_add=None) -> SharedTensor:
        for lyr in self.layer:
            x = lyr(x, mask_add)
        return x

    def backward(self, g: SharedTensor, need_input_grad: bool = True) -> SharedTensor | None:
        """need_input_grad=False skips what only the encoder's input gradient needs in the
        first layer (the embeddings are frozen)."""
        layers = list(self.layer)
        for i in reversed(range(len(layers))):
            g = layers[i].backward(g, need_input_grad or i > 0)
        return g
