"""Forward-only private tuning (SecP-Tuning, Luo et al. 2025, arXiv:2506.15307).

The client (party 0, data owner) tunes a low-dimensional vector z that a fixed PUBLIC random
projection maps to soft-prompt embeddings; a derivative-free optimizer (CMA-ES from the
``cma`` package, or SPSA/MeZO) runs in plaintext at the client. Each generation the whole
population is evaluated in ONE batched private forward pass of the server's frozen BERT on
shares (candidates stacked along the batch dimension); the logits are revealed to the client
only, which computes the loss and tells the optimizer. No backward pass, no optimizer on
shares. Attention is softmax or random-feature attention (nn/rfa_attention.py).

Modules: config (ForwardOnlyConfig), prompt (projection, prompt insertion), optimizers
(CMA-ES, SPSA), population (batched forward, private and plaintext), loop (the tuning loop
shared by both runs), session (the SPMD program of the private run), run (the command),
measure (forward-only vs gradient step, softmax vs RFA). Security argument: docs/forward_only.md.
"""
