"""BERT embeddings on shares: word + position + token type, then LayerNorm (and dropout).

Secrecy: the client's (party 0) token ids and token types stay secret; the server's
(party 1) tables stay secret. Design (DESIGN.md: "computed once per example and reused
across epochs; never O(vocabulary) bytes per token per step"), option (a) of the issue:

1. Once per run (construction): the server's table T = [word (V x d); token_type (n_t x d)]
   is frozen in owner mode (``mpc.freeze_owned``) in a 26-bit ring (TABLE_RING_BITS; the
   owner checks |T| < 64): the client receives F = T - Bmask once, L/8 (V + n_t) d bytes
   (MiniLM, L = 26: 3.25 * 30,524 * 384 = 38,093,952 bytes, 1 message).
2. Once per example (``embed``): one-hot rows (V + n_t wide: the token's and its type's)
   multiply the frozen table, ``hot @ F`` (the runtime's owner-mode frozen product):
   - ``one_hot="share"`` (default): the client knows its tokens, so it secret-shares its own
     one-hot rows (``mpc.share``: one 88-byte seed message per chunk of 64 tokens);
   - ``one_hot="dpf"``: the token ids are shared (e.g. produced by another computation): the
     dealer's DPF keys for a random point r per token (Boyle-Gilboa-Ishai 2016), the parties
     open y = x - r mod 2^v (v = ceil(log2 V) bits per token each way), evaluate their keys on
     the whole domain and rotate by y (f_r(j - y) = [j == x]); dealer bytes: one DPF key per
     token and party; compute: 2^v PRG leaves per token and party.
   The one-hot rows are fixed point with one fractional bit, so the product T[t] * 2^(f+1) is
   exact and below 2^24 ring units: the ring is 26 bits instead of mul_bits (54), and the
   truncation by that one bit lifts the row to the 64-bit ring. The frozen product costs, per
   token, L/8 (V + n_t) bytes for the masked one-hot share and L/8 d for the masked product
   (client -> server, one message) plus the truncation answer (server -> client, 2 bits per
   output element: 2/8 d bytes). MiniLM (V = 30,522, n_t = 2, d = 384, L = 26): 99,203 +
   1,248 + 96 = 100,547 bytes per token (2.08x less than in the mul_bits ring), 2 rounds per
   chunk, ONCE per example; then the position rows (server's, shared once per
   call: 88 bytes) are added and the LayerNorm gate applied. The output is what the caller
   caches: every later step (epochs) uses it at no cost (``forward`` only applies dropout).
3. Relaxed option ``public_table=True``: both parties know the tables (a public checkpoint);
   the one-hot rows multiply them locally (``matmul_public``: one truncation round, L/8 d
   bytes per token each way). This reveals the embedding tables by definition: say so.

Not done (documented alternative, option (b) of the issue): a two-server-PIR lookup where the
client is the DPF dealer for its own token and the server and the dealer each evaluate their
key against the mask of F, O(log V + d) bytes per token. It needs a client-to-dealer query
message that the runtime's dealer does not accept (the dealer only serves (kind, spec)
requests both parties agree on); it would also make the dealer an online party of every
lookup.

Errors: ValueError for token ids outside [0, V), token types outside [0, n_t), sequence
longer than max_position_embeddings, bad shapes.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import mpc
from ..fss import dpf_eval_all
from ..mpc.tensor import SharedTensor
from .layers import Dropout, LayerNorm
from .module import Module

CHUNK_TOKENS = 64  # one-hot rows evaluated per DPF batch (memory: CHUNK_TOKENS * 2^v * 8 bytes)
# The one-hot rows are fixed point with ONE fractional bit (1.0 = 2) and the frozen table product
# runs in a 26-bit ring: the product is T[t] * 2^(f+1), exact, below 2^24 ring units while
# |T| < 2^(24 - f - 1) (128 at f = 16); the owner checks |T| < TABLE_BOUND before masking.
# The truncation by the one fractional bit lifts the result to the 64-bit ring.
HOT_FRAC_BITS = 1
TABLE_RING_BITS = 26
TABLE_BOUND = 64.0


def dpf_one_hot(session, x: SharedTensor, domain_bits: int, width: int) -> SharedTensor:
    """Shares of one_hot(x_i)[:width] (ring integers, frac_bits 0) for shared ring-integer
    x (flattened, values in [0, width), width <= 2^domain_bits): shape (x.numel(), width).
    One round: domain_bits bits per element each way."""
    s = session
    n, mask = x.numel(), (1 << domain_bits) - 1
    keys, r = mpc.fss_keys(s, "dpf", (n,), domain_bits, 64)
    (y,) = s.open([(x.share.reshape(-1) - r) & mask], domain_bits)
    full = dpf_eval_all(s.party, keys)
    idx = (np.arange(width, dtype=np.int64)[None, :] - y.cpu().numpy()[:, None]) & mask
    rows = np.take_along_axis(full, idx, axis=1)
    return SharedTensor(s, torch.from_numpy(np.ascontiguousarray(rows).view(np.int64)).to(s.device), 0)


class Embeddings(Module):
    """HF BertEmbeddings. The server (``owner``) passes ``weights`` = {"word_embeddings",
    "position_embeddings", "token_type_embeddings", "LayerNorm.weight", "LayerNorm.bias"}
    (torch tensors); the client passes None. Shapes come from vocab_size, hidden,
    max_positions, type_vocab_size."""

    def __init__(self, session, vocab_size: int, hidden: int, max_positions: int, type_vocab_size: int,
                 weights: dict | None = None, *, eps: float = 1e-12, dropout: float = 0.0, owner: int = 1,
                 public_table: bool = False, one_hot: str = "share") -> None:
        super().__init__()
        if one_hot not in ("share", "dpf"):
            raise ValueError(f"one_hot: must be 'share' or 'dpf', got {one_hot!r}")
        self.one_hot = one_hot
        self.session = session
        self.V, self.d, self.P, self.n_types = int(vocab_size), int(hidden), int(max_positions), int(type_vocab_size)
        self.owner, self.public_table = owner, bool(public_table)
        self.domain_bits = max(1, (self.V - 1).bit_length())
        if self.domain_bits > 24:
            raise ValueError(f"vocab_size: {vocab_size} is above the DPF full-domain limit 2^24")
        mine = session.party == owner or public_table
        if mine and weights is None:
            raise ValueError("weights: the embedding tables are needed at the owner (or at both parties for public_table)")
        if not mine and weights is not None:
            raise ValueError(f"weights: only party {owner} passes the embedding tables")
        w = {k: torch.as_tensor(v, dtype=torch.float64).detach().cpu() for k, v in (weights or {}).items()}
        if mine:
            for key, shape in (("word_embeddings", (self.V, self.d)), ("token_type_embeddings", (self.n_types, self.d)),
                               ("position_embeddings", (self.P, self.d))):
                if key not in w or tuple(w[key].shape) != shape:
                    raise ValueError(f"weights[{key!r}]: expected a tensor of shape {shape}")
        table_shape = (self.V + self.n_types, self.d)
        if mine and not public_table:
            for key in ("word_embeddings", "token_type_embeddings"):
                if not bool(torch.isfinite(w[key]).all()) or float(w[key].abs().max()) >= TABLE_BOUND:
                    raise ValueError(f"weights[{key!r}]: entries must be finite and below {TABLE_BOUND:g} in magnitude "
                                     f"(the lookup's {TABLE_RING_BITS}-bit ring)")
        ring = TABLE_RING_BITS if session.frac_bits + HOT_FRAC_BITS + 9 <= TABLE_RING_BITS else None
        if public_table:
            self.table = torch.cat([w["word_embeddings"], w["token_type_embeddings"]]).to(session.device)
            self.positions = w["position_embeddings"].to(session.device)
        else:
            with session.protocol("embedding table (once)"):
                tab = torch.cat([w["word_embeddings"], w["token_type_embeddings"]]).to(session.device) if mine else None
                self.table = mpc.freeze_owned(session, tab, owner=owner, shape=table_shape, bits=ring)
            self.positions = w.get("position_embeddings")  # owner only; shared per sequence length
        self._hot_frac = HOT_FRAC_BITS if ring is not None else session.frac_bits
        self.LayerNorm = LayerNorm(session, self.d, w.get("LayerNorm.weight"), w.get("LayerNorm.bias"), eps=eps,
                                   owner=owner, public=public_table, name="embeddings.LayerNorm")
        self.dropout = Dropout(dropout)

    def _positions(self, T: int) -> SharedTensor | torch.Tensor:
        if T > self.P:
            raise ValueError(f"shape: sequence length {T} exceeds max_position_embeddings {self.P}")
        if self.public_table:
            return self.positions[:T]
        s = self.session
        return mpc.share(s, self.positions[:T].contiguous().to(s.device) if s.party == self.owner else None,
                         owner=self.owner, shape=(T, self.d))

    def embed(self, input_ids=None, token_type_ids=None, *, shape) -> SharedTensor:
        """The shared embedding output (after LayerNorm, before dropout), (B, T, d): compute
        once per example and cache. The client (party 0) passes ``input_ids`` (B, T) int
        and optionally ``token_type_ids`` (default zeros); the server passes None. Both pass
        ``shape`` = (B, T)."""
        s = self.session
        B, T = (int(d) for d in shape)
        client = 1 - self.owner
        if s.party == client:
            if input_ids is None:
                raise ValueError(f"input_ids: party {client} (the client) must pass its tokens")
            ids = torch.as_tensor(input_ids).to(torch.int64).cpu()
            if tuple(ids.shape) != (B, T):
                raise ValueError(f"input_ids: expected shape {(B, T)}, got {tuple(ids.shape)}")
            if ids.numel() and (ids.min() < 0 or ids.max() >= self.V):
                raise ValueError(f"input_ids: token ids must be in [0, {self.V})")
            tt = torch.zeros(B, T, dtype=torch.int64) if token_type_ids is None else \
                torch.as_tensor(token_type_ids).to(torch.int64).cpu()
            if tuple(tt.shape) != (B, T):
                raise ValueError(f"token_type_ids: expected shape {(B, T)}, got {tuple(tt.shape)}")
            if tt.numel() and (tt.min() < 0 or tt.max() >= self.n_types):
                raise ValueError(f"token_type_ids: must be in [0, {self.n_types})")
            tt_hot = torch.nn.functional.one_hot(tt.reshape(-1), self.n_types).to(torch.float64)
        else:
            if input_ids is not None or token_type_ids is not None:
                raise ValueError(f"input_ids: only party {client} (the client) passes tokens")
            ids = tt_hot = None
        n, W = B * T, self.V + self.n_types
        hf = s.frac_bits if self.public_table else self._hot_frac
        with s.protocol("embedding"):
            rows = []
            if self.one_hot == "dpf":
                x = mpc.share(s, ids.to(s.device) if ids is not None else None, owner=client, shape=(B, T))
                tth = mpc.share(s, tt_hot.to(s.device) if tt_hot is not None else None, owner=client,
                                shape=(n, self.n_types), frac_bits=hf)
                flat = x.reshape(-1)
            for i in range(0, n, CHUNK_TOKENS):
                j = min(n, i + CHUNK_TOKENS)
                if self.one_hot == "dpf":
                    hot = dpf_one_hot(s, flat[i:j], self.domain_bits, self.V)
                    hot = SharedTensor(s, hot.share << hf, hf)  # 0/1 ring integers -> fixed point, local and exact
                    hot = mpc.cat([hot, tth[i:j]], dim=1)
                else:  # the client shares its own one-hot rows: one 88-byte message per chunk
                    mine = None
                    if ids is not None:
                        mine = torch.zeros(j - i, W, dtype=torch.float64)
                        mine[torch.arange(j - i), ids.reshape(-1)[i:j]] = 1.0
                        mine[:, self.V:] = tt_hot[i:j]
                        mine = mine.to(s.device)
                    hot = mpc.share(s, mine, owner=client, shape=(j - i, W), frac_bits=hf)
                rows.append(hot.matmul_public(self.table) if self.public_table else hot @ self.table)
            emb = mpc.cat(rows, 0).reshape(B, T, self.d) + self._positions(T)
            return self.LayerNorm(emb)

    def forward(self, cached: SharedTensor) -> SharedTensor:
        """Dropout on the cached embedding output (training mode); identity otherwise."""
        return self.dropout(cached)

    def backward(self, g: SharedTensor) -> SharedTensor:
        """The tables are frozen: nothing to update; returns the gradient w.r.t. the cached
        embedding (unused by training)."""
        return self.dropout.backward(g)
