"""Coverage-guided fuzzing of key parsing with atheris (libFuzzer for Python):

    pip install atheris
    python tests/fuzz/fuzz_keys.py -max_total_time=30 tests/fuzz/corpus/keys     # CI budget
    python tests/fuzz/fuzz_keys.py -max_total_time=3600 -jobs=2 /tmp/kcorpus tests/fuzz/corpus/keys  # longer run

Targets (FSS_FUZZ_TARGET):
  keys   (default) KeyBatch.from_bytes and the property of tests/fuzz/key_target.py: ValueError
         naming "keys", or a batch that evaluates like the pure-Python reference.
  piece  fsskernels.mpc.material.parse_piece (dealer material): any input parses or raises
         MaterialError (read-only use of the runtime; its seed corpus belongs in
         tests/fuzz/corpus/piece, made by the runtime's owner).
Python code is instrumented; the C++ parser is exercised (and crashes are caught by the
process dying) but not coverage-instrumented: for that, build tests/fuzz/fuzz_keyparse.c with
clang -DFSS_LIBFUZZER=ON (docs/kernels.md section 8). A crash writes crash-<hash> in the
working directory: add it to the corpus once fixed."""
from __future__ import annotations

import os
import sys

import atheris

TARGET = os.environ.get("FSS_FUZZ_TARGET", "keys")

with atheris.instrument_imports():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import key_target
    import fsskernels.keys  # noqa: F401
    if TARGET == "piece":
        from fsskernels.mpc.material import MaterialError, parse_piece


def one_key_input(data: bytes) -> None:
    key_target.check_one(data, reference=len(data) < 20000)
    # The same bytes with a correct checksum: mutations then reach the body checks and
    # evaluation instead of stopping at the checksum test.
    if len(data) >= 32:
        key_target.check_one(key_target.K.rechecksum(data), reference=len(data) < 20000)


def one_piece_input(data: bytes) -> None:
    try:
        parse_piece(data)
    except MaterialError:
        pass


def main() -> None:
    target = {"keys": one_key_input, "piece": one_piece_input}.get(TARGET)
    if target is None:
        raise SystemExit(f"FSS_FUZZ_TARGET: expected keys or piece, got {TARGET!r}")
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
