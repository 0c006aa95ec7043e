"""Secure aggregation of locally trained LoRA updates (docs/federated.md).

Clients fine-tune in plaintext, secret-share their weighted adapter updates over Z_2^64 to two
non-colluding aggregators (one share as a sealed 16-byte AES-CTR seed), and only the weighted sum
and the total weight are revealed. Modules:

- ``shares``: client-side encoding and sharing; ``aggregator``: the two sums, reveal, FedAvg;
- ``sealing``: the seed sealed to aggregator 0 (X25519 + HKDF + AES-GCM);
- ``service`` / ``remote``: aggregator 0 in process or behind a socket;
- ``sparse``: pruning before sharing (public pattern); ``topk_shares``: top-k on shares (hidden
  pattern, MF gates); ``hetero``: heterogeneous ranks (products B A, truncated SVD);
- ``flower``: ``SecureFedAvg`` strategy and ``secure_share_mod`` client mod (flwr 1.42);
- ``lora``, ``data``, ``app``, ``cli``, ``deploy``: MiniLM clients, shards, Flower apps, the
  ``fsskernels federated`` command and the deployment apps.

Heavy dependencies (flwr, transformers, peft, cryptography) are imported lazily by the modules
that need them.
"""
from .aggregator import AggregationError, MaskedAggregator, SeedAggregator, aggregate_round, fedavg, reveal
from .shares import ClientShares, encode_weighted, expand_seed, share_update, share_vector

__all__ = ["AggregationError", "ClientShares", "MaskedAggregator", "SeedAggregator", "aggregate_round",
           "encode_weighted", "expand_seed", "fedavg", "reveal", "share_update", "share_vector"]
