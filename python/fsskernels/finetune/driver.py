"""What ``fsskernels finetune`` does, step by step (argument parsing lives in cli.py).

Local mode: load + split + tokenize the client's data; build the server's truncated model and
the peft twin (its initial LoRA A/B and classifier weights are the private run's initial
adapters); train the twin (plaintext, torch.optim, same batches); train on shares
(run.run_private_local, checkpoint per segment); evaluate on shares (logits revealed to the
client); reveal the adapters to --reveal-to and export them as a peft adapter, then check
that peft's loaded model predicts what the private model predicted; print the table, write
``finetune_log.json``, ``loss.png``, ``accuracy.png``.
Role mode: the same for one party (no twin: no process holds both data and model).
"""
from __future__ import annotations

import json
import pathlib
import sys
import time

import torch

from . import federated, hf, private, reference, report, run
from .cli import config_from_args


def _bar(total, desc, quiet):
    if quiet:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", file=sys.stderr, dynamic_ncols=True)


def _private_summary(states, final, seconds):
    st0, st1 = states
    phases = {k: v for k, v in st0.stats.items() if not k.startswith("_")}
    for k, v in st1.stats.items():  # bytes seen by the server (its sent + received) add the other direction
        if not k.startswith("_") and k in phases:
            phases[k] = {"seconds": max(phases[k]["seconds"], v["seconds"]), "bytes": phases[k]["bytes"],
                         "rounds": phases[k]["rounds"]}
    total_bytes = sum(v["bytes"] for v in phases.values())
    total_rounds = sum(v["rounds"] for v in phases.values())
    out = {"losses": st0.log["losses"], "step_seconds": st0.log["step_seconds"], "step_bytes": st0.log["step_bytes"],
           "acc_before": None, "acc_after": None if final is None else final[0]["acc"], "seconds": seconds,
           "bytes": total_bytes, "rounds": total_rounds, "phases": phases,
           "by_kind": report.by_kind(st0.stats.get("_protocols", {})), "steps": st0.step,
           "loss_revealed_to": "client"}
    return out


def run_command(args) -> int:
    if getattr(args, "method", "lora") == "forward-only":
        from .forward_only.run import run_command as forward_only_command

        return forward_only_command(args)
    if getattr(args, "attention", "softmax") != "softmax":
        raise ValueError("attention: random-feature attention is forward-only (use --method forward-only)")
    cfg = config_from_args(args)
    torch.set_num_threads(max(1, args.threads))
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.federated:
        return federated.run_command(cfg, args)
    if args.role != "local":
        return _role(cfg, args, out)
    t_all = time.perf_counter()
    mdir = hf.resolve_model_dir(cfg.model)
    ds, tr, ev = run.client_inputs(cfg, mdir)
    pm, sd, init = run.server_inputs(cfg, mdir, ds.num_labels)
    hcfg = run.public_config(mdir, cfg.layers, ds.num_labels)
    summary = {"config": cfg.to_json(), "dataset": {"source": ds.source, "sha256": ds.sha256, "labels": ds.label_names,
                                                    "train": cfg.train_size, "eval": cfg.eval_size},
               "model": str(mdir), "dealer": "in-process (seeded, INSECURE test mode)" if args.dealer_seed is not None
               else "in-process, OS CSPRNG"}
    twin = None
    if not args.no_twin:
        nsteps = len(private.segments(cfg, cfg.train_size, None)) and sum(
            len(s) for s in private.segments(cfg, cfg.train_size, None))
        bar = _bar(nsteps, "plaintext twin", args.quiet)
        tw = reference.train_twin(cfg, pm, tr, ev, progress=(lambda k, l: (bar.update(1), bar.set_postfix(loss=f"{l:.4f}")))
                                  if bar else None)
        if bar:
            bar.close()
        twin = {"losses": tw["losses"], "eval_acc": tw["eval_acc"], "acc_before": tw["eval_acc"][0],
                "acc_after": tw["eval_acc"][-1], "seconds": tw["seconds"]}
        hf.load_adapter_state(pm, {k: v for k, v in tw["initial"].items()})  # twin back at its start (unused after)
    st0 = private.PartyState(0, cfg, hcfg, cfg.train_size, cfg.eval_size, train_ids=tr[0], train_mask=tr[1],
                             train_labels=tr[2], eval_ids=ev[0], eval_mask=ev[1], eval_labels=ev[2])
    st1 = private.PartyState(1, cfg, hcfg, cfg.train_size, cfg.eval_size, state_dict=sd, init=init)
    nsteps = sum(len(s) for s in private.segments(cfg, cfg.train_size, args.checkpoint_every))
    bar = _bar(nsteps, "private (shares)", args.quiet)

    def on_step(st, loss, dt, db):
        if bar is not None and st.party == 0:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4f}", s=f"{dt:.1f}", MB=f"{db / 1e6:.1f}")

    t0 = time.perf_counter()
    final = run.run_private_local(cfg, [st0, st1], out, checkpoint_every=args.checkpoint_every, resume=args.resume,
                                  dealer_seed=args.dealer_seed, on_step=on_step, timeout=args.timeout,
                                  device=args.device)
    if bar is not None:
        bar.n = st0.step
        bar.close()
    seconds = time.perf_counter() - t0
    summary["private"] = _private_summary((st0, st1), final, seconds)
    summary["twin"] = twin
    reveal = run.REVEAL_PARTY[cfg.reveal_to]
    if reveal is not None:
        adapters = final[reveal]["adapters"]
        adir = export_mod_export(out, adapters, cfg, ds.num_labels, mdir)
        summary["adapter_dir"] = str(adir)
        summary["adapters_revealed_to"] = cfg.reveal_to
        loaded = _load(adir, mdir)
        lg = reference.predict(loaded, ev[0], ev[1])
        priv = final[0]["logits"]
        summary["private"]["agreement"] = float((lg.argmax(-1) == priv.argmax(-1)).to(torch.float64).mean())
        summary["private"]["exported_logit_max_abs_diff"] = float((lg - priv).abs().max())
    else:
        summary["adapters_revealed_to"] = "nobody (they stay shared in the checkpoints)"
    summary["total_seconds"] = time.perf_counter() - t_all
    summary["peak_rss_mb"] = run.peak_rss_mb()
    report.write_json(out / "finetune_log.json", summary)
    pngs = report.plot(out, summary)
    print(report.table(summary))
    print(f"\nlog: {out / 'finetune_log.json'}  plots: {', '.join(str(p) for p in pngs)}"
          + (f"  adapter: {summary['adapter_dir']}" if "adapter_dir" in summary else ""))
    print(f"loss revealed to: the client only; adapters revealed to: {summary['adapters_revealed_to']}")
    return 0


