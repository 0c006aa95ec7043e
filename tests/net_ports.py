"""Free loopback ports for tests that start listeners, taken BELOW the OS's ephemeral range:
ports handed out by bind(("127.0.0.1", 0)) lie inside that range, where the outgoing
connections of the very processes under test can take a port between the check and the bind
("Address already in use"). A per-process cursor keeps consecutive calls distinct."""
from __future__ import annotations

import os
import socket

_LOW = 10000
_cursor: list[int] = []


def _ephemeral_low() -> int:
    """The lowest port the OS hands out to outgoing connections (Linux; 32768 elsewhere)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _free(p: int, span: int) -> bool:
    for q in range(p, p + span):
        with socket.socket() as t:
            try:
                t.bind(("127.0.0.1", q))
            except OSError:
                return False
    return True


def free_port_range(span: int = 1) -> int:
    """A port p such that p .. p + span - 1 are free now and outside the ephemeral range."""
    top = max(min(_ephemeral_low(), 65536) - span, _LOW + span)
    width = top - _LOW
    if not _cursor:
        _cursor.append(_LOW + (os.getpid() * 7919) % width)  # spread concurrent test runs
    for _ in range(width // span + 1):
        p = _cursor[0]
        _cursor[0] = p + span if p + 2 * span <= top else _LOW
        if _free(p, span):
            return p
    raise RuntimeError("no free port range below the ephemeral range")
