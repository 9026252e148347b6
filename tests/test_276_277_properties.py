"""Hypothesis: generated claim status models survive JSON -> X12 -> JSON, and a second cycle changes nothing.

Requests (276) are generated in PokitDok's shape; responses (277) with several
providers, patients, claims, service lines and statuses whose codes come from
the 507/508 tables (descriptions are added on read, so the input must be
contained in the output rather than equal to it).
"""
from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings, strategies as st

from x12engine import EnvelopeSettings, to_models, to_x12
from x12engine.codes import load_table
from conftest import NOW

TEXT = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=2, max_size=12)
DATES = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31))
MONEY = st.decimals(min_value=0, max_value=99999, places=2).map(lambda d: {"amount": str(d), "currency": "USD"})
CATEGORIES = st.sampled_from(load_table("claim_status_category").codes())
STATUS_CODES = st.sampled_from(load_table("claim_status").codes())


def contains(got, want) -> bool:
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and contains(got[k], v) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(contains, got, want))
    return got == want


@st.composite
def period(draw, start="service_date", end="service_end_date") -> dict:
    a = draw(DATES)
    out = {start: a.isoformat()}
    if draw(st.booleans()):
        out[end] = (a + dt.timedelta(days=draw(st.integers(0, 30)))).isoformat()
    return out


@st.composite
def person(draw) -> dict:
    out = {"last_name": draw(TEXT), "first_name": draw(TEXT)}
    if draw(st.booleans()):
        out["middle_name"] = draw(TEXT)
    return out


@st.composite
def provider(draw) -> dict:
    out = draw(person()) if draw(st.booleans()) else {"organization_name": draw(TEXT)}
    ids = draw(st.lists(st.sampled_from(["npi", "tax_id", "service_provider_number"]), min_size=1, max_size=3, unique=True))
    out.update({k: draw(TEXT) for k in ids})
    return out


@st.composite
def request(draw) -> dict:
    member = lambda: st.builds(lambda p, b, g, i: {**p, "birth_date": b.isoformat(), "gender": g, "id": i},
                               person(), DATES, st.sampled_from(["male", "female"]), TEXT)
    out = {"patient": draw(member()), "provider": draw(provider()), "trading_partner_id": draw(TEXT)}
    out.update(draw(period()))
    if draw(st.booleans()):
        out["subscriber"] = draw(member())
    for key in ("tracking_id", "patient_control_number", "bill_type_id"):
        if draw(st.booleans()):
            out[key] = draw(TEXT)
    if draw(st.booleans()):
        out["claim_charge_amount"] = draw(st.integers(0, 99999))
    return out


@st.composite
def status(draw, amounts: bool) -> dict:
    out = {"status_category_code": draw(CATEGORIES), "status_code_value": draw(STATUS_CODES),
           "status_effective_date": draw(DATES).isoformat()}
    if draw(st.booleans()):
        out["entity_identifier_code"] = draw(st.sampled_from(["PR", "QC", "1P", "41"]))
    if draw(st.booleans()):
        out["secondary_status_category_code"] = draw(CATEGORIES)
        out["secondary_status_code_value"] = draw(STATUS_CODES)
        if draw(st.booleans()):
            out["tertiary_status_category_code"] = draw(CATEGORIES)
            out["tertiary_status_code_value"] = draw(STATUS_CODES)
    if amounts:
        out["total_claim_amount"] = draw(MONEY)
        if draw(st.booleans()):
            out["claim_payment_amount"] = draw(MONEY)
            out["adjudication_finalized_date"] = draw(DATES).isoformat()
            out["remittance_date"] = draw(DATES).isoformat()
            out["check_number"] = draw(TEXT)
    return out


@st.composite
def claim(draw) -> dict:
    out = {"tracking_id": draw(TEXT), "statuses": draw(st.lists(status(True), min_size=1, max_size=2))}
    out.update(draw(period()))
    for key in ("claim_control_number", "patient_control_number"):
        if draw(st.booleans()):
            out[key] = draw(TEXT)
    services = draw(st.lists(st.builds(
        lambda code, charge, paid, when, sts: {"cpt_code": code, "charge_amount": charge, "payment_amount": paid,
                                               "units": 1, "service_date": when.isoformat(), "statuses": sts},
        TEXT, MONEY, MONEY, DATES, st.lists(status(False), min_size=1, max_size=2)), max_size=2))
    if services:
        out["services"] = services
    return out


@st.composite
def patient(draw) -> dict:
    out = {**draw(person()), "claims": draw(st.lists(claim(), min_size=1, max_size=2))}
    if draw(st.booleans()):
        out["subscriber"] = {**draw(person()), "id": draw(TEXT)}
    else:
        out["id"] = draw(TEXT)
    return out


@st.composite
def response(draw) -> dict:
    providers = draw(st.lists(provider(), min_size=1, max_size=2))
    for p in providers:
        if draw(st.booleans()):
            p["trace_number"] = draw(TEXT)
            p["statuses"] = draw(st.lists(status(False), min_size=1, max_size=2))
    out = {"trading_partner_id": draw(TEXT), "payer": {"name": draw(TEXT), "id": draw(TEXT)},
           "submitter": {**draw(person()), "id": draw(TEXT)}, "patient": draw(patient()), "providers": providers}
    for p in providers[1:] if draw(st.booleans()) else providers:
        if draw(st.booleans()):
            p["patients"] = draw(st.lists(patient(), min_size=1, max_size=2))
    return out


def cycle(model: dict, transaction: str) -> tuple[dict, dict]:
    x12 = to_x12(model, transaction=transaction, settings=EnvelopeSettings(now=NOW))
    doc = to_models(x12.encode())
    (entry,) = doc["transactions"]
    assert entry["map"] == transaction and "unmapped" not in entry
    assert not [f for f in entry["findings"] if f["code"] != "unreadable_value"], entry["findings"]
    again = to_models(to_x12(doc).encode())
    return entry["model"], again["transactions"][0]["model"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request())
def test_276_request_round_trip(model):
    first, second = cycle(model, "276")
    assert contains(first, model)
    assert first == second


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(response())
def test_277_response_round_trip(model):
    first, second = cycle(model, "277")
    assert contains(first, model)
    assert first == second
