"""Per-map checks on the semantic JSON, run after reading and before building.

A map's model can be well-formed field by field and still be inconsistent as a
whole (an 835 whose amounts do not add up). Such rules live in Python modules
that register a check for a map name; :mod:`x12engine.convert` runs them and
reports what they find as warnings on read and as a ``BuildError`` on build.
Issues name a JSON path and a stable code, never a value that could be PHI.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True, slots=True)
class CheckIssue:
    code: str  # stable machine code, e.g. claim_out_of_balance
    path: str  # JSON path inside the model, e.g. claim_payments[2].services[0]
    message: str  # what is wrong; amounts at most, never names or ids
    whole_set: bool = False  # about the set's totals: meaningless for one claim streamed on its own

    def describe(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


Check = Callable[[dict], list[CheckIssue]]

_CHECKS: dict[str, list[Check]] = {}


def register(map_name: str) -> Callable[[Check], Check]:
    """Decorator: run ``fn(model)`` for every model of the map named ``map_name``."""

    def add(fn: Check) -> Check:
        _CHECKS.setdefault(map_name, []).append(fn)
        return fn

    return add


def checks_for(map_name: str) -> tuple[Check, ...]:
    return tuple(_CHECKS.get(map_name, ()))


def run_checks(map_name: str, model: dict) -> list[CheckIssue]:
    issues: list[CheckIssue] = []
    for fn in checks_for(map_name):
        issues.extend(fn(model))
    return issues
