"""The FSS gate suite on shares (forward and backward); public API in ``fsskernels.mpc.functional``.

Layout: material.py (dealer pieces), primitives.py (msb, truncate-reduce, lookup table on raw
shares), compare.py (drelu, relu, comparisons, select, clamp, max), spline.py (piecewise-linear
functions from a lookup table), smooth.py (gelu, tanh, sigmoid, exp, sin, cos), normalize.py
(reciprocal, rsqrt, sqrt, log), composite.py (softmax, log_softmax, layer_norm, dropout,
cross_entropy). docs/gates.md states every gate's domain, error, key and online bytes, rounds.

Round counts in the docstrings count each exact truncation as one round, as with
``FixedPointConfig(trunc_carry="word")``; the default "bit" carry adds one round per
truncation (mpc/truncation.py), which docs/gates.md's measured table includes.
"""
from .material import register as _register

_register()
