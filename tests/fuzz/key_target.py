"""The property checked by the Python fuzz targets for key parsing (KeyBatch.from_bytes):
any byte string is either rejected with ValueError naming "keys", or gives a batch whose
evaluation works and equals the pure-Python reference evaluator (tests/reference), whose
slices validate, and whose serialization round-trips byte for byte. Anything else (another
exception, a crash, a mismatch) is a bug. Used by tests/test_fuzz_keys.py (fixed number of
deterministic mutations, in the test suite) and tests/fuzz/fuzz_keys.py (atheris).
docs/kernels.md section 8."""
from __future__ import annotations

import hashlib
import os
import random  # csprng-ok: public mutation schedule of a fuzz test, no secrets
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus" / "keys"
sys.path.insert(0, str(HERE.parent))  # tests/: the reference package

import fsskernels as fk  # noqa: E402
from reference import keyformat_ref as K  # noqa: E402

MAX_KEYS = 8  # keys evaluated (and checked against the reference) per input


def corpus() -> list[bytes]:
    return [p.read_bytes() for p in sorted(CORPUS.glob("*.bin"))]


def check_one(data: bytes, *, reference: bool = True) -> str:
    """Runs the property on one input; returns "rejected" or "accepted" (raises on a bug)."""
    try:
        kb = fk.KeyBatch.from_bytes(data)
    except ValueError as exc:
        if not str(exc).startswith("keys:"):
            raise AssertionError(f"rejection does not name keys: {exc}") from None
        return "rejected"
    n = len(kb)
    assert kb.nbytes == len(data) and kb.to_bytes() == bytes(data)
    if n == 0 or n > MAX_KEYS:
        return "accepted"
    digest = hashlib.sha256(bytes(data)).digest()
    mask = (1 << kb.bits) - 1
    xs = [int.from_bytes(digest[4 * i: 4 * i + 8], "little") & mask for i in range(n)]
    ev = fk.dpf_eval if kb.scheme == "dpf" else fk.dcf_eval
    got = ev(kb.party, kb, np.array(xs, dtype=np.uint64)).tolist()
    if reference:
        want = K.eval_bytes(kb.party, bytes(data), xs)
        assert got == want, f"kernel {got} != reference {want} for {kb!r}"
    if n > 1:
        assert fk.KeyBatch.from_bytes(kb[1:].to_bytes()).to_bytes() == kb[1:].to_bytes()
    if kb.scheme == "dpf" and kb.bits <= 8:
        full = fk.dpf_eval_all(kb.party, kb)
        assert full.shape == (n, 1 << kb.bits)
        assert [int(full[i, x]) for i, x in enumerate(xs)] == got
    return "accepted"


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One structured mutation; half of the mutants whose header still parses get a valid
    checksum, so the body checks and evaluation are reached too."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(8)
        if op == 0 and buf:
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif op == 2:
            del buf[rng.randrange(len(buf) + 1):]
        elif op == 3:
            buf += bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        elif op == 4 and len(buf) >= 24:
            buf[16:24] = (rng.getrandbits(64) >> rng.randrange(64)).to_bytes(8, "little")
        elif op == 5 and len(buf) >= 10:
            buf[8 + rng.randrange(2)] = rng.randrange(70)
        elif op == 6 and len(buf) >= 8:
            buf[6 + rng.randrange(2)] = rng.randrange(4)
        elif op == 7 and len(buf) > 32:  # body bit flip (then usually re-checksummed)
            buf[32 + rng.randrange(len(buf) - 32)] ^= 1 << rng.randrange(8)
    if len(buf) >= 32 and rng.random() < 0.5:
        buf = bytearray(K.rechecksum(bytes(buf)))
    return bytes(buf)


def run_mutations(count: int, seed: int = 1) -> dict:
    """count deterministic mutants spread over the corpus; returns outcome counts."""
    rng = random.Random(seed)  # csprng-ok: public fuzz schedule
    seeds = corpus()
    stats = {"rejected": 0, "accepted": 0}
    for i in range(count):
        stats[check_one(mutate(seeds[i % len(seeds)], rng))] += 1
    return stats


if __name__ == "__main__":
    print(run_mutations(int(os.environ.get("FSS_FUZZ_COUNT", "2000"))))
