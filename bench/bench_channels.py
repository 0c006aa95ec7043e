"""Channel engines, same run: Gloo point-to-point vs our socket channel (plaintext and TLS 1.3).

    python bench/bench_channels.py [--mb 5.5] [--reps 20] [--pings 200]

For each engine two processes on loopback measure (medians): a simultaneous exchange of
``--mb`` MB each way (the size of the 128x768 @ 768x768 matmul's openings) and an 8-byte
ping-pong (two message flights). Gloo has no TLS in the PyPI torch build, so its numbers are a
plaintext lower bound; ours carry a 24-byte tag header per message (divergence detection).
Prints one JSON line per engine.
"""
from __future__ import annotations

import argparse
import datetime
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gloo(rank: int, port: int):
    import torch
    import torch.distributed as dist

    store = dist.TCPStore("127.0.0.1", port, 2, rank == 0, timeout=datetime.timedelta(seconds=60))
    pg = dist.ProcessGroupGloo(store, rank, 2, datetime.timedelta(seconds=60))
    peer = 1 - rank

    def exchange(data: np.ndarray, nbytes: int) -> np.ndarray:
        out = torch.empty(nbytes, dtype=torch.uint8)
        w = pg.send([torch.from_numpy(data)], peer, 0)
        pg.recv([out], peer, 0).wait()
        w.wait()
        return out.numpy()

    def send(data):
        pg.send([torch.from_numpy(data)], peer, 0).wait()

    def recv(n):
        out = torch.empty(n, dtype=torch.uint8)
        pg.recv([out], peer, 0).wait()
        return out.numpy()

    return exchange, send, recv, (store, pg)


def _ours(rank: int, port: int, tls):
    from fsskernels.mpc import net

    role = f"party{rank}"
    cfg = net.check_security(tls, role, ["127.0.0.1"])
    if rank == 0:
        link = net.listen(role, "127.0.0.1", port, ("party1",), cfg, 60, 60)["party1"]
    else:
        link = net.connect(role, "party0", "127.0.0.1", port, cfg, 60, 60)
    ch = net.SocketChannel(link, rank, 60)
    return ch.exchange, ch.send, ch.recv, ch


def side(engine: str, rank: int, port: int, mb: float, reps: int, pings: int, certs: str | None) -> dict:
    if engine == "gloo":
        exchange, send, recv, keep = _gloo(rank, port)
    else:
        exchange, send, recv, keep = _ours(rank, port, certs if engine == "socket+tls" else False)
    n = int(mb * 1e6)
    data = np.frombuffer(np.random.default_rng(rank).bytes(n), np.uint8).copy()  # csprng-ok: benchmark payload
    for _ in range(3):
        exchange(data, n)
    ex = []
    for _ in range(reps):
        t = time.perf_counter()
        exchange(data, n)
        ex.append(time.perf_counter() - t)
    one = np.zeros(8, np.uint8)
    pp = []
    for _ in range(pings):
        t = time.perf_counter()
        if rank == 0:
            send(one)
            recv(8)
        else:
            recv(8)
            send(one)
        pp.append(time.perf_counter() - t)
    exchange(one, 8)  # both done before either closes
    ms = statistics.median(ex) * 1e3
    return {"engine": engine, "exchange_ms": round(ms, 3), "exchange_MBps_each_way": round(n / 1e6 / (ms / 1e3), 1),
            "pingpong_us": round(statistics.median(pp) * 1e6, 1), "mb": mb}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=5.505024)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--pings", type=int, default=200)
    ap.add_argument("--engines", default="gloo,socket,socket+tls")
    ap.add_argument("--side", nargs=4, default=None, metavar=("ENGINE", "RANK", "PORT", "CERTS"))
    a = ap.parse_args(argv)
    if a.side:
        engine, rank, port, certs = a.side
        res = side(engine, int(rank), int(port), a.mb, a.reps, a.pings, certs)
        if int(rank) == 0:
            print(json.dumps(res), flush=True)
        return 0
    from fsskernels.mpc.certs import make_certs

    with tempfile.TemporaryDirectory() as d:
        make_certs(d)
        for engine in a.engines.split(","):
            port = _free_port()
            cmd = [sys.executable, __file__, "--mb", str(a.mb), "--reps", str(a.reps), "--pings", str(a.pings), "--side"]
            procs = [subprocess.Popen(cmd + [engine, str(r), str(port), d], stdout=subprocess.PIPE, text=True)
                     for r in (0, 1)]
            out = procs[0].communicate(timeout=600)[0]
            procs[1].wait(timeout=60)
            print(out.strip(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
