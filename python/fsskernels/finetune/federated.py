"""PriFFT-style federated fine-tuning on shares: K clients take turns with one server.

Computes R rounds of weighted FedAvg (McMahan et al. 2017) where every client's local
training runs on shares with the server (private.py) and the aggregation runs on shares too:
    round r: for each client k (disjoint shard, n_k examples): start from the global adapters
             G (shares), train ``epochs`` local epochs (fresh optimizer state), giving A_k;
             G <- sum_k n_k A_k / N        (N = sum_k n_k; the n_k are public)
The aggregation: the server sums n_k s_k over its shares s_k (local, exact: integer public
multiples of ring shares); the clients' shares c_k are summed along the client chain (each
client adds n_k c_k to the running sum it receives and passes it on; every c_k is one
additive share, uniformly random on its own, so a client in the chain learns nothing); the
last client and the server then multiply by the public 1/N on shares (one truncation) and
the result is the new global G, whose client-side share is handed to the next client.
Security: as the two-party protocol; in addition the server must not collude with a client
(a colluding pair would learn another client's adapters). Bytes per client per round are
that client's training traffic plus its part of the aggregation (reported).

Twin: the same rounds in plaintext with peft + torch.optim and float FedAvg, from the same
initial adapters and on the same shards and batch orders.
Not supported with --federated: --resume and --role (one process simulates all clients).
"""
from __future__ import annotations

import copy
import pathlib
import time

import torch

from .. import mpc
from . import data as data_mod
from . import hf, optim, private, reference, report, run, schedule
from .private import PEFT_PREFIX, PartyState, derive_seed


def round_steps(cfg, n: int, rnd: int, client: int) -> list:
    seed = derive_seed(cfg.seed, "fed", rnd, client)
    return schedule.all_steps(n, cfg.batch_size, cfg.epochs, seed)


def aggregate(s, shares: list, weights: list, frac_bits: int = 16):
    """On shares: sum_k w_k X_k / sum_k w_k. ``shares``: this party's int64 shares of each client's
    adapters ({name: tensor}); ``weights``: public positive integers. One truncation round."""
    if not shares or len(shares) != len(weights):
        raise ValueError("aggregate: need one weight per client and at least one client")
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in weights):
        raise ValueError(f"aggregate: weights must be positive integers (example counts), got {weights}")
    names = list(shares[0])
    tot = sum(weights)
    out = {}
    with s.protocol("federated aggregation"):
        flat = []
        for n in names:
            acc = sum(int(w) * shares[k][n] for k, w in enumerate(weights))  # exact mod 2^64
            flat.append(acc.reshape(-1))
        x = mpc.SharedTensor(s, torch.cat(flat).to(s.device), frac_bits) * (1.0 / tot)
        i = 0
        for n in names:
            k = shares[0][n].numel()
            out[n] = x.share[i:i + k].reshape(shares[0][n].shape).cpu().clone()
            i += k
    return out


def _agg_program(s, per_party_shares, weights):
    return aggregate(s, per_party_shares[s.party], weights), s.stats()["total"]["bytes"]


