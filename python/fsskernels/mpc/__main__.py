"""Command line: ``python -m fsskernels.mpc certs|dealer|demo ...``.

  certs   make a private key and a self-signed certificate per role (party0, party1, dealer)
          and print their SHA-256 fingerprints:
            python -m fsskernels.mpc certs --out DIR [--role party0 ...] [--days N] [--force]
  dealer  run the dealer process of one session, listening at H:P for the two parties:
            python -m fsskernels.mpc dealer --host H --port P (--certs DIR | --plaintext) [--timeout S]
  demo    run one party of the demo (128x768 @ 768x768 both secret, then with a frozen
          weight owned by party 1) and print time, traffic and projected link times; party 0
          listens at H:P for party 1, both reach the dealer at --dealer-host:--dealer-port
          (default H:P+1):
            python -m fsskernels.mpc demo --party 0|1 --host H --port P (--certs DIR | --plaintext)

--certs DIR: TLS 1.3 with the pinned certificates in DIR (this role's .key/.crt, the peers'
.crt). --plaintext: no TLS, refused unless every address is loopback.
"""
from __future__ import annotations

import argparse
import json
import sys
import time


def _demo(s, m: int, k: int, n: int, reps: int) -> dict:
    import torch

    from . import freeze_owned, project_time, share
    from .stats import LINKS, select

    g = torch.Generator().manual_seed(0)  # csprng-ok: public demo data only, not secret randomness
    x = torch.randn(m, k, generator=g)  # csprng-ok: demo input values
    w = torch.randn(k, n, generator=g) * 0.05  # csprng-ok: demo weight values
    X = share(s, x if s.party == 0 else None, owner=0)
    W = share(s, w if s.party == 1 else None, owner=1)
    Wf = freeze_owned(s, w if s.party == 1 else None, owner=1, shape=(k, n))
    out = {}
    for name, fn in (("both secret", lambda: X @ W), ("frozen weight", lambda: X @ Wf)):
        ts = []
        for _ in range(reps):
            s.reset_stats()
            t0 = time.perf_counter()
            Z = fn()
            ts.append(time.perf_counter() - t0)
            st = s.stats()
        traffic = select(st, "matmul_frozen" if "frozen" in name else "matmul")
        err = (Z.reveal() - (x @ w).double()).abs().max().item()
        out[name] = {"ms": round(sorted(ts)[len(ts) // 2] * 1e3, 2), "bytes": traffic["bytes"], "rounds": traffic["rounds"],
                     "max_abs_err": err,
                     **{f"proj_{k_}_ms": round(project_time(traffic, k_) * 1e3, 1) for k_ in LINKS}}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fsskernels.mpc")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("certs", help="make keys and self-signed certificates for the TLS links")
    c.add_argument("--out", required=True, help="directory for <role>.key (mode 0600) and <role>.crt")
    c.add_argument("--role", action="append", choices=["party0", "party1", "dealer"],
                   help="make only this role (repeatable; default: all three)")
    c.add_argument("--days", type=int, default=365)
    c.add_argument("--force", action="store_true", help="replace existing files")
    d = sub.add_parser("dealer", help="run the dealer process of one session")
    d.add_argument("--host", default="127.0.0.1")
    d.add_argument("--port", type=int, default=29500)
    d.add_argument("--timeout", type=float, default=300.0)
    d.add_argument("--seed", type=int, default=None, help="tests only: deterministic material")
    d.add_argument("--verbose", action="store_true")
    d.add_argument("--threads", type=int, default=None, help="kernel threads of the dealer (default: all cores)")
    _security_args(d)
    p = sub.add_parser("demo", help="run one party of the matmul demo")
    p.add_argument("--party", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=29500)
    p.add_argument("--dealer", default="process", choices=["process", "replicated"])
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--shape", type=int, nargs=3, default=[128, 768, 768])
    p.add_argument("--dealer-host", default=None, help="the dealer's address (default: --host)")
    p.add_argument("--dealer-port", type=int, default=None, help="the dealer's port (default: --port + 1)")
    _security_args(p)
    a = ap.parse_args(argv)
    if a.cmd == "certs":
        from .certs import make_certs

        try:
            fps = make_certs(a.out, roles=a.role or ("party0", "party1", "dealer"), days=a.days, force=a.force)
        except ValueError as exc:
            ap.error(str(exc))
        print(json.dumps({"out": a.out, "sha256": fps}), flush=True)
        return 0
    tls = a.certs if a.certs else False
    if a.cmd == "dealer":
        from .dealer_service import serve

        if a.threads:
            import torch

            import fsskernels

            torch.set_num_threads(a.threads)
            fsskernels.set_num_threads(a.threads)

        try:
            n = serve(a.host, a.port, seed=a.seed, timeout=a.timeout, log=print if a.verbose else None, tls=tls)
        except ValueError as exc:  # bad address, port or certificates: one line, exit 2
            ap.error(str(exc))
        print(json.dumps({"dealer": "done", "pieces": n}), flush=True)
        return 0
    import torch

    import fsskernels

    from .runner import run_network

    torch.set_num_threads(a.threads)
    fsskernels.set_num_threads(a.threads)
    try:
        res = run_network(_demo, *a.shape, a.reps, party=a.party, host=a.host, port=a.port, dealer=a.dealer,
                          seed=a.seed,
                          timeout=a.timeout, tls=tls, dealer_host=a.dealer_host, dealer_port=a.dealer_port)
    except ValueError as exc:
        ap.error(str(exc))
    print(json.dumps({"party": a.party, **res}), flush=True)
    return 0


def _security_args(p) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--certs", default=None, help="directory with this role's key/cert and the peers' certs (TLS 1.3)")
    g.add_argument("--plaintext", action="store_true", help="no TLS (loopback addresses only)")


if __name__ == "__main__":
    sys.exit(main())
