"""Named derivations for ``derive NAME = fn(field, ...)`` in maps.

A derivation computes a read-only JSON value from fields the map has already
read (roll-ups that X12 spreads over many segments). It never touches X12: on
build the derived field is accepted and ignored, and the next read recomputes
it. Each derivation declares its pydantic type so models stay generated.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from decimal import Decimal
from typing import Annotated, Any, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model

from .balance import amount
from .transforms import AMOUNT_PATTERN


class Money(BaseModel):
    """PokitDok's amount object; the amount is text, exactly as X12 sent it."""

    model_config = ConfigDict(extra="forbid")
    amount: Annotated[str, Field(pattern=f"^{AMOUNT_PATTERN}$")] | int | float
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
    return amount(m) if isinstance(m, dict) else None


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
    for level, net in dict.fromkeys((lv, n) for lv, n, _ in slots):  # first-seen order, not hash order
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


# ----------------------------------------------------------------------------
# eligibility (271): benefit related entities, other payers, pharmacy
# ----------------------------------------------------------------------------
@cache
def _coverage_lists() -> dict[str, str | None]:
    """PokitDok's coverage lists and the EB01 enum each holds, read from the 271 map
    itself (`list NAME at 2110C [EB01=CODE]` inside `coverage`); a list without a
    single code (`benefits`) has items that name their own code in `benefit`."""
    from .codes import load_table
    from .maplang import Block, When
    from .mapcatalog import load_map

    table = load_table("eligibility_benefit")
    out: dict[str, str | None] = {}

    def walk(body: list, in_coverage: bool) -> None:
        for stmt in body:
            if type(stmt) is When:
                walk(stmt.then, in_coverage)
                walk(stmt.otherwise, in_coverage)
                continue
            if type(stmt) is not Block:
                continue
            if in_coverage and stmt.kind == "list_at" and stmt.path and stmt.path[-1].loop.startswith("2110"):
                conds = [c for c in stmt.path[-1].conds if c.ref.segment == "EB" and c.ref.element == 1]
                codes = conds[0].codes if conds else ()
                out.setdefault(stmt.name, table.enum_for(codes[0]) if len(codes) == 1 else None)
                continue  # lists inside a benefit item are not coverage lists
            walk(stmt.body, in_coverage or (stmt.kind == "object" and stmt.name == "coverage"))

    walk(load_map("271").map.body, False)
    return out


_PAYER_ROLES = ("primary_payer", "secondary_payer", "tertiary_payer")
# Service types that are pharmacy benefits (X12 1365): pharmacy, prescription drugs, pharmacy kinds.
_PHARMACY_TYPES = frozenset({"88", "89", "90", "91", "92", "E24", "E25", "EB"})
_ACTIVE = frozenset({"active_coverage", "active_full_risk_capitation", "active_services_capitated",
                     "active_services_capitated_to_primary_care_physician", "active_pending_investigation"})


def _benefit_items(coverage: Any) -> list[tuple[str | None, dict]]:
    """(EB01 enum, item) for `coverage` itself (active coverage) and every item of its lists."""
    if not isinstance(coverage, dict):
        return []
    out: list[tuple[str | None, dict]] = []
    if any(k in coverage for k in ("level", "service_type_codes", "benefit_related_entities", "insurance_type",
                                   "plan_description", "active_coverage_references", "benefit_amount", "time_period")):
        out.append(("active_coverage", coverage))
    for name, code in _coverage_lists().items():
        items = coverage.get(name)
        if isinstance(items, list):
            out.extend((item.get("benefit") if code is None else code, item) for item in items if isinstance(item, dict))
    return out


def related_entities(coverage: Any) -> list | None:
    """Every 2120 entity of every benefit, with that benefit's EB01/EB02/EB03, as PokitDok's top-level list.

    The entities stay in their benefits (where a rebuild puts them); this is a
    read-only copy in PokitDok's shape, each naming the benefit it came with.
    """
    out: list[dict] = []
    for eb01, item in _benefit_items(coverage):
        for entity in item.get("benefit_related_entities") or ():
            if not isinstance(entity, dict):
                continue
            copy = dict(entity)
            if isinstance(eb01, str):
                copy["eligibility_or_benefit_information"] = eb01
            level = item.get("level", item.get("coverage_level"))
            if level is not None:
                copy["coverage_level"] = level
            for key in ("service_types", "service_type_codes"):
                if item.get(key):
                    copy[key] = list(item[key])
            out.append(copy)
    return out or None


def _person_name(entity: dict) -> str | None:
    if entity.get("organization_name"):
        return entity["organization_name"]
    parts = [entity.get(k) for k in ("first_name", "middle_name", "last_name", "suffix")]
    return " ".join(p for p in parts if p) or None


