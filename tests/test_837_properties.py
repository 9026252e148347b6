"""Hypothesis: generated 837P/I/D models survive JSON → X12 → JSON unchanged.

Batches put several claims under one subscriber and several subscribers (some
with dependents' claims) under one billing provider; the single-claim shape
carries a patient and other payers. Values come from the code tables and from
the X12 rules the data must keep: a field with a documented default that reading
leaves out is not generated with that value, an end date follows its start date,
a claim has at most 12 diagnosis codes and a line points at most at four.
"""
from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from x12engine import EnvelopeSettings, to_models, to_x12
from x12engine.codes import load_table
from conftest import NOW

TEXT = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=1, max_size=12)
NAME = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=2, max_size=10)
DIGITS = lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)  # noqa: E731
DATES = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2049, 12, 31))
AMOUNTS = st.one_of(st.integers(1, 99999), st.decimals(min_value=1, max_value=9999, places=2).map(float))
ICD10 = st.builds(lambda a, b, c: f"{a}{b:02d}" + (f".{c}" if c else ""),
                  st.sampled_from("ABCDEFGHIJKLMNOPRSTZ"), st.integers(0, 99), st.sampled_from(["", "0", "9", "19", "A1"]))


def enum(table: str, *leave_out: str):
    return st.sampled_from([e for e in load_table(table).enums() if e not in leave_out])


@st.composite
def address(draw):
    out = {"address_lines": draw(st.lists(TEXT, min_size=1, max_size=2)), "city": draw(NAME),
           "state": draw(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2)),
           "zipcode": draw(st.one_of(DIGITS(5), DIGITS(9)))}
    return out


@st.composite
def person(draw, org: bool = False):
    if org and draw(st.booleans()):
        return {"organization_name": draw(TEXT)}
    out = {"last_name": draw(NAME), "first_name": draw(NAME)}
    if draw(st.booleans()):
        out["middle_name"] = draw(NAME)
    return out


def optional(draw, out: dict, key: str, strategy) -> None:
    if draw(st.booleans()):
        out[key] = draw(strategy)


@st.composite
def billing_provider(draw):
    out = {**draw(person(org=True)), "npi": draw(DIGITS(10)), "tax_id": draw(DIGITS(9)), "address": draw(address())}
    optional(draw, out, "taxonomy_code", TEXT)
    optional(draw, out, "payment_address", address())
    return out


@st.composite
def subscriber(draw):
    out = {**draw(person()), "member_id": draw(TEXT), "payer_responsibility": draw(enum("payer_responsibility")),
           "claim_filing_code": draw(enum("claim_filing_code"))}
    optional(draw, out, "birth_date", DATES)
    optional(draw, out, "gender", enum("gender"))
    optional(draw, out, "group_number", TEXT)
    optional(draw, out, "address", address())
    return out


@st.composite
def patient(draw):
    out = {**draw(person()), "relationship": draw(enum("relationship", "self"))}
    optional(draw, out, "birth_date", DATES)
    optional(draw, out, "gender", enum("gender"))
    return out


@st.composite
def adjustments(draw):
    return draw(st.lists(st.fixed_dictionaries({
        "group": enum("cas_group"), "reason": st.sampled_from(["1", "2", "45", "96", "253"]), "amount": AMOUNTS}),
        min_size=1, max_size=3))


@st.composite
def service_line(draw, codes: list[str]):
    out = {"procedure_code": draw(TEXT), "charge_amount": draw(AMOUNTS), "unit_count": draw(st.integers(1, 99)),
           "unit_type": draw(enum("service_line_unit_type")),
           "diagnosis_codes": draw(st.lists(st.sampled_from(codes), min_size=1, max_size=4, unique=True))}
    optional(draw, out, "procedure_modifier_codes", st.lists(st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=2, max_size=2), min_size=1, max_size=4))
    optional(draw, out, "place_of_service", enum("place_of_service"))
    start = draw(DATES)
    out["service_date"] = start.isoformat()
    if draw(st.booleans()):
        out["service_end_date"] = (start + dt.timedelta(days=draw(st.integers(1, 30)))).isoformat()
    optional(draw, out, "provider_control_number", TEXT)
    if draw(st.booleans()):
        out["adjudication"] = {"payer_id": draw(TEXT), "amount": draw(AMOUNTS), "procedure_qualifier": "HC",
                               "procedure_code": out["procedure_code"], "quantity": draw(st.integers(1, 9)),
                               "claim_paid_date": draw(DATES).isoformat(), "adjustments": draw(adjustments())}
    return out


