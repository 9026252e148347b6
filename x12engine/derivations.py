"""Named derivations for ``derive NAME = fn(field, ...)`` in maps.

A derivation computes a read-only JSON value from fields the map has already
read (roll-ups that X12 spreads over many segments). It never touches X12: on
build the derived field is accepted and ignored, and the next read recomputes
it. Each derivation declares its pydantic type so models stay generated.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model


class Money(BaseModel):
    """PokitDok's amount object; the amount is text, exactly as X12 sent it."""

    model_config = ConfigDict(extra="forbid")
    amount: Annotated[str, Field(pattern=r"^-?(\d+(\.\d*)?|\.\d+)$")] | int | float
    currency: Literal["USD"] = "USD"


@dataclass(frozen=True, slots=True)
class Derivation:
    function: Callable[..., Any]  # (values of the named fields) -> JSON value or None
    type: Any  # pydantic type of the result
    arity: int


def _get(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


# ----------------------------------------------------------------------------
# benefit_summary: deductible / out-of-pocket totals by level × network
# ----------------------------------------------------------------------------
_INDIVIDUAL_LEVELS = frozenset({"individual", "employee_only"})
_LIMIT_PERIODS = frozenset({None, "calendar_year", "service_year", "contract", "episode", "visit", "admission",
                            "years", "month", "week", "day", "hour", "24_hours", "lifetime", "outlier"})
_APPLIED_PERIODS = frozenset({"year_to_date"})
_REMAINING_PERIODS = frozenset({"remaining"})


def _amount(item: dict) -> Decimal | None:
    m = item.get("benefit_amount")
    try:
        return Decimal(str(m["amount"])) if isinstance(m, dict) and "amount" in m else None
    except InvalidOperation:
        return None


def _fmt(d: Decimal) -> str:
    return str(d.quantize(Decimal("0.01")))


def benefit_summary(items: Any) -> dict | None:
    """Roll benefit items (deductibles or out-of-pocket) up into level × network × limit/applied/remaining.

    Level: ``individual``/``employee_only`` or no level → individual, every other
    coverage level → family. Network: in_plan_network yes → in_network, no →
    out_of_network, anything else (not_applicable, unknown, absent) → both.
    Time period: remaining → remaining, year_to_date → applied, a period or none
    → limit. The first item for a slot wins, items naming their network before
    those that apply to both. A missing applied or remaining is computed from
    the other two.
    """
    if not isinstance(items, list):
        return None
    slots: dict[tuple[str, str, str], str] = {}
    networks = {"yes": ("in_network",), "no": ("out_of_network",)}
    for specific in (True, False):
        for item in items:
            if not isinstance(item, dict) or _amount(item) is None:
                continue
            nets = networks.get(item.get("in_plan_network"))
            if (nets is not None) != specific:
                continue
            nets = nets or ("in_network", "out_of_network")
            level = item.get("coverage_level")
            level = "individual" if level is None or level in _INDIVIDUAL_LEVELS else "family"
            period = item.get("time_period")
            kind = ("remaining" if period in _REMAINING_PERIODS else "applied" if period in _APPLIED_PERIODS
                    else "limit" if period in _LIMIT_PERIODS else None)
            if kind is None:
                continue
            for net in nets:
                slots.setdefault((level, net, kind), str(item["benefit_amount"]["amount"]))
    out: dict = {}
    for level, net in {(lv, n) for lv, n, _ in slots}:
        got = {k: Decimal(slots[(level, net, k)]) for k in ("limit", "applied", "remaining") if (level, net, k) in slots}
        entry = {k: {"amount": slots[(level, net, k)], "currency": "USD"} for k in got}
        if "limit" in got and "remaining" in got and "applied" not in got:
            entry["applied"] = {"amount": _fmt(got["limit"] - got["remaining"]), "currency": "USD"}
        if "limit" in got and "applied" in got and "remaining" not in got:
            entry["remaining"] = {"amount": _fmt(got["limit"] - got["applied"]), "currency": "USD"}
        out.setdefault(level, {})[net] = entry
    return out or None


def _summary_type() -> Any:
    cfg = ConfigDict(extra="forbid")
    slot = create_model("BenefitTotals", __config__=cfg, limit=(Optional[Money], None), applied=(Optional[Money], None),
                        remaining=(Optional[Money], None))
    net = create_model("BenefitTotalsByNetwork", __config__=cfg, in_network=(Optional[slot], None),
                       out_of_network=(Optional[slot], None))
    return create_model("BenefitSummary", __config__=cfg, individual=(Optional[net], None), family=(Optional[net], None))


DERIVATIONS: dict[str, Derivation] = {
    "benefit_summary": Derivation(benefit_summary, _summary_type(), 1),
}


def get(name: str, nargs: int) -> Derivation:
    d = DERIVATIONS.get(name)
    if d is None:
        raise ValueError(f"unknown derivation `{name}` (known: {', '.join(sorted(DERIVATIONS))})")
    if nargs != d.arity:
        raise ValueError(f"derivation `{name}` takes {d.arity} field(s), got {nargs}")
    return d


def compute(d: Derivation, data: dict, fields: tuple[str, ...]) -> Any:
    return d.function(*(_get(data, f) for f in fields))