def _payer_entity(entities: Any) -> dict | None:
    """The entity that names an other payer: a payer-role entity first, else the first one."""
    if not isinstance(entities, list):
        return None
    ok = [e for e in entities if isinstance(e, dict)]
    for e in ok:
        if e.get("entity_identifier_code") in _PAYER_ROLES + ("payer",):
            return e
    return ok[0] if ok else None


def entity_name(entities: Any) -> str | None:
    """The other payer's name (PokitDok's other_payers[].name) from its 2120 entity."""
    e = _payer_entity(entities)
    return _person_name(e) if e is not None else None


def payer_role(entities: Any) -> str | None:
    """primary/secondary/tertiary_payer when the other payer's entity code says so."""
    e = _payer_entity(entities)
    code = e.get("entity_identifier_code") if e is not None else None
    return code if code in _PAYER_ROLES else None


def _is_pharmacy(item: dict) -> bool:
    return any(c in _PHARMACY_TYPES for c in item.get("service_type_codes") or ())


def pharmacy_benefits(coverage: Any) -> dict:
    """PokitDok's `pharmacy` object from the benefits that cover pharmacy service types.

    is_eligible: an active benefit or an other payer covers a pharmacy service
    type (Medicare Part D is reported as an other payer). plan_number and
    benefits_manager come from that benefit (its REF 18 and 2120 entity), copay
    from the co-payments for pharmacy service types.
    """
    out: dict = {"is_eligible": False}
    covering = [item for eb01, item in _benefit_items(coverage)
                if _is_pharmacy(item) and (eb01 in _ACTIVE or eb01 == "other_or_additional_payor")]
    # a benefit naming its manager (a 2120 entity: the Part D plan, the PBM) says most
    source = next((i for i in covering if i.get("benefit_related_entities")), covering[0] if covering else None)
    if source is not None:
        out["is_eligible"] = True
        plans = [((i.get("active_coverage_references") or {}) if i is coverage else i).get("plan_number")
                 for i in [source, *covering]]
        plan = next((p for p in plans if p), None)
        if plan:
            out["plan_number"] = plan
        entity = _payer_entity(source.get("benefit_related_entities"))
        if entity is not None:
            manager: dict = {}
            name = _person_name(entity)
            if name:
                manager["name"] = name
            for contact in entity.get("contacts") or ():
                for key in ("phone", "url"):
                    if isinstance(contact, dict) and contact.get(key) and key not in manager:
                        manager[key] = contact[key]
            if source.get("plan_description"):
                manager["coverage_description"] = source["plan_description"]
            if manager:
                out["benefits_manager"] = manager
        dates = [source.get(k) for k in ("benefit_begin_date", "plan_begin_date", "eligibility_begin_date")]
        if any(dates):
            out["benefit_date"] = next(d for d in dates if d)
    copays = []
    for eb01, item in _benefit_items(coverage):
        if eb01 == "co_payment" and _is_pharmacy(item) and isinstance(item.get("copayment"), dict):
            copay: dict = {"copayment": item["copayment"], "type": list(item.get("service_types") or ())}
            notes = [m.get("message") for m in item.get("messages") or () if isinstance(m, dict) and m.get("message")]
            if notes:
                copay["notes"] = " ".join(notes)
            copays.append(copay)
    if copays:
        out["copay"] = copays
    return out


def _entities_type() -> Any:
    # the entity items are the map's own; their copies are checked there, not here
    return Optional[list[dict[str, Any]]]


def _pharmacy_type() -> Any:
    cfg = ConfigDict(extra="forbid")
    manager = create_model("PharmacyBenefitsManager", __config__=cfg, name=(Optional[str], None),
                           phone=(Optional[str], None), url=(Optional[str], None),
                           coverage_description=(Optional[str], None))
    copay = create_model("PharmacyCopay", __config__=cfg, copayment=(Optional[Money], None),
                         type=(Optional[list[str]], None), notes=(Optional[str], None),
                         tier=(Optional[str], None), supply=(Optional[str], None))
    return Optional[create_model("Pharmacy", __config__=cfg, is_eligible=(bool, False),
                                 plan_number=(Optional[str], None), benefit_date=(Optional[str], None),
                                 benefits_manager=(Optional[manager], None), copay=(Optional[list[copay]], None))]


DERIVATIONS: dict[str, Derivation] = {
    "benefit_summary": Derivation(benefit_summary, _summary_type(), 1),
    "related_entities": Derivation(related_entities, _entities_type(), 1),
    "entity_name": Derivation(entity_name, Optional[str], 1),
    "payer_role": Derivation(payer_role, Optional[str], 1),
    "pharmacy_benefits": Derivation(pharmacy_benefits, _pharmacy_type(), 1),
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
