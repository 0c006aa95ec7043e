"""The registry of benchmark cases, shared by ``fsskernels bench`` and the pytest-benchmark files in
``bench/``: one list of cases per section, so a new case is a few lines in one place.

A case has a section (one of SECTIONS), a name, the public parameters it runs with (full and
``--quick`` sizes), a ``requires`` check that returns why it cannot run here (a missing module,
say) or None, and a ``measure(params, reps)`` function that returns one record of raw
measurements (every repetition's seconds, bytes, rounds, errors, and an ``includes`` string that
says what the timed region contains). ``peer`` names the peer measurement it is compared with
(e.g. "crypten:relu"), if any.

Errors: registering a duplicate (section, name) or an unknown section raises ValueError.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

SECTIONS = ("kernels", "gates", "layer", "finetune", "agg", "forward")


class Skip(Exception):
    """Raised by ``measure`` when the case cannot run here; the message is the reason."""


@dataclass(frozen=True)
class Case:
    section: str
    name: str
    measure: Callable[[dict[str, Any], int], dict[str, Any]]
    params: dict[str, Any] = field(default_factory=dict)
    quick_params: dict[str, Any] | None = None
    requires: Callable[[], str | None] = lambda: None
    peer: str | None = None
    description: str = ""

    def params_for(self, quick: bool) -> dict[str, Any]:
        return dict(self.quick_params if quick and self.quick_params is not None else self.params)

    def skip_reason(self) -> str | None:
        try:
            return self.requires()
        except Exception as exc:  # noqa: BLE001 - a broken requirement check is a reason, not a crash
            return f"requirement check failed: {type(exc).__name__}: {exc}"

    def run(self, quick: bool, reps: int) -> dict[str, Any]:
        """{"case", "section", "params", "status": "ok"|"skipped"|"error", ...measurements or "reason"}."""
        params = self.params_for(quick)
        head = {"case": self.name, "section": self.section, "params": params, "peer": self.peer,
                "description": self.description}
        reason = self.skip_reason()
        if reason:
            return {**head, "status": "skipped", "reason": reason}
        try:
            rec = self.measure(params, reps)
        except Skip as exc:
            return {**head, "status": "skipped", "reason": str(exc)}
        except Exception as exc:  # noqa: BLE001 - one failing case must not lose the others' data
            return {**head, "status": "error", "reason": f"{type(exc).__name__}: {exc}"}
        return {**head, "status": "ok", **rec}


_CASES: dict[tuple[str, str], Case] = {}


def register(case: Case) -> Case:
    if case.section not in SECTIONS:
        raise ValueError(f"case.section: expected one of {SECTIONS}, got {case.section!r}")
    key = (case.section, case.name)
    if key in _CASES:
        raise ValueError(f"case: {case.section}/{case.name} is already registered")
    _CASES[key] = case
    return case


def case(section: str, name: str, **kw: Any) -> Callable[[Callable], Callable]:
    """Decorator form: ``@case("gates", "relu", params={...}, peer="crypten:relu")`` on a
    ``measure(params, reps)`` function."""

    def deco(fn: Callable) -> Callable:
        register(Case(section=section, name=name, measure=fn, **kw))
        return fn

    return deco


def cases(section: str | None = None) -> list[Case]:
    """Registered cases (after loading the built-in ones), in registration order."""
    load_builtin()
    if section is not None and section not in SECTIONS:
        raise ValueError(f"section: expected one of {SECTIONS}, got {section!r}")
    return [c for c in _CASES.values() if section is None or c.section == section]


def get(section: str, name: str) -> Case:
    load_builtin()
    try:
        return _CASES[(section, name)]
    except KeyError:
        raise ValueError(f"name: no case {section}/{name}") from None


_loaded = False


def load_builtin() -> None:
    """Imports the modules that register the built-in cases (once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from . import cases_agg, cases_finetune, cases_forward, cases_gates, cases_kernels, cases_layer  # noqa: F401


__all__ = ["SECTIONS", "Case", "Skip", "case", "cases", "get", "load_builtin", "register"]
