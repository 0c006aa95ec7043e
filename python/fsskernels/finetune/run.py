"""Orchestration of ``fsskernels finetune``: inputs per party, the plaintext twin, the private
segments (one process with two party threads, or one process per role), checkpoints, export.

``run_local(cfg, out, ...)``: the default single-command run. The client's data and the
server's model live in one process but are handed to their own party only; the twin runs
first (same data, batch order, initial adapters, hyperparameters), then the private run.
``run_role(cfg, role, host, port, out, ...)``: one of three processes (client = party 0,
server = party 1, dealer); segment k of the run uses ports port + 2k (party 0) and
port + 2k + 1 (dealer): a fresh session each.

Secrecy of what is printed/logged: the client sees its loss per step and the held-out
accuracy (both revealed to it only); the server sees bytes and time; the adapters are
revealed to ``cfg.reveal_to`` (server / client) or stay shared (none). ``dealer_seed`` makes
the dealer and the parties' randomness deterministic: TESTS ONLY, it is insecure.
"""
from __future__ import annotations

import json
import pathlib
import resource
import time

import torch

from .. import mpc
from . import checkpoint as ck
from . import data as data_mod
from . import export as export_mod
from . import hf, private
from .private import PEFT_PREFIX, PartyState, derive_seed

REVEAL_PARTY = {"server": 1, "client": 0, "none": None}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# -- inputs ---------------------------------------------------------------------------------
def client_inputs(cfg, model_dir):
    """The client's tokenized split (input_ids, masks, labels) for train and held-out."""
    ds = data_mod.load_dataset(cfg.dataset, cfg.num_labels)
    train, evals = data_mod.split(ds, cfg.train_size, cfg.eval_size, cfg.seed)
    tok = hf.load_tokenizer(model_dir)
    tr = hf.tokenize(tok, train.texts, cfg.seq_len) + (torch.tensor(train.labels, dtype=torch.int64),)
    ev = hf.tokenize(tok, evals.texts, cfg.seq_len) + (torch.tensor(evals.labels, dtype=torch.int64),)
    return ds, tr, ev


def server_inputs(cfg, model_dir, num_labels):
    """(peft twin model, frozen state dict, initial adapters {peft name: tensor})."""
    pm, _ = hf.build_peft_model(cfg, num_labels, model_dir)
    init = {PEFT_PREFIX + k: v for k, v in hf.adapter_state(pm).items()}
    base = pm.get_base_model()
    sd = {k.replace(".base_layer.", "."): v.detach().to(torch.float64) for k, v in base.state_dict().items()
          if "lora_" not in k and "modules_to_save" not in k and not k.startswith("classifier")}
    return pm, sd, init


def public_config(model_dir, layers, num_labels):
    c = hf.load_config(model_dir)
    c.num_labels = num_labels
    c.hidden_dropout_prob = 0.0
    c.attention_probs_dropout_prob = 0.0
    if not 1 <= layers <= c.num_hidden_layers:
        raise hf.ModelError(f"layers: the model has {c.num_hidden_layers} layers, asked for {layers}")
    return c


# -- checkpoints ----------------------------------------------------------------------------
def save_party(out, st: PartyState) -> None:
    params = dict(st.params)
    cache = {f"cache.{k}": v[0] for k, v in st.cache.items()}
    log = dict(st.log)
    log["cache_frac_bits"] = {k: v[1] for k, v in st.cache.items()}
    log["frac_bits"] = st.frac_bits
    log["stats"] = st.stats
    ck.save(out, st.party, step=st.step, fingerprint=st.cfg.fingerprint(), params={**params, **cache},
            opt_state=st.opt.state_dict(), log=log)
    if st.party == 0:
        ck.atomic_write_bytes(pathlib.Path(out) / "progress.json", json.dumps({"step": st.step}).encode())


def load_party(out, st: PartyState, which: str = "latest") -> bool:
    got = ck.load(out, st.party, fingerprint=st.cfg.fingerprint(), which=which)
    if got is None:
        return False
    log = got["log"]
    fbs = log.pop("cache_frac_bits", {})
    st.frac_bits = int(log.pop("frac_bits", 16))
    st.stats = log.pop("stats", {})
    st.params = {k: v for k, v in got["params"].items() if not k.startswith("cache.")}
    st.cache = {k[len("cache."):]: (v, int(fbs[k[len("cache."):]])) for k, v in got["params"].items()
                if k.startswith("cache.")}
    st.opt.load_state_dict(got["opt"])
    st.step = got["step"]
    st.log = log
    return True


def progress_step(out) -> int:
    p = pathlib.Path(out) / "progress.json"
    return int(json.loads(p.read_text())["step"]) if p.exists() else -1