def run_federated(cfg, K: int, R: int, out, *, dealer_seed=None, with_twin=True, on_event=None, timeout=600.0):
    if not isinstance(K, int) or K < 1:
        raise ValueError(f"federated: K must be >= 1, got {K!r}")
    if not isinstance(R, int) or R < 1:
        raise ValueError(f"rounds: must be >= 1, got {R!r}")
    mdir = hf.resolve_model_dir(cfg.model)
    ds = data_mod.load_dataset(cfg.dataset, cfg.num_labels)
    train, evals = data_mod.split(ds, cfg.train_size, cfg.eval_size, cfg.seed)
    shards = data_mod.shards(train, K)
    tok = hf.load_tokenizer(mdir)
    shard_tok = [hf.tokenize(tok, sh.texts, cfg.seq_len) + (torch.tensor(sh.labels),) for sh in shards]
    ev = hf.tokenize(tok, evals.texts, cfg.seq_len) + (torch.tensor(evals.labels),)
    pm, sd, init = run.server_inputs(cfg, mdir, ds.num_labels)
    hcfg = run.public_config(mdir, cfg.layers, ds.num_labels)
    sizes = [len(sh) for sh in shards]
    summary = {"config": cfg.to_json(), "federated": {"clients": K, "rounds": R, "shard_sizes": sizes}}

    twin = None
    if with_twin:
        t0 = time.perf_counter()
        initial = hf.adapter_state(pm)
        g = {k: v.clone() for k, v in initial.items()}
        losses, accs = [], [reference.accuracy(reference.predict(pm, ev[0], ev[1]), ev[2])]
        for r in range(R):
            local = []
            for k in range(K):
                hf.load_adapter_state(pm, g)
                c = copy.copy(cfg)
                ids, mask, y = shard_tok[k]
                params = list(hf.trainable(pm).values())
                opt = reference.make_optimizer(cfg, params)
                for (_, _, b) in round_steps(cfg, sizes[k], r, k):
                    pm.train()
                    opt.zero_grad()
                    loss = torch.nn.functional.cross_entropy(pm(input_ids=ids[b], attention_mask=mask[b]).logits, y[b])
                    loss.backward()
                    opt.step()
                    losses.append(float(loss.detach()))
                local.append(hf.adapter_state(pm))
            g = {n: sum(sizes[k] * local[k][n] for k in range(K)) / sum(sizes) for n in g}
            hf.load_adapter_state(pm, g)
            accs.append(reference.accuracy(reference.predict(pm, ev[0], ev[1]), ev[2]))
        twin = {"losses": losses, "eval_acc": accs, "acc_before": accs[0], "acc_after": accs[-1],
                "seconds": time.perf_counter() - t0, "final": g}
        hf.load_adapter_state(pm, initial)

    t0 = time.perf_counter()
    seg = [0]

    def session_seed():
        seg[0] += 1
        return derive_seed(dealer_seed, "fed", seg[0])

    server_states, client_states = [], []
    for k in range(K):
        ids, mask, y = shard_tok[k]
        n_eval = cfg.eval_size if k == 0 else 0
        st0 = PartyState(0, cfg, hcfg, sizes[k], n_eval, train_ids=ids, train_mask=mask, train_labels=y,
                         eval_ids=ev[0] if k == 0 else None, eval_mask=ev[1] if k == 0 else None,
                         eval_labels=ev[2] if k == 0 else None)
        st1 = PartyState(1, cfg, hcfg, sizes[k], n_eval, state_dict=sd, init=init)
        mpc.run_local(lambda s: private.prepare_segment(s, (st0, st1)[s.party]), seed=session_seed(), timeout=timeout)
        client_states.append(st0)
        server_states.append(st1)
    g0, g1 = client_states[0].params, server_states[0].params  # shares of the initial adapters
    per_round = []
    priv_losses = []
    for r in range(R):
        row = {"round": r, "client_bytes": []}
        locals0, locals1 = [], []
        for k in range(K):
            st0, st1 = client_states[k], server_states[k]
            st0.params, st1.params = dict(g0), dict(g1)
            st0.opt, st1.opt = optim.make(cfg), optim.make(cfg)
            b_before = sum(v["bytes"] for kk, v in st0.stats.items() if not kk.startswith("_"))
            steps = round_steps(cfg, sizes[k], r, k)
            mpc.run_local(lambda s: private.train_segment(s, (st0, st1)[s.party], steps), seed=session_seed(),
                          timeout=timeout)
            priv_losses.extend(st0.log["losses"][-len(steps):])
            row["client_bytes"].append(sum(v["bytes"] for kk, v in st0.stats.items() if not kk.startswith("_")) - b_before)
            locals0.append(st0.params)
            locals1.append(st1.params)
            if on_event:
                on_event(r, k)
        (a0, agg_bytes), (a1, _) = mpc.run_local(_agg_program, [locals0, locals1], sizes, seed=session_seed(),
                                                 timeout=timeout)
        g0, g1 = a0, a1
        row["aggregation_bytes"] = int(agg_bytes)
        row["bytes_per_client"] = [int(b + agg_bytes / K) for b in row["client_bytes"]]
        per_round.append(row)
    st0, st1 = client_states[0], server_states[0]
    st0.params, st1.params = dict(g0), dict(g1)
    reveal = run.REVEAL_PARTY[cfg.reveal_to]

    def final_prog(s):
        st = (st0, st1)[s.party]
        logits, acc = private.evaluate_segment(s, st)
        return logits, acc, (None if reveal is None else private.export_segment(s, st, reveal))

    (lg, acc, ad0), (_, _, ad1) = mpc.run_local(final_prog, seed=session_seed(), timeout=timeout)
    seconds = time.perf_counter() - t0
    summary["private"] = {"losses": priv_losses, "acc_before": None, "acc_after": acc,
                          "seconds": seconds, "rounds_log": per_round,
                          "bytes": sum(sum(r_["client_bytes"]) + r_["aggregation_bytes"] for r_ in per_round),
                          "rounds": None, "phases": {}, "by_kind": {}}
    summary["twin"] = None if twin is None else {k: v for k, v in twin.items() if k != "final"}
    adapters = ad0 if reveal == 0 else ad1
    if adapters is not None:
        from .export import export_peft

        summary["adapter_dir"] = str(export_peft(pathlib.Path(out) / "adapter", adapters, cfg, ds.num_labels, mdir))
    summary["peak_rss_mb"] = run.peak_rss_mb()
    return summary, adapters, twin


def run_command(cfg, args) -> int:
    if args.resume or args.role != "local":
        raise ValueError("federated: --resume and --role are not supported with --federated (one process simulates all clients)")
    out = pathlib.Path(args.out)
    summary, _, _ = run_federated(cfg, args.federated, args.rounds, out, dealer_seed=args.dealer_seed,
                                  with_twin=not args.no_twin, timeout=args.timeout)
    report.write_json(out / "finetune_log.json", summary)
    report.plot(out, summary)
    print(report.table(summary))
    print("\nbytes per client per round (training + share of aggregation):")
    for r in summary["private"]["rounds_log"]:
        print(f"  round {r['round']}: " + ", ".join(f"{b / 1e6:.1f} MB" for b in r["bytes_per_client"]))
    print(f"log: {out / 'finetune_log.json'}")
    return 0
