"""Two processes over loopback (TCP; TLS 1.3 with pinned certificates or plaintext):
bit-identical to the in-process run, a separate dealer process, and clean errors when a
peer or the dealer dies or stalls."""
import importlib.util
import signal

import pytest
import torch

from fsskernels import mpc

from mpc_helpers import WORKER, free_port, spawn

_spec = importlib.util.spec_from_file_location("net_worker", WORKER)
net_worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(net_worker)

SEED = 4242


def _run_parties(tmp_path, scenario, dealer, timeout, certs=None):
    port = free_port()
    dport = port + 1
    procs = []
    sec = ["--certs", str(certs)] if certs else ["--plaintext"]
    if dealer == "process":
        procs.append(spawn(["-m", "fsskernels.mpc", "dealer", "--port", str(dport), "--seed", str(SEED),
                            "--timeout", str(max(timeout, 20))] + sec))
    outs = [tmp_path / f"{scenario}-{p}.pt" for p in (0, 1)]
    extra = [str(certs)] if certs else []
    parties = [spawn([scenario, str(p), str(port), str(outs[p]), dealer, str(SEED), str(timeout)] + extra)
               for p in (0, 1)]
    return procs, parties, outs


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    from fsskernels.mpc.certs import make_certs

    d = tmp_path_factory.mktemp("certs")
    make_certs(d)
    return d


def _wait(procs, limit=90):
    for p in procs:
        try:
            p.wait(timeout=limit)
        except Exception:
            p.kill()
            raise


@pytest.fixture(scope="module")
def local_result():
    return mpc.run_local(net_worker.program, seed=SEED)


@pytest.mark.parametrize("dealer,secure", [("process", True), ("replicated", False)])
def test_network_run_is_bit_identical_to_in_process(tmp_path, local_result, dealer, secure, certs):
    dproc, parties, outs = _run_parties(tmp_path, "compute", dealer, timeout=60, certs=certs if secure else None)
    _wait(parties + dproc)
    for p in (0, 1):
        res = torch.load(outs[p], weights_only=False)
        assert res["ok"], res
        shares, plain, stats = res["result"]
        lshares, lplain, lstats = local_result[p]
        for k in lshares:
            assert torch.equal(shares[k], lshares[k]), f"party {p}: share of {k} differs"
            assert torch.equal(plain[k], lplain[k])
        assert stats["protocols"] == lstats["protocols"]
    d = net_worker.data()
    assert (local_result[0][1]["matmul"] - d["x"] @ d["y"]).abs().max() < 1e-3
    if dproc:
        assert dproc[0].returncode == 0, dproc[0].stderr.read()


def test_killed_peer_gives_clean_error(tmp_path):
    _, parties, outs = _run_parties(tmp_path, "die", "replicated", timeout=30)
    _wait(parties)
    assert parties[1].returncode == 7
    res = torch.load(outs[0], weights_only=False)
    assert not res["ok"] and "PeerError" in res["mro"], res
    assert res["wait"] < 10  # noticed at once, long before the 30 s timeout


def test_peer_that_raises_releases_the_link(tmp_path):
    _, parties, outs = _run_parties(tmp_path, "raise", "replicated", timeout=30)
    _wait(parties[:1])
    parties[1].kill()
    parties[1].wait()
    res = torch.load(outs[0], weights_only=False)
    assert not res["ok"] and "PeerError" in res["mro"], res
    assert res["wait"] < 10  # not the 30 s timeout, although party 1's process is still alive
    assert torch.load(outs[1], weights_only=False)["message"] == "party 1 gave up"


def test_stalled_peer_times_out(tmp_path):
    _, parties, outs = _run_parties(tmp_path, "stall", "replicated", timeout=2)
    _wait(parties[:1])
    parties[1].kill()
    parties[1].wait()
    res = torch.load(outs[0], weights_only=False)
    assert not res["ok"] and res["error"] == "PeerTimeoutError", res
    assert 1.5 < res["wait"] < 15


def test_dealer_death_is_reported(tmp_path, certs):
    dproc, parties, outs = _run_parties(tmp_path, "dealer_dies", "process", timeout=30, certs=certs)
    line = parties[0].stdout.readline()
    assert line.strip() == "READY", parties[0].stderr.read()
    dproc[0].send_signal(signal.SIGKILL)
    _wait(parties)
    for p in (0, 1):
        res = torch.load(outs[p], weights_only=False)
        assert not res["ok"] and "PeerError" in res["mro"] and "dealer" in res["message"], res
        assert res["wait"] < 10
