"""The second forward-only target: LoRA adapters from z (one adapter set per candidate).

``LoraProjection``: flat(z) = z @ Q with a PUBLIC seeded Q (z_dim x n), N(0, scale^2 / z_dim)
entries, cut into A (r x d_in) and B (d_out x r) for every target module (query/value of each
layer, in layer order); the adapter adds (x A^T) B^T (scaling 1: the projection's scale plays
alpha / r). z = 0 gives the frozen model.
``PopulationAdapter``: stands where a LoRALinear stands (subclass, so SelfAttention's fused q/k/v
path and RFA add its ``adapter_forward``), around the frozen base; before each forward the
caller sets shared A (K, r, d_in) and B (K, d_out, r) for the K candidates; rows of x are
candidate-major (row k * B + b, as the population batch is built), so the adapter is two
batched Beaver matrix products: (K, B*T, d_in) @ A_k^T @ B_k^T. Forward only.
``install(model, r, targets)``: wraps the target modules of every layer; returns the adapters
in projection order. The client shares all K flat vectors in one ``share`` call.
Security: as for the prompt target: A, B exist in plaintext only at the client; the server
holds uniform shares and sees masked openings of the products.
"""
from __future__ import annotations

import math

import torch

from ...mpc.tensor import SharedTensor
from ...nn.linear import LoRALinear
from ...nn.module import Module


class LoraProjection:
    def __init__(self, z_dim: int, shapes: list, seed: int, scale: float = 0.1) -> None:
        """shapes: [(r, d_in, d_out)] per adapted module, in order."""
        if z_dim < 1:
            raise ValueError(f"z-dim: must be >= 1, got {z_dim}")
        self.z_dim, self.shapes = int(z_dim), [tuple(int(v) for v in s) for s in shapes]
        self.size = sum(r * di + do * r for r, di, do in self.shapes)
        g = torch.Generator().manual_seed(int(seed) + 77)  # csprng-ok: Q is public (a fixed random projection)
        self.Q = torch.randn(z_dim, self.size, generator=g,  # csprng-ok: public projection
                             dtype=torch.float64) * (scale / math.sqrt(z_dim))

    def flat(self, Z) -> torch.Tensor:
        Z = torch.as_tensor(Z, dtype=torch.float64)
        if Z.ndim != 2 or Z.shape[1] != self.z_dim:
            raise ValueError(f"Z: expected (population, {self.z_dim}), got {tuple(Z.shape)}")
        return Z @ self.Q

    def split(self, flat):
        """[(A (K, r, d_in), B (K, d_out, r))] per module from (K, size) (plaintext or shared)."""
        out, i = [], 0
        K = flat.shape[0]
        for r, di, do in self.shapes:
            A = flat[:, i:i + r * di].reshape(K, r, di)
            i += r * di
            B = flat[:, i:i + do * r].reshape(K, do, r)
            i += do * r
            out.append((A, B))
        return out


class PopulationAdapter(LoRALinear):
    fuses_truncation = False  # its adapter_forward/backward replace LoRALinear's

    def __init__(self, base: Module, r: int) -> None:
        Module.__init__(self)  # no Params: the adapters are per-candidate inputs, set by ``set``
        self.base = base
        self.r, self.alpha, self.p, self.scaling = int(r), float(r), 0.0, 1.0
        object.__setattr__(self, "_AB", None)

    def set(self, A: SharedTensor, B: SharedTensor) -> None:
        object.__setattr__(self, "_AB", (A, B))

    def adapter_forward(self, x: SharedTensor) -> SharedTensor:
        if self._AB is None:
            raise ValueError("adapters: set the candidates' A and B before the forward")
        A, B = self._AB
        K = A.shape[0]
        shp = tuple(x.shape)
        if shp[0] % K:
            raise ValueError(f"x: {shp[0]} rows are not a multiple of the population {K}")
        xk = x.reshape(K, -1, shp[-1])
        y = (xk @ A.transpose(-1, -2)) @ B.transpose(-1, -2)
        return y.reshape(*shp[:-1], B.shape[1])

    def forward(self, x: SharedTensor) -> SharedTensor:
        return self.base(x) + self.adapter_forward(x)

    def backward(self, g, need_input_grad: bool = True):
        raise ValueError("adapters: the forward-only LoRA target has no backward")

    def adapter_backward(self, g, need_input_grad: bool = True):
        raise ValueError("adapters: the forward-only LoRA target has no backward")


def install(model, r: int, targets) -> list:
    """Wrap the target modules (names among query/key/value) of every encoder layer of a
    PrivateBertClassifier built without LoRA. Returns [(layer, name, adapter)] in order."""
    out = []
    for i, layer in enumerate(model.bert.encoder.layer):
        sa = getattr(layer.attention, "self")
        for n in ("query", "key", "value"):
            if n in targets:
                ad = PopulationAdapter(getattr(sa, n), r)
                setattr(sa, n, ad)
                out.append((i, n, ad))
    return out


def shapes_for(hf_config, layers: int, r: int, targets) -> list:
    d = hf_config.hidden_size
    return [(r, d, d) for _ in range(layers) for n in ("query", "key", "value") if n in targets]


def twin_names(layers: int, targets) -> list:
    """peft-style names of the twin's LoRA tensors, in projection order."""
    return [(f"bert.encoder.layer.{i}.attention.self.{n}.lora_A", f"bert.encoder.layer.{i}.attention.self.{n}.lora_B")
            for i in range(layers) for n in ("query", "key", "value") if n in targets]