def export_mod_export(out, adapters, cfg, num_labels, mdir):
    from .export import export_peft

    return export_peft(pathlib.Path(out) / "adapter", adapters, cfg, num_labels, mdir)


def _load(adir, mdir):
    from .export import load_exported

    return load_exported(adir, mdir)


def _tls(args):
    if args.certs and args.plaintext:
        raise ValueError("certs: give either --certs DIR or --plaintext, not both")
    if not args.certs and not args.plaintext:
        raise ValueError("certs: --role needs --certs DIR (TLS; python -m fsskernels.mpc certs --out DIR) "
                         "or --plaintext (loopback only)")
    return args.certs if args.certs else False


def _role(cfg, args, out) -> int:
    role = args.role
    tls = _tls(args)
    if role == "dealer":
        n = run.run_dealer_role(cfg, args.dealer_host or args.host, args.port, out, checkpoint_every=args.checkpoint_every,
                                resume=args.resume, dealer_seed=args.dealer_seed, timeout=args.timeout, tls=tls)
        print(json.dumps({"role": "dealer", "pieces_served": n}))
        return 0
    mdir = hf.resolve_model_dir(cfg.model)
    party = 0 if role == "client" else 1
    if party == 0:
        ds, tr, ev = run.client_inputs(cfg, mdir)
        num_labels = ds.num_labels
        st = private.PartyState(0, cfg, run.public_config(mdir, cfg.layers, num_labels), cfg.train_size,
                                cfg.eval_size, train_ids=tr[0], train_mask=tr[1], train_labels=tr[2], eval_ids=ev[0],
                                eval_mask=ev[1], eval_labels=ev[2])
    else:
        if cfg.num_labels is None and not cfg.dataset.lower().endswith(".csv"):
            from .data import load_dataset

            num_labels = load_dataset(cfg.dataset).num_labels  # public: the label set of a named corpus
        else:
            num_labels = cfg.num_labels or _csv_num_labels(cfg)
        _, sd, init = run.server_inputs(cfg, mdir, num_labels)
        st = private.PartyState(1, cfg, run.public_config(mdir, cfg.layers, num_labels), cfg.train_size,
                                cfg.eval_size, state_dict=sd, init=init)
    bar = _bar(sum(len(s) for s in private.segments(cfg, cfg.train_size, args.checkpoint_every)),
               f"private ({role})", args.quiet or party == 1)

    def on_step(s, loss, dt, db):
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4f}" if loss is not None else "-", s=f"{dt:.1f}", MB=f"{db / 1e6:.1f}")

    t0 = time.perf_counter()
    final = run.run_private_role(cfg, st, party, args.host, args.port, out, checkpoint_every=args.checkpoint_every,
                                 resume=args.resume, dealer_seed=args.dealer_seed, on_step=on_step, timeout=args.timeout,
                                 device=args.device, tls=tls, dealer_host=args.dealer_host)
    if bar is not None:
        bar.close()
    res = {"role": role, "steps": st.step, "seconds": time.perf_counter() - t0,
           "bytes": sum(v["bytes"] for k, v in st.stats.items() if not k.startswith("_")),
           "peak_rss_mb": run.peak_rss_mb()}
    if party == 0:
        res.update(losses=st.log["losses"], eval_acc=final["acc"])
    reveal = run.REVEAL_PARTY[cfg.reveal_to]
    if reveal == party and final["adapters"] is not None:
        adir = export_mod_export(out, final["adapters"], cfg, num_labels, mdir)
        res["adapter_dir"] = str(adir)
        res["adapters_sha256"] = _digest(final["adapters"])
    report.write_json(out / f"finetune_log_{role}.json", res)
    print(json.dumps({k: v for k, v in res.items() if k != "losses"}))
    return 0


def _digest(adapters: dict) -> str:
    import hashlib

    h = hashlib.sha256()
    for k in sorted(adapters):
        h.update(k.encode() + adapters[k].to(torch.float32).numpy().tobytes())
    return h.hexdigest()


def _csv_num_labels(cfg) -> int:
    raise ValueError("num-labels: the server does not see the client's CSV; pass --num-labels with --role server")
