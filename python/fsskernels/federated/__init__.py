"""Secure aggregation of federated LoRA updates (see docs/federated.md)."""
