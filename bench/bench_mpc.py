"""Private matmul 128x768 @ 768x768 on two parties: both operands secret, and the right
operand a frozen masked weight (owned by party 1), beside CrypTen 0.4.1.

    pytest bench/bench_mpc.py --benchmark-only            # pytest-benchmark, in-process parties
    python bench/bench_mpc.py [--reps 5] [--crypten auto|PYTHON]   # table
    python bench/bench_mpc.py --channels     # Gloo vs plain-socket exchange and ping-pong

The table measures, in one run: (a) two processes over loopback (Gloo), one thread each, with
the dealer as a third process (CrypTen's setting: 2 processes, 1 thread each); (b) the two
parties as threads of one process. "online" times take dealer material fetched beforehand
(the offline phase); "end-to-end" times include making the material on demand (CrypTen's
66 ms includes making its triples, with its trusted-first-party provider). Traffic counts
party-to-party bytes (both directions) and rounds; projected times use stats.project_time.
CrypTen's figures come from ANCHORS.md unless --crypten is given: "auto" uses (and on first use
builds) the cached CrypTen venv of fsskernels.bench.peerenv, a path names a python that has
CrypTen; bench/peers/crypten_gates.py (matmul case) then runs in the same session.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

import fsskernels
from fsskernels import mpc
from fsskernels.mpc.stats import LINKS, project_time, select

M, K, N = 128, 768, 768
CRYPTEN_ANCHOR = {"ms": 66.0, "bytes": 11.0e6, "rounds": 2, "max_abs_err": 1.2e-3, "source": "ANCHORS.md"}
PEERS = Path(__file__).resolve().parent / "peers"


def operands(seed: int = 0):
    g = torch.Generator().manual_seed(seed)  # benchmark data, not secret randomness
    return torch.randn(M, K, generator=g), torch.randn(K, N, generator=g) * 0.05


class LocalPair:
    """Two party sessions in threads of this process, with X (party 0's), W (party 1's,
    secret-shared) and Wf (party 1's, frozen) set up."""

    def __init__(self, threads_per_party: int = 1) -> None:
        fsskernels.set_num_threads(threads_per_party)
        self.x, self.w = operands()
        s0, s1, self.source = mpc.local_sessions()
        self.sessions = (s0, s1)
        self.pool = ThreadPoolExecutor(2)
        self.run(self._setup)

    def _setup(self, s):
        s.X = mpc.share(s, self.x if s.party == 0 else None, owner=0)
        s.W = mpc.share(s, self.w if s.party == 1 else None, owner=1)
        s.Wf = mpc.freeze_owned(s, self.w if s.party == 1 else None, owner=1, shape=(K, N))

    def run(self, fn):
        futs = [self.pool.submit(fn, s) for s in self.sessions]
        return [f.result() for f in futs]


def both_secret(s):
    return s.X @ s.W


def frozen(s):
    return s.X @ s.Wf


def _case_traffic(pair, fn, label):
    pair.run(lambda s: s.reset_stats())
    pair.run(fn)
    return select(pair.sessions[0].stats(), label)


# ----------------------------------------------------------------------------- pytest-benchmark
@pytest.fixture(scope="module")
def pair():
    return LocalPair()


@pytest.mark.parametrize("case,label", [(both_secret, "matmul"), (frozen, "matmul_frozen")], ids=["both_secret", "frozen"])
def test_private_matmul_end_to_end(benchmark, pair, case, label):
    """Two threads, dealer material made on demand (in the timed region, like CrypTen's TFP)."""
    traffic = _case_traffic(pair, case, label)
    benchmark.extra_info.update(bytes=traffic["bytes"], rounds=traffic["rounds"], shape=f"{M}x{K} @ {K}x{N}")
    benchmark(pair.run, case)


@pytest.mark.parametrize("case,label", [(both_secret, "matmul"), (frozen, "matmul_frozen")], ids=["both_secret", "frozen"])
def test_private_matmul_online(benchmark, pair, case, label):
    """Two threads, dealer material fetched before the timed region."""
    pair.run(lambda s: s.material_log(clear=True))
    traffic = _case_traffic(pair, case, label)
    plan = pair.sessions[0].material_log(clear=True)
    benchmark.extra_info.update(bytes=traffic["bytes"], rounds=traffic["rounds"], shape=f"{M}x{K} @ {K}x{N}")
    def setup():
        pair.run(lambda s: s.prefetch(plan))  # the offline phase, outside the timed region

    benchmark.pedantic(pair.run, args=(case,), setup=setup, rounds=7)


# ----------------------------------------------------------------------------- two processes
def _party(party: int, port: int, reps: int, out: str) -> None:
    """One party process: time both cases end-to-end and online; write JSON to ``out``."""
    torch.set_num_threads(1)
    fsskernels.set_num_threads(1)
    x, w = operands()

    def prog(s):
        s.X = mpc.share(s, x if s.party == 0 else None, owner=0)
        s.W = mpc.share(s, w if s.party == 1 else None, owner=1)
        s.Wf = mpc.freeze_owned(s, w if s.party == 1 else None, owner=1, shape=(K, N))
        barrier = lambda: s.exchange_ring([torch.zeros(1, dtype=torch.int64)], 8)  # noqa: E731
        res = {}
        for name, fn, label in (("both_secret", both_secret, "matmul"), ("frozen", frozen, "matmul_frozen")):
            fn(s)  # warm-up; its material requests are the plan for the online runs
            s.material_log(clear=True)
            e2e, onl = [], []
            for _ in range(reps):
                barrier()
                t0 = time.perf_counter()
                Z = fn(s)
                e2e.append(time.perf_counter() - t0)
            log = s.material_log(clear=True)
            plan = log[: len(log) // reps]  # the requests of one product
            for _ in range(reps):
                s.prefetch(plan)
                barrier()
                s.reset_stats()
                t0 = time.perf_counter()
                Z = fn(s)
                onl.append(time.perf_counter() - t0)
                traffic = select(s.stats(), label)
            err = (Z.reveal() - (x @ w).double()).abs().max().item()
            res[name] = {"e2e_ms": statistics.median(e2e) * 1e3, "online_ms": statistics.median(onl) * 1e3,
                         "bytes": traffic["bytes"], "rounds": traffic["rounds"],
                         "critical_bytes": traffic["critical_bytes"], "max_abs_err": err}
        return res

    res = mpc.run_network(prog, party=party, port=port, dealer="process", timeout=120)
    Path(out).write_text(json.dumps(res))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_two_processes(reps: int) -> dict:
    port = _free_port()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    outs = [f"/tmp/bench_mpc_party{p}_{port}.json" for p in (0, 1)]
    dealer = subprocess.Popen([sys.executable, "-m", "fsskernels.mpc", "dealer", "--port", str(port), "--timeout", "300",
                               "--threads", "1"],
                              env=env, stdout=subprocess.DEVNULL)
    parties = [subprocess.Popen([sys.executable, __file__, "--party", str(p), "--port", str(port), "--reps", str(reps),
                                 "--out", outs[p]], env=env) for p in (0, 1)]
    for p in parties + [dealer]:
        if p.wait(timeout=600) != 0:
            raise RuntimeError("a benchmark process failed")
    return json.loads(Path(outs[0]).read_text())


def run_in_process(reps: int) -> dict:
    pair = LocalPair()
    res = {}
    for name, fn, label in (("both_secret", both_secret, "matmul"), ("frozen", frozen, "matmul_frozen")):
        traffic = _case_traffic(pair, fn, label)
        pair.run(lambda s: s.material_log(clear=True))
        e2e = []
        for _ in range(reps):
            t0 = time.perf_counter()
            pair.run(fn)
            e2e.append(time.perf_counter() - t0)
        log = pair.sessions[0].material_log(clear=True)
        pair.sessions[1].material_log(clear=True)
        plan = log[: len(log) // reps]  # the requests of one product
        onl = []
        for _ in range(reps):
            pair.run(lambda s: s.prefetch(plan))
            t0 = time.perf_counter()
            pair.run(fn)
            onl.append(time.perf_counter() - t0)
        res[name] = {"e2e_ms": statistics.median(e2e) * 1e3, "online_ms": statistics.median(onl) * 1e3, **traffic}
    return res


def _probe(kind: str, rank: int, port: int, out: str, nbytes: int = 5_505_024) -> None:
    """Channel micro-benchmark, one side: Gloo point-to-point versus a plain TCP socket
    (sendall from a helper thread so both sides can send at once). Writes JSON to ``out``."""
    import datetime
    import threading

    import numpy as np

    peer = 1 - rank

    def med(f, reps):
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t0)
        return statistics.median(ts)

    if kind == "gloo":
        import torch.distributed as dist

        store = dist.TCPStore("127.0.0.1", port, 2, rank == 0, timeout=datetime.timedelta(seconds=30))
        pg = dist.ProcessGroupGloo(store, rank, 2, datetime.timedelta(seconds=30))
        buf, got = torch.zeros(nbytes, dtype=torch.uint8), torch.empty(nbytes, dtype=torch.uint8)
        small, sgot = torch.zeros(8, dtype=torch.uint8), torch.empty(8, dtype=torch.uint8)

        def exchange():
            w = pg.send([buf], peer, 0)
            pg.recv([got], peer, 0).wait()
            w.wait()

        def ping():
            if rank == 0:
                pg.send([small], 1, 1).wait()
                pg.recv([sgot], 1, 1).wait()
            else:
                pg.recv([sgot], 0, 1).wait()
                pg.send([small], 0, 1).wait()
    else:
        if rank == 0:
            srv = socket.socket()
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind(("127.0.0.1", port))
            srv.listen(1)
            sock, _ = srv.accept()
        else:
            sock = socket.socket()
            for _ in range(200):
                try:
                    sock.connect(("127.0.0.1", port))
                    break
                except OSError:
                    time.sleep(0.05)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf, got = np.zeros(nbytes, np.uint8), np.empty(nbytes, np.uint8)
        small, sgot = np.zeros(8, np.uint8), np.empty(8, np.uint8)

        def recv_into(a):
            mv, n = memoryview(a), 0
            while n < len(a):
                k = sock.recv_into(mv[n:])
                if k == 0:
                    raise EOFError
                n += k

        def exchange():
            th = threading.Thread(target=sock.sendall, args=(buf,))
            th.start()
            recv_into(got)
            th.join()

        def ping():
            if rank == 0:
                sock.sendall(small)
                recv_into(sgot)
            else:
                recv_into(sgot)
                sock.sendall(small)
    exchange()
    res = {"exchange_ms": med(exchange, 20) * 1e3, "pingpong_us": med(ping, 200) * 1e6}
    Path(out).write_text(json.dumps(res))


def run_channel_probe() -> dict:
    res = {}
    for kind in ("gloo", "socket"):
        port = _free_port()
        outs = [f"/tmp/bench_mpc_probe_{kind}{r}_{port}.json" for r in (0, 1)]
        procs = [subprocess.Popen([sys.executable, __file__, "--probe", kind, "--party", str(r), "--port", str(port),
                                   "--out", outs[r]]) for r in (0, 1)]
        for p in procs:
            p.wait(timeout=300)
        res[kind] = json.loads(Path(outs[0]).read_text())
    return res


def run_crypten(python: str, reps: int) -> dict:
    from fsskernels.bench import peerenv

    if python == "auto":
        python, note = peerenv.ensure("crypten")
        if python is None:
            raise RuntimeError(f"CrypTen unavailable: {note}")
    rows, note = peerenv.run_script(python, PEERS / "crypten_gates.py",
                                    ["--reps", str(reps), "--threads-per-party", "1", "--only", "matmul"], 900)
    for d in rows:
        if d.get("case") == "matmul":
            return {"ms": d["s_median"] * 1e3, "bytes": d["comm_bytes"], "rounds": d["comm_rounds"],
                    "max_abs_err": d["max_abs_err"], "source": "measured in this run"}
    raise RuntimeError(f"CrypTen run failed: {note}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--crypten", default=None, help="'auto' (the cached peer venv) or the python of a venv with crypten 0.4.1")
    ap.add_argument("--no-network", action="store_true", help="skip the two-process measurement")
    ap.add_argument("--json", default=None, help="also write the results here")
    ap.add_argument("--channels", action="store_true", help="only the channel micro-benchmark (Gloo vs socket)")
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    ap.add_argument("--party", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.probe:
        _probe(a.probe, a.party, a.port, a.out)
        return 0
    if a.party is not None:
        _party(a.party, a.port, a.reps, a.out)
        return 0
    if a.channels:
        r = run_channel_probe()
        print("channel     5.5 MB each way (ms)   8-byte ping-pong (us)")
        for k, v in r.items():
            print(f"{k:10s} {v['exchange_ms']:14.2f} {v['pingpong_us']:22.1f}")
        return 0
    crypten = run_crypten(a.crypten, max(a.reps, 3)) if a.crypten else dict(CRYPTEN_ANCHOR)
    results = {"crypten": crypten}
    if not a.no_network:
        results["two_processes"] = run_two_processes(a.reps)
    results["in_process"] = run_in_process(a.reps)
    print(f"\nPrivate matmul {M}x{K} @ {K}x{N}; CrypTen 0.4.1 ({crypten['source']}), 2 processes x 1 thread")
    hdr = f"{'setting':44s} {'online ms':>9s} {'e2e ms':>8s} {'MB':>7s} {'rounds':>6s} {'x fewer B':>9s} " + \
          " ".join(f"{k + ' ms':>10s}" for k in LINKS)
    print(hdr)
    print("-" * len(hdr))
    cb = crypten["bytes"]
    proj_c = {k: project_time({"rounds": crypten["rounds"], "critical_bytes": cb / 2}, k, crypten["ms"] / 1e3) for k in LINKS}
    print(f"{'CrypTen, both secret (triples in timed region)':44s} {'':>9s} {crypten['ms']:8.1f} {cb / 1e6:7.2f} "
          f"{crypten['rounds']:6d} {1.0:9.2f} " + " ".join(f"{proj_c[k] * 1e3:10.1f}" for k in LINKS))
    for setting in ("two_processes", "in_process"):
        if setting not in results:
            continue
        for case in ("both_secret", "frozen"):
            r = results[setting][case]
            name = f"{'2 procs' if setting == 'two_processes' else 'threads'}, {case.replace('_', ' ')}"
            if case == "frozen":
                name += " (weight of P1)"
            proj = {k: project_time(r, k, r["online_ms"] / 1e3) for k in LINKS}
            print(f"{name:44s} {r['online_ms']:9.1f} {r['e2e_ms']:8.1f} {r['bytes'] / 1e6:7.2f} {r['rounds']:6d} "
                  f"{cb / r['bytes']:9.2f} " + " ".join(f"{proj[k] * 1e3:10.1f}" for k in LINKS))
    print("projected = measured compute (online) + rounds x latency + critical bytes / bandwidth "
          "(CrypTen: its measured time + the same link terms, half its bytes each way)")
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