@st.composite
def claim(draw):
    codes = draw(st.lists(ICD10, min_size=1, max_size=6, unique_by=lambda c: c.replace(".", "")))
    out = {"patient_control_number": draw(TEXT), "total_charge_amount": draw(AMOUNTS),
           "place_of_service": draw(enum("place_of_service")), "claim_frequency": draw(enum("claim_frequency")),
           "provider_signature": draw(st.booleans()), "plan_participation": draw(enum("plan_participation")),
           "direct_payment": draw(enum("direct_payment")), "information_release": draw(enum("information_release")),
           "service_lines": draw(st.lists(service_line(codes), min_size=1, max_size=3))}
    optional(draw, out, "prior_authorization_number", TEXT)
    optional(draw, out, "onset_date", DATES.map(dt.date.isoformat))
    optional(draw, out, "note", st.fixed_dictionaries({"reference_code": enum("note_reference_code"), "note": TEXT}))
    if draw(st.booleans()):
        out["rendering_provider"] = {**draw(person()), "npi": draw(DIGITS(10))}
    return out


@st.composite
def other_payer(draw):
    sub = {**draw(person()), "member_id": draw(TEXT), "payer_responsibility": draw(enum("payer_responsibility")),
           "relationship": draw(enum("relationship")), "claim_filing_code": draw(enum("claim_filing_code")),
           "authorize_payment_to_billing_provider": draw(enum("benefits_assignment")),
           "release_of_information_code": draw(enum("information_release"))}
    out = {"subscriber": sub, "payer": {"organization_name": draw(TEXT), "id": draw(TEXT)}}
    optional(draw, out, "payer_amount_paid", AMOUNTS)
    if draw(st.booleans()):
        out["adjustments"] = draw(adjustments())
    return out


def header(draw) -> dict:
    return {"transaction_code": draw(enum("transaction_code")), "trading_partner_id": draw(TEXT),
            "submitter": {"organization_name": draw(TEXT), "id": draw(TEXT)},
            "receiver": {"organization_name": draw(TEXT), "id": draw(TEXT)}}


def payer(draw) -> dict:
    return {"organization_name": draw(TEXT), "id": draw(TEXT)}


@st.composite
def batches(draw):
    subscribers = []
    for _ in range(draw(st.integers(1, 3))):
        item = {"subscriber": draw(subscriber()), "payer": payer(draw)}
        if draw(st.booleans()):
            item["claims"] = draw(st.lists(claim(), min_size=1, max_size=3))
        if draw(st.booleans()) or "claims" not in item:
            item["patients"] = [{"patient": draw(patient()), "claims": draw(st.lists(claim(), min_size=1, max_size=2))}
                                for _ in range(draw(st.integers(1, 2)))]
        subscribers.append(item)
    providers = [{"billing_provider": draw(billing_provider()), "subscribers": subscribers}]
    if draw(st.booleans()):
        providers.append({"billing_provider": draw(billing_provider()),
                          "subscribers": [{"subscriber": draw(subscriber()), "payer": payer(draw),
                                           "claims": [draw(claim())]}]})
    total = sum(len(s.get("claims", [])) + sum(len(p["claims"]) for p in s.get("patients", []))
                for p in providers for s in p["subscribers"])
    assume(total > 1)  # a single claim reads into the single-claim shape (next test)
    return {**header(draw), "billing_providers": providers}


@st.composite
def single_claims(draw):
    out = {**header(draw), "billing_provider": draw(billing_provider()), "subscriber": draw(subscriber()),
           "payer": payer(draw), "claim": draw(claim())}
    if draw(st.booleans()):
        out["patient"] = draw(patient())
    if draw(st.booleans()):
        out["coordination_of_benefits"] = draw(other_payer())
    return out


@st.composite
def institutional_line(draw):
    out = {"revenue_code": draw(DIGITS(4)), "charge_amount": draw(AMOUNTS), "unit_count": draw(st.integers(1, 99)),
           "unit_type": draw(enum("service_line_unit_type", "minutes"))}
    if draw(st.booleans()):
        out["procedure_code"] = draw(TEXT)
        optional(draw, out, "procedure_modifier_codes", st.lists(st.sampled_from(["25", "59", "TC"]), min_size=1, max_size=3))
    start = draw(DATES)
    out["service_date"] = start.isoformat()
    optional(draw, out, "provider_control_number", TEXT)
    return out


