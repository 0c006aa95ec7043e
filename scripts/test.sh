#!/usr/bin/env bash
# README's test command: install torch first (the CPU wheel, see DATA.md), then the package
# with its test extras (CPU module always, CUDA module when nvcc is found), then the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q torch==2.13.0
python -m pip install -q ".[test]"
python -m pytest -q tests
