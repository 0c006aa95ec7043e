"""The runtime turns numpy's huge-page advice off for its process (fsskernels/_memory.py)
unless the user chose it with NUMPY_MADVISE_HUGEPAGE."""
import subprocess
import sys

from mpc_helpers import child_env

PROBE = """
try:
    from numpy._core import multiarray as ma
except ImportError:
    from numpy.core import multiarray as ma
ma._set_madvise_hugepage(True)
from fsskernels import mpc
mpc.run_local(lambda s: None, seed=1)
print(ma._set_madvise_hugepage(True))
"""


def _probe(extra_env):
    env = child_env()
    env.pop("NUMPY_MADVISE_HUGEPAGE", None)
    env.update(extra_env)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_runtime_turns_the_advice_off():
    assert _probe({}) == "False"


def test_user_choice_is_kept():
    assert _probe({"NUMPY_MADVISE_HUGEPAGE": "1"}) == "True"
