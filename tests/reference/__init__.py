"""Independent pure-Python reference of docs/kernels.md (PRG, DPF, DCF, key format).

Written plainly from the spec, one key at a time, with Python ints; slow but simple. The
tests compare the compiled kernels against it byte for byte.
"""
