"""``fsskernels finetune --method forward-only``: the command (local mode: both parties as
threads of this process with an in-process dealer, beside the plaintext run of the same method).

Steps: the client's data (the usual split, or ``--shots`` per class), tokenized; the server's
truncated model and head (the classifier initialised by peft's seeded init, as in the gradient
command); the plaintext forward-only run (float64 twin, same projection, optimizer seed, batch
order, RFA matrices); the private run (session.run_party); optionally (``--compare``) a few
gradient-based private LoRA steps on the same data (compare.py); then the same table, JSON log
(``finetune_log.json``) and plots (``loss.png``, ``accuracy.png``) as the gradient command,
plus a forward-only section. Role mode (three processes) is not offered for this method.
"""
from __future__ import annotations

import dataclasses
import pathlib
import sys
import time

import torch

from ... import mpc
from .. import hf, report
from .. import run as ft_run
from ..data import load_dataset, split
from .config import ForwardOnlyConfig
from .data import few_shot
from .plain import run_plain
from .session import PartyInputs, run_party


def config_from_args(args) -> ForwardOnlyConfig:
    return ForwardOnlyConfig(population=args.population, z_dim=args.z_dim, prompt_len=args.prompt_len,
                             generations=args.generations, batch_size=args.batch_size, optimizer=args.optimizer_fo,
                             sigma0=args.sigma0, attention=args.attention, rfa_features=args.rfa_features,
                             shots=args.shots, seed=args.seed, target=args.fo_target, lora_r=args.lora_r,
                             lora_targets=tuple(t.strip() for t in args.target_modules.split(",") if t.strip())).check()


def _bar(total, desc, quiet):
    if quiet:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="gen", file=sys.stderr, dynamic_ncols=True)


def client_data(cfg, fo, mdir):
    ds = load_dataset(cfg.dataset, cfg.num_labels)
    if fo.shots is not None:
        train, evals = few_shot(ds, fo.shots, cfg.eval_size, cfg.seed)
    else:
        train, evals = split(ds, cfg.train_size, cfg.eval_size, cfg.seed)
    if fo.batch_size > len(train):
        raise ValueError(f"batch-size: {fo.batch_size} exceeds the {len(train)} training examples")
    tok = hf.load_tokenizer(mdir)
    tr = hf.tokenize(tok, train.texts, cfg.seq_len) + (torch.tensor(train.labels, dtype=torch.int64),)
    ev = hf.tokenize(tok, evals.texts, cfg.seq_len) + (torch.tensor(evals.labels, dtype=torch.int64),)
    return ds, tr, ev


def server_model(cfg, mdir, num_labels):
    """(frozen state dict with the classifier head, gradient-path init) from peft's seeded init."""
    _pm, sd, init = ft_run.server_inputs(cfg, mdir, num_labels)
    full = dict(sd)
    for k in ("classifier.weight", "classifier.bias"):
        full[k] = init[f"base_model.model.{k}"].to(torch.float64)
    return full, sd, init


def _gen_bar(bar, tag):
    def on_gen(g, log):
        if bar is not None:
            bar.update(1)
            post = {"loss": f"{log['losses'][-1]:.4f}"} if log["losses"] else {}
            if log["step_bytes"]:
                post.update(s=f"{log['step_seconds'][-1]:.1f}", MB=f"{log['step_bytes'][-1] / 1e6:.1f}")
            bar.set_postfix(**post)
    return on_gen


def run_command(args) -> int:
    from ..cli import config_from_args as train_config

    if args.role != "local":
        raise ValueError("role: --method forward-only runs in one process (--role local) only")
    if args.federated:
        raise ValueError("federated: not available with --method forward-only")
    fo = config_from_args(args)
    cfg = train_config(args)
    torch.set_num_threads(max(1, args.threads))
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_all = time.perf_counter()
    mdir = hf.resolve_model_dir(cfg.model)
    ds, tr, ev = client_data(cfg, fo, mdir)
    hcfg = ft_run.public_config(mdir, cfg.layers, ds.num_labels)
    full_sd, sd, init = server_model(cfg, mdir, ds.num_labels)
    n_train, n_eval = len(tr[2]), len(ev[2])
    summary = {"method": "forward-only", "config": cfg.to_json(), "forward_only": fo.to_json(),
               "dataset": {"source": ds.source, "sha256": ds.sha256, "labels": ds.label_names, "train": n_train,
                           "eval": n_eval, "shots": fo.shots},
               "model": str(mdir), "dealer": "in-process (seeded, INSECURE test mode)" if args.dealer_seed is not None
               else "in-process, OS CSPRNG"}
    twin = None
    if not args.no_twin:
        bar = _bar(fo.generations, "plaintext (forward-only)", args.quiet)
        pl = run_plain(fo, hcfg, full_sd, cfg.layers, tr, ev, on_gen=_gen_bar(bar, "plain"))
        if bar:
            bar.close()
        twin = {"losses": pl["losses"], "best_losses": pl["best_losses"], "acc_before": pl["acc_before"],
                "acc_after": pl["acc_after"], "eval_acc": [pl["acc_before"], pl["acc_after"]], "seconds": pl["seconds"]}
    inp = [PartyInputs(fo, hcfg, cfg.layers, n_train, n_eval, cfg.seq_len) for _ in range(2)]
    c = inp[0]
    c.train_ids, c.train_mask, c.train_labels = tr
    c.eval_ids, c.eval_mask, c.eval_labels = ev
    inp[1].state_dict = full_sd
    bar = _bar(fo.generations, "private (shares)", args.quiet)
    on_gen = _gen_bar(bar, "private")
    t0 = time.perf_counter()
    r0, r1 = mpc.run_local(lambda s: run_party(s, inp[s.party], on_gen=on_gen if s.party == 0 else None),
                           seed=args.dealer_seed, timeout=args.timeout, device=args.device)
    if bar:
        bar.close()
    seconds = time.perf_counter() - t0
    summary["private"] = private_summary(r0, r1, seconds)
    summary["twin"] = twin
    if args.compare:
        from .compare import compare_gradient

        summary["compare"] = compare_gradient(dataclasses.replace(cfg, train_size=n_train, eval_size=n_eval), hcfg,
                                              sd, init, tr, ev, summary["private"], fo, quiet=args.quiet,
                                              timeout=args.timeout)
    summary["adapters_revealed_to"] = "nobody (forward-only: the prompt z stays with the client)"
    summary["total_seconds"] = time.perf_counter() - t_all
    summary["peak_rss_mb"] = ft_run.peak_rss_mb()
    report.write_json(out / "finetune_log.json", summary)
    pngs = report.plot(out, summary)
    # the gradient command's table; its right column is the plaintext run of this same method here
    print(report.table(summary).replace("plaintext twin (peft)", "plaintext (same method)"))
    print(fo_table(summary))
    print(f"\nlog: {out / 'finetune_log.json'}  plots: {', '.join(str(p) for p in pngs)}")
    print("logits and losses revealed to: the client only; "
          "z and the candidates' prompts/adapters never leave the client")
    return 0


