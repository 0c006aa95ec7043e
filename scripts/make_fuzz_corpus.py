"""Writes the seed corpus of the key-parser fuzz targets, tests/fuzz/corpus/keys/*.bin:
small valid key batches of every scheme and shape class (DPF/DCF, one-bit and wide outputs,
early termination, several tiles, an empty batch), made with fixed test seeds (public test
data, not secret keys). Deterministic: rerunning gives identical files.
Usage: python scripts/make_fuzz_corpus.py"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fsskernels as fk

OUT = Path(__file__).resolve().parent.parent / "tests" / "fuzz" / "corpus" / "keys"
SHAPES = [  # scheme, bits, out_bits, count
    ("dpf", 8, 8, 1), ("dpf", 8, 1, 3), ("dpf", 3, 64, 2), ("dpf", 20, 64, 2), ("dpf", 64, 16, 1),
    ("dcf", 8, 16, 2), ("dcf", 16, 1, 3), ("dcf", 64, 64, 1), ("dcf", 5, 40, 33), ("dpf", 12, 2, 0),
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for i, (scheme, bits, out_bits, n) in enumerate(SHAPES):
        gen = fk.dpf_gen if scheme == "dpf" else fk.dcf_gen
        alpha = (np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15 % 2**bits if bits < 64 else 0x9E3779B97F4A7C15)) & np.uint64((1 << bits) - 1 if bits < 64 else 2**64 - 1)
        k0, k1 = gen(alpha, 3, bits=bits, out_bits=out_bits, seed=100 + i)
        for party, kb in ((0, k0), (1, k1)):
            (OUT / f"{scheme}_{bits}_{out_bits}_n{n}_p{party}.bin").write_bytes(kb.to_bytes())
    print(f"wrote {2 * len(SHAPES)} files to {OUT}")


if __name__ == "__main__":
    main()