@st.composite
def institutional_claim(draw):
    out = {"patient_control_number": draw(TEXT), "total_charge_amount": draw(AMOUNTS),
           "facility_type_code": draw(st.sampled_from(["11", "13", "21", "83"])), "claim_frequency": draw(enum("claim_frequency")),
           "plan_participation": draw(enum("plan_participation")), "direct_payment": draw(enum("direct_payment")),
           "information_release": draw(enum("information_release")),
           "principal_diagnosis": {"code": draw(ICD10)},
           "service_lines": draw(st.lists(institutional_line(), min_size=1, max_size=3))}
    optional(draw, out, "admission_type", enum("admission_type"))
    optional(draw, out, "admission_source", enum("admission_source"))
    optional(draw, out, "patient_status_code", st.sampled_from(["01", "02", "20", "30"]))
    if draw(st.booleans()):
        start = draw(DATES)
        out["statement_date"] = start.isoformat()
        out["statement_end_date"] = (start + dt.timedelta(days=draw(st.integers(1, 9)))).isoformat()
    optional(draw, out, "other_diagnoses", st.lists(st.fixed_dictionaries({"code": ICD10}), min_size=1, max_size=14))
    optional(draw, out, "value_information", st.lists(st.fixed_dictionaries({"code": DIGITS(2), "amount": AMOUNTS}), min_size=1, max_size=3))
    optional(draw, out, "occurrence_information", st.lists(st.fixed_dictionaries({"code": DIGITS(2), "date": DATES.map(dt.date.isoformat)}), min_size=1, max_size=3))
    optional(draw, out, "condition_codes", st.lists(st.fixed_dictionaries({"code": DIGITS(2)}), min_size=1, max_size=3))
    optional(draw, out, "drg_code", DIGITS(3))
    if draw(st.booleans()):
        out["attending_provider"] = {**draw(person()), "npi": draw(DIGITS(10))}
    return out


@st.composite
def dental_line(draw, codes: list[str]):
    out = {"procedure_code": "D" + draw(DIGITS(4)), "charge_amount": draw(AMOUNTS),
           "diagnosis_codes": draw(st.lists(st.sampled_from(codes), min_size=1, max_size=4, unique=True))}
    if draw(st.booleans()):
        out["teeth"] = draw(st.lists(st.fixed_dictionaries(
            {"tooth_number": st.integers(1, 32).map(str)},
            optional={"surfaces": st.lists(st.sampled_from("BDFILMO"), min_size=1, max_size=5, unique=True)}),
            min_size=1, max_size=3))
    optional(draw, out, "oral_cavity_designations", st.lists(st.sampled_from(["00", "01", "10", "20", "30", "40", "L", "R"]), min_size=1, max_size=5))
    optional(draw, out, "prosthesis_crown_inlay", st.sampled_from(["I", "R"]))
    optional(draw, out, "unit_count", st.integers(1, 9))
    return out


@st.composite
def dental_claim(draw):
    codes = draw(st.lists(ICD10, min_size=1, max_size=4, unique_by=lambda c: c.replace(".", "")))
    out = {"patient_control_number": draw(TEXT), "total_charge_amount": draw(AMOUNTS),
           "place_of_service": draw(enum("place_of_service")), "claim_frequency": draw(enum("claim_frequency")),
           "provider_signature": draw(st.booleans()), "plan_participation": draw(enum("plan_participation")),
           "direct_payment": draw(enum("direct_payment")), "information_release": draw(enum("information_release")),
           "service_lines": draw(st.lists(dental_line(codes), min_size=1, max_size=3))}
    optional(draw, out, "predetermination_number", TEXT)
    optional(draw, out, "tooth_status", st.lists(st.fixed_dictionaries(
        {"tooth_number": st.integers(1, 32).map(str), "status": st.sampled_from(["E", "M"])}), min_size=1, max_size=3))
    return out


@st.composite
def other_guides(draw, kind: str):
    make = institutional_claim if kind == "837i" else dental_claim
    subscribers = [{"subscriber": draw(subscriber()), "payer": payer(draw), "claims": [draw(make()), draw(make())]}]
    if draw(st.booleans()):
        subscribers.append({"subscriber": draw(subscriber()), "payer": payer(draw),
                            "patients": [{"patient": draw(patient()), "claims": [draw(make())]}]})
    return {**header(draw), "billing_providers": [{"billing_provider": draw(billing_provider()), "subscribers": subscribers}]}


def round_trip(data: dict, transaction: str = "837p") -> dict:
    x12 = to_x12(data, transaction=transaction, settings=EnvelopeSettings(now=NOW))
    (entry,) = to_models(x12.encode())["transactions"]
    assert entry["map"] == transaction
    assert not entry["findings"], entry["findings"]
    assert "unmapped" not in entry
    assert to_x12(to_models(x12.encode()), settings=EnvelopeSettings(now=NOW)) == x12
    return entry["model"]


def _dates_as_text(node):
    if isinstance(node, dict):
        return {k: _dates_as_text(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_dates_as_text(v) for v in node]
    return node.isoformat() if isinstance(node, dt.date) else node


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(batches())
def test_batches_survive_json_x12_json(data):
    assert round_trip(data) == _dates_as_text(data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(single_claims())
def test_single_claims_survive_json_x12_json(data):
    assert round_trip(data) == _dates_as_text(data)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(other_guides("837i"))
def test_institutional_batches_survive_json_x12_json(data):
    assert round_trip(data, "837i") == _dates_as_text(data)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(other_guides("837d"))
def test_dental_batches_survive_json_x12_json(data):
    assert round_trip(data, "837d") == _dates_as_text(data)