def by_kind(protocols: dict) -> dict:
    """report.by_kind with two more groups first: RFA's gates and the candidates' sharing."""
    rest, out = {}, {}
    for lab, c in protocols.items():
        low = lab.lower()
        kind = ("attention (random features, RFA)" if "rfa" in low.split("/") else
                "candidates (prompt / adapter shares)" if "candidates" in low.split("/") else None)
        if kind is None:
            rest[lab] = c
            continue
        e = out.setdefault(kind, {"bytes": 0, "rounds": 0})
        e["bytes"] += int(c.get("bytes", 0))
        e["rounds"] += int(c.get("rounds", 0))
    for k, v in report.by_kind(rest).items():
        e = out.setdefault(k, {"bytes": 0, "rounds": 0})
        e["bytes"] += v["bytes"]
        e["rounds"] += v["rounds"]
    return out


def private_summary(r0, r1, seconds) -> dict:
    st = r0["stats"]
    protocols = st["protocols"]
    steps_s, steps_b, steps_r = r0["step_seconds"], r0["step_bytes"], r0["step_rounds"]
    prep = r0["prepare"]
    phases = {"prepare (embeddings, masks, once)": {"seconds": prep["seconds"], "bytes": prep["bytes"],
                                                    "rounds": prep["rounds"]},
              "generations (batched forward)": {"seconds": sum(steps_s), "bytes": sum(steps_b), "rounds": sum(steps_r)}}
    tot = st["total"]
    phases["eval (forward on held-out set)"] = {
        "seconds": max(0.0, seconds - sum(steps_s) - r0["prepare"]["seconds"]),
        "bytes": tot["bytes"] - sum(steps_b) - r0["prepare"]["bytes"],
        "rounds": tot["rounds"] - sum(steps_r) - r0["prepare"]["rounds"]}
    n = max(1, len(steps_s))
    return {"losses": r0["losses"], "best_losses": r0["best_losses"], "step_seconds": steps_s, "step_bytes": steps_b,
            "step_rounds": steps_r, "acc_before": None, "acc_after": r0["acc_after"], "seconds": seconds,
            "bytes": tot["bytes"], "rounds": tot["rounds"], "phases": phases,
            "by_kind": by_kind(protocols), "steps": len(steps_s), "loss_revealed_to": "client",
            "per_step": {"seconds": sum(steps_s) / n, "bytes": sum(steps_b) / n, "rounds": sum(steps_r) / n}}


def fo_table(summary: dict) -> str:
    p, fo = summary["private"], summary["forward_only"]
    what = (f"prompt {fo['prompt_len']} vectors" if fo["target"] == "prompt" else
            f"LoRA r={fo['lora_r']} on {','.join(fo['lora_targets'])}")
    lines = ["", f"forward-only: {fo['optimizer']} population {fo['population']}, z dim {fo['z_dim']}, {what}, "
                 f"attention {fo['attention']}"
                 + (f" ({fo['rfa_features']} features)" if fo["attention"] == "rfa" else "")
                 + (f", {fo['shots']} shots per class" if fo.get("shots") else "")]
    ps = p["per_step"]
    lines.append(f"{'per step (one generation)':<34} {ps['seconds']:>10.2f} s {report._fmt_bytes(ps['bytes']):>12} "
                 f"{ps['rounds']:>8.0f} rounds")
    cmp_ = summary.get("compare")
    if cmp_:
        g = cmp_["gradient"]
        lines.append(f"{'gradient LoRA step (same data)':<34} {g['per_step']['seconds']:>10.2f} s "
                     f"{report._fmt_bytes(g['per_step']['bytes']):>12} {g['per_step']['rounds']:>8.0f} rounds")
        lines.append(f"{'ratio gradient / forward-only':<34} {cmp_['ratio']['seconds']:>10.2f} x "
                     f"{cmp_['ratio']['bytes']:>10.2f} x {cmp_['ratio']['rounds']:>8.2f} x")
        for k, lab in (("equal_steps", "held-out acc, equal steps"), ("equal_time", "held-out acc, equal wall time")):
            e = cmp_[k]
            cap = f", capped from {e['capped_from']}" if e.get("capped_from") else ""
            lines.append(f"{lab:<34} forward-only {e['forward_only']:.3f} ({e['fo_steps']} steps)   gradient "
                         f"{e['gradient']:.3f} ({e['grad_steps']} steps{cap})")
    return "\n".join(lines)
