"""pytest configuration for the kernel microbenchmarks in bench/ (pytest-benchmark).

Run: pytest bench/ --benchmark-only   (the normal test suite, tests/, never collects bench/).
Files here are named bench_*.py, so this hook collects them when bench/ is passed explicitly.
"""
from __future__ import annotations

import pytest


def pytest_collect_file(file_path, parent):
    # Files named on the command line are collected by pytest itself; do not add them twice.
    if (file_path.suffix == ".py" and file_path.name.startswith("bench_")
            and not parent.session.isinitpath(file_path)):
        return pytest.Module.from_parent(parent, path=file_path)
    return None