# -- the segment plan (identical at every role) ---------------------------------------------
def plan(cfg, checkpoint_every=None):
    """['prepare', [steps]..., 'final'] and the step count before each entry."""
    segs = private.segments(cfg, cfg.train_size, checkpoint_every)
    entries, before, n = ["prepare"], [-1], 0
    for sg in segs:
        entries.append(sg)
        before.append(n)
        n += len(sg)
    entries.append("final")
    before.append(n)
    return entries, before


def first_segment(entries, before, done_step: int) -> int:
    """Index of the segment to run next given the checkpointed step count (-1: nothing saved)."""
    if done_step < 0:
        return 0
    for k in range(1, len(entries)):
        if before[k] == done_step:
            return k
    raise ck.CheckpointError(f"checkpoint: step {done_step} is not a segment boundary of this plan")


def _segment_program(s, states, entry, reveal, on_step):
    st = states[s.party]
    if entry == "prepare":
        private.prepare_segment(s, st)
        return None
    if entry == "final":
        logits, acc = private.evaluate_segment(s, st)
        adapters = None if reveal is None else private.export_segment(s, st, reveal)
        return {"logits": logits, "acc": acc, "adapters": adapters}
    private.train_segment(s, st, entry, on_step=on_step)
    return None


def run_private_local(cfg, states, out, *, checkpoint_every=None, resume=False, dealer_seed=None, on_step=None,
                      timeout=600.0, kill_after_segment=None, device="cpu"):
    """All segments in this process (two party threads per segment). Returns the final results per party."""
    entries, before = plan(cfg, checkpoint_every)
    k0 = 0
    if resume:
        loaded = [load_party(out, st) for st in states]
        if all(loaded) and states[0].step != states[1].step:  # a crash between the two parties' saves
            ahead = 0 if states[0].step > states[1].step else 1
            loaded[ahead] = load_party(out, states[ahead], "prev")
        if loaded[0] != loaded[1] or (loaded[0] and states[0].step != states[1].step):
            raise ck.CheckpointError(f"resume: the parties' checkpoints in {out} do not match (one missing or different steps)")
        if loaded[0]:
            k0 = first_segment(entries, before, states[0].step)
    reveal = REVEAL_PARTY[cfg.reveal_to]
    final = None
    for k in range(k0, len(entries)):
        t0 = time.perf_counter()
        res = mpc.run_local(_segment_program, states, entries[k], reveal, on_step, seed=derive_seed(dealer_seed, k),
                            timeout=timeout, device=device)
        for st in states:
            st.log["segments"].append({"segment": k, "seconds": time.perf_counter() - t0})
        if entries[k] != "final":
            for st in reversed(states):  # party 0 last: progress.json then names a step both have saved
                save_party(out, st)
        else:
            final = res
        if kill_after_segment is not None and k == kill_after_segment:  # tests: simulate a crash point
            raise SystemExit(99)
    return final


def run_private_role(cfg, st: PartyState, role_party: int, host, port, out, *, checkpoint_every=None, resume=False,
                     dealer_seed=None, on_step=None, timeout=600.0, device="cpu", tls=None, dealer_host=None):
    """This party's segments over the network: segment k's session has party 0 listening at
    host:port + 2k and the dealer process at dealer_host (default host):port + 2k + 1."""
    entries, before = plan(cfg, checkpoint_every)
    k0 = 0
    if resume and load_party(out, st):
        k0 = first_segment(entries, before, st.step)
    reveal = REVEAL_PARTY[cfg.reveal_to]
    final = None
    states = {role_party: st}
    for k in range(k0, len(entries)):
        res = mpc.run_network(_segment_program, states, entries[k], reveal, on_step, party=role_party, host=host,
                              port=port + 2 * k, dealer_port=port + 2 * k + 1, dealer_host=dealer_host,
                              dealer="process", seed=derive_seed(dealer_seed, k), timeout=timeout,
                              connect_timeout=timeout, device=device, tls=tls)
        if entries[k] != "final":
            save_party(out, st)
        else:
            final = res
    return final


def run_dealer_role(cfg, host, port, out, *, checkpoint_every=None, resume=False, dealer_seed=None, timeout=600.0,
                    tls=None):
    from ..mpc.dealer_service import serve

    entries, before = plan(cfg, checkpoint_every)
    k0 = first_segment(entries, before, progress_step(out)) if resume else 0
    served = 0
    for k in range(k0, len(entries)):
        served += serve(host, port + 2 * k + 1, seed=derive_seed(dealer_seed, k), timeout=timeout,
                        connect_timeout=timeout,
                        tls=tls)
    return served
