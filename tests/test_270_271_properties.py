"""Hypothesis: generated eligibility requests and responses survive JSON → X12 → JSON unchanged."""
from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings, strategies as st

from x12engine import EnvelopeSettings, to_models, to_x12
from x12engine.codes import load_table
from conftest import NOW

TEXT = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=2, max_size=12)
TPID = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=4, max_size=15)
DATES = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)).map(dt.date.isoformat)
AMOUNTS = st.decimals(min_value=0, max_value=99999, places=2).map(lambda d: {"amount": str(d), "currency": "USD"})


def enums(table: str, exclude: tuple[str, ...] = ()):
    return st.sampled_from([e for e in load_table(table).enums() if e not in exclude])


def optional(d: dict) -> st.SearchStrategy:
    """Objects with any subset of the given field strategies."""
    return st.fixed_dictionaries({}, optional=d)


MEMBER = {"last_name": TEXT, "first_name": TEXT, "birth_date": DATES, "gender": enums("gender"), "id": TEXT}
PROVIDER = st.fixed_dictionaries({"npi": st.from_regex(r"\A[0-9]{10}\Z"), "organization_name": TEXT})
SERVICE_TYPES = st.lists(enums("service_type"), min_size=1, max_size=3, unique=True)
BENEFIT = optional({
    "coverage_level": enums("coverage_level"), "service_types": SERVICE_TYPES, "insurance_type": enums("insurance_type"),
    "plan_description": TEXT, "time_period": enums("time_period_qualifier"), "benefit_amount": AMOUNTS,
    "benefit_percent": st.sampled_from([0, 0.1, 0.2, 0.5, 1]), "authorization_required": enums("authorization_required"),
    "in_plan_network": enums("in_plan_network"), "messages": st.lists(st.fixed_dictionaries({"message": TEXT}), min_size=1, max_size=3),
})
LISTS = ("coinsurance", "deductibles", "out_of_pocket", "limitations", "non_covered", "cannot_process")


def _with_codes(item: dict) -> dict:
    """service_type_codes always accompany service_types on read."""
    if "service_types" in item:
        table = load_table("service_type")
        item = {**item, "service_type_codes": [table.code_for(e) for e in item["service_types"]]}
    return item


@st.composite
def responses(draw) -> dict:
    tp = draw(TPID)
    coverage = {name: [_with_codes(b) for b in draw(st.lists(BENEFIT, max_size=2))] for name in draw(st.sets(st.sampled_from(LISTS), max_size=3))}
    coverage = {k: v for k, v in coverage.items() if v}
    return {"trading_partner_id": tp, "payer": {"name": draw(TEXT), "id": draw(TEXT)}, "provider": draw(PROVIDER),
            "subscriber": draw(optional(MEMBER)) or {"id": "W0"}, "coverage": coverage}


@st.composite
def requests(draw) -> dict:
    out = {"trading_partner_id": draw(TPID), "provider": draw(PROVIDER), "member": draw(optional(MEMBER)) or {"id": "W0"}}
    extra = draw(optional({"service_types": SERVICE_TYPES.filter(lambda s: s != ["health_benefit_plan_coverage"]),
                           "cpt_code": st.from_regex(r"\A[0-9]{5}\Z")}))
    return {**out, **extra}


def _round(model: dict, transaction: str) -> dict:
    x12 = to_x12(model, transaction=transaction, settings=EnvelopeSettings(now=NOW))
    (t,) = to_models(x12.encode())["transactions"]
    assert t["map"] == transaction and not t.get("unmapped")
    return t["model"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_request_round_trip(request):
    got = _round(request, "270")
    tp = request["trading_partner_id"]
    assert got == {**request, "payer": {"name": tp, "id": tp}}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(responses())
def test_response_round_trip(response):
    got = _round(response, "271")
    derived = {k: got.pop(k) for k in ("valid_request", "summary", "pharmacy", "benefit_related_entities") if k in got}
    active = got["coverage"].pop("active")
    assert derived["valid_request"] is True and active is False
    if not got["coverage"]:
        got.pop("coverage")
    expected = {**response}
    if not expected["coverage"]:
        expected.pop("coverage")
    assert got == expected
    assert _round({**got, **derived}, "271") == {**got, **derived, **({"coverage": {**got.get("coverage", {}), "active": False}})}
