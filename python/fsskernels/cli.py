"""The ``fsskernels`` command.

    fsskernels finetune ...   private LoRA fine-tuning on shares (fsskernels.finetune)
    fsskernels federated ...  federated rounds with secure aggregation on Flower (fsskernels.federated)
    fsskernels certs ...      TLS certificates for the links
    fsskernels demo ...       two-party private inference demo (fsskernels.demo)
    fsskernels bench ...      benchmarks beside real peers (fsskernels.bench)
    fsskernels info           build information (JSON)

``fsskernels --help`` lists every command with one line and exits 0; a bare ``fsskernels``
prints the same and exits 2; an unknown command exits 2. A command's failure is one line
on stderr (no traceback) and a non-zero exit code.
"""
from __future__ import annotations

import importlib.util
import json
import sys


def _finetune(argv):
    from .finetune.cli import main

    return main(argv)


def _demo(argv):
    from .demo import main

    return main(argv)


def _bench(argv):
    from .bench.__main__ import main

    return main(argv)


def _federated(argv):
    from .federated.cli import main

    return main(argv)


def _info(argv):
    if argv and argv[0] in ("-h", "--help"):
        print("usage: fsskernels info\n\nPrints the build information and available backends as JSON.")
        return 0
    from . import available_backends, build_info

    print(json.dumps({**build_info(), "backends": available_backends()}, indent=2))
    return 0


def _certs(argv):
    from .mpc.__main__ import main

    return main(["certs", *argv])


def _has_certs() -> bool:
    try:
        spec = importlib.util.find_spec("fsskernels.mpc.__main__")
        return spec is not None and "certs" in open(spec.origin, encoding="utf-8").read()
    except (OSError, ImportError):
        return False


COMMANDS = {
    "finetune": (_finetune, "private LoRA fine-tuning on secret shares vs a plaintext peft run (fsskernels finetune --help)"),
    "federated": (_federated, "federated LoRA rounds on Flower with secure aggregation on shares (fsskernels federated --help)"),
    "demo": (_demo, "two-party private inference demo on Rotten Tomatoes reviews"),
    "bench": (_bench, "benchmarks of kernels, gates, layer, fine-tuning, aggregation beside real peers"),
    "info": (_info, "build information and available backends (JSON)"),
}
COMMANDS["certs"] = (_certs, "make TLS certificates for the parties' and dealer's links")


def usage() -> str:
    w = max(len(c) for c in COMMANDS)
    lines = ["usage: fsskernels <command> [options]", "", "commands:"]
    lines += [f"  {c:<{w}}  {h}" for c, (_, h) in COMMANDS.items()]
    lines += ["", "fsskernels <command> --help shows a command's options."]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(usage())
        return 2
    cmd = argv.pop(0)
    if cmd in ("-h", "--help", "help"):
        print(usage())
        return 0
    if cmd not in COMMANDS:
        print(f"fsskernels: error: unknown command {cmd!r}\n\n{usage()}", file=sys.stderr)
        return 2
    fn = COMMANDS[cmd][0]
    try:
        rc = fn(argv)
    except KeyboardInterrupt:
        print(f"fsskernels {cmd}: interrupted", file=sys.stderr)
        return 130
    except SystemExit as e:  # argparse inside a command: keep its code
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    except Exception as e:  # noqa: BLE001 - one clear line instead of a traceback
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"fsskernels {cmd}: error: {msg}", file=sys.stderr)
        return 2 if isinstance(e, ValueError) else 1
    return 0 if rc is None else int(rc)


if __name__ == "__main__":
    sys.exit(main())
