"""The ``fsskernels`` command: ``demo`` (two-party private inference), ``bench`` (kernel
benchmarks, see fsskernels.bench), ``info`` (build information)."""
from __future__ import annotations

import json
import sys


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd = argv.pop(0) if argv else "help"
    if cmd == "demo":
        from .demo import main as demo_main

        return demo_main(argv)
    if cmd == "bench":
        from .bench.__main__ import main as bench_main

        return bench_main(argv)
    if cmd == "info":
        from . import available_backends, build_info

        print(json.dumps({**build_info(), "backends": available_backends()}, indent=2))
        return 0
    print("usage: fsskernels {demo,bench,info} [options]   (fsskernels demo --help)")
    return 0 if cmd in ("help", "-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main())
