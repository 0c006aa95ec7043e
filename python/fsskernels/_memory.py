"""Process memory settings for the two-party runtime.

numpy advises the kernel to back every array of 4 MB or more with transparent huge pages
(madvise(MADV_HUGEPAGE)). With the kernel's default THP policy (defrag "madvise"), a page
fault in such a range compacts memory synchronously when no free 2 MB page is at hand. The
runtime allocates and frees gigabytes of short-lived dealer material (FSS keys, masks) per
training step, so those faults stall: on the 2-core development VM, one MiniLM layer
forward + backward with the dealer inside took 8.3-10.7 s with the advice and 6.8 s without.
``avoid_hugepage_stalls()`` turns the advice off for this process (numpy's own switch;
results do not change). A user who sets NUMPY_MADVISE_HUGEPAGE keeps numpy's choice.
"""
from __future__ import annotations

import os

_done = False


def avoid_hugepage_stalls() -> None:
    """Turn numpy's huge-page advice off once per process (no-op if NUMPY_MADVISE_HUGEPAGE
    is set, or if this numpy has no switch)."""
    global _done
    if _done:
        return
    _done = True
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return
    try:
        from numpy._core import multiarray as ma  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray as ma
    switch = getattr(ma, "_set_madvise_hugepage", None)
    if switch is not None:
        switch(False)
