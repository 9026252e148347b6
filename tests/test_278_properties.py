"""Hypothesis: 278 models generated from the model schema survive JSON → X12 → JSON unchanged.

The strategy walks the generated pydantic model, so a field added to a map is
generated here without touching this file. A few rules of X12 itself (not of
the engine) shape the data: a name is a person's or an organization's, an end
date needs a start date after it, a PER segment holds three numbers, a provider
loop has one NM109, a service line is professional or institutional, the
dependent loop carries no member id, and lists stay within the guide's repeat
counts. Values equal to a map default are avoided (they are elided on read by
design), and derived response fields are compared after the round trip.
"""
from __future__ import annotations

import datetime as dt
import types
import typing

from hypothesis import HealthCheck, assume, given, settings, strategies as st
from pydantic import BaseModel

from x12engine import EnvelopeSettings, to_models, to_x12
from x12engine.models import UnknownCode, UnmappedSegment, model_for
from conftest import NOW

TEXT = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=4, max_size=12)
TPID = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=4, max_size=15)
DATES = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)).map(dt.date.isoformat)
NUMBERS = st.one_of(st.integers(0, 99999), st.decimals(min_value=0, max_value=9999, places=2).map(float))
ICD10 = st.builds(lambda a, b, c: f"{a}{b:02d}" + (f".{c}" if c else ""),
                  st.sampled_from("ABCDEFGHIJKLMNOPRSTZ"), st.integers(0, 99), st.sampled_from(["", "0", "9", "19", "A1"]))
SKIP = {"unmapped", "client_id", "correlation_id", "originating_company_id", "async",
        "reject_reason", "follow_up_action", "valid_request"}
PERSON = ("last_name", "first_name", "middle_name", "suffix")
CONTACT = ("phone", "extension", "fax", "email", "url")
PROFESSIONAL = ("amount", "measurement", "quantity", "modifiers", "description", "diagnosis_pointers")
INSTITUTIONAL = ("revenue_code", "institutional_amount", "institutional_measurement", "institutional_quantity")
DENTAL = ("dental_amount", "dental_quantity")
NM109 = ("npi", "tax_id", "ssn", "provider_id")
LIST_MAX = 2
MEMBER_REFS = ("group_number", "ssn", "health_insurance_claim_number", "patient_account_number",
               "identification_card_serial_number", "insurance_policy_number", "medicaid_recipient_id")


def _unwrap(annotation):
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]
    return annotation


def for_type(annotation, name: str):
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin is list:
        (item,) = typing.get_args(annotation)
        return st.lists(for_type(item, name), min_size=1, max_size=LIST_MAX)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        literal = [a for a in args if typing.get_origin(a) is typing.Literal]
        if literal:  # a code field: valid enum values only (UnknownCode is for reading)
            return st.sampled_from(typing.get_args(literal[0]))
        if set(args) == {int, float}:
            return NUMBERS
    if typing.get_origin(annotation) is typing.Annotated:
        extra = _extra(annotation)
        if "x-x12-codes" in extra:  # the guide's code set for this element
            return st.sampled_from(extra["x-x12-codes"])
        return for_type(typing.get_args(annotation)[0], name)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in (UnknownCode, UnmappedSegment):
            return st.nothing()
        return objects(annotation)
    if annotation is dt.date:
        return DATES
    if annotation is bool:
        return st.booleans()
    if name == "code":
        return ICD10
    return TEXT


def _fix(model: type[BaseModel], data: dict) -> dict:
    """Apply the X12 rules listed in the module docstring."""
    fields = model.model_fields
    if "organization_name" in data:
        for k in PERSON:
            data.pop(k, None)
    for start, end in (("start_date", "end_date"), ("date", "end_date"), ("event_start_date", "event_end_date")):
        if start in fields and end in fields and end in data:
            if start not in data or data[end] <= data[start]:
                del data[end]
    if "place_of_service" in data:  # both are UM04-01, told apart by UM04-02
        data.pop("facility_type", None)
    present = [k for k in CONTACT if k in data]
    for k in present[3:]:
        del data[k]
    if "npi" in fields and "provider_id" in data and any(k in data for k in NM109[:3]):
        del data["provider_id"]
    if "revenue_code" in fields:
        kinds = [g for g in (PROFESSIONAL, INSTITUTIONAL, DENTAL) if any(k in data for k in g)]
        for g in kinds[1:]:
            for k in g:
                data.pop(k, None)
        if kinds and kinds[0] is not PROFESSIONAL and "cpt_code" not in data:
            data["cpt_code"] = "99213"
    if "additional_providers" in data and "provider" not in data:
        del data["additional_providers"]
    for key in list(data):  # a value equal to the map's default is elided on read, by design
        default = _extra(fields[key].annotation).get("x-x12-default")
        if default is not None and data[key] in (default if isinstance(default, list) else [default]):
            del data[key]
    return data


def _extra(annotation) -> dict:
    annotation = _unwrap(annotation)
    out: dict = {}
    if typing.get_origin(annotation) is typing.Annotated:
        for meta in typing.get_args(annotation)[1:]:
            out.update(getattr(meta, "json_schema_extra", None) or {})
    return out


@st.composite
def objects(draw, model: type[BaseModel]):
    names = [n for n in model.model_fields if n not in SKIP]
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True)) if names else []
    data = {n: draw(for_type(model.model_fields[n].annotation, n)) for n in chosen}
    data = _fix(model, data)
    assume(data)  # an empty object has nothing to carry: X12 would not keep its loop
    return data


@st.composite
def documents(draw, map_name: str):
    model = model_for(map_name)
    data = draw(objects(model))
    data["trading_partner_id"] = draw(TPID)
    payer = data.setdefault("payer", {})
    payer["id"] = draw(TPID)
    if "organization_name" not in payer and "last_name" not in payer:
        for k in PERSON:
            payer.pop(k, None)
        payer["organization_name"] = draw(TEXT)
    if "subscriber" not in data and "patient" in data:  # the subscriber is the patient: INS02 is 18
        data["patient"].pop("relationship", None)
        assume(data["patient"])
    if "subscriber" in data:  # the dependent loop: no member id, at most 3 REF ids
        data.setdefault("patient", {"last_name": draw(TEXT)}).pop("id", None)
        for k in [k for k in MEMBER_REFS if k in data["patient"]][3:]:
            del data["patient"][k]
        if not data["patient"]:
            data["patient"]["last_name"] = draw(TEXT)
    return data


def _strip_derived(model: dict) -> dict:
    return {k: v for k, v in model.items() if k not in ("reject_reason", "follow_up_action", "valid_request")}


def _round_trip(map_name: str, data: dict) -> dict:
    x12 = to_x12(data, transaction=map_name, settings=EnvelopeSettings(now=NOW))
    (entry,) = to_models(x12.encode())["transactions"]
    assert entry["map"] == map_name
    assert not [f for f in entry["findings"] if f["severity"] == "error"]
    assert "unmapped" not in entry
    return entry["model"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents("278-request"))
def test_request_models_survive_json_x12_json(data):
    assert _round_trip("278-request", data) == data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents("278-response"))
def test_response_models_survive_json_x12_json(data):
    back = _round_trip("278-response", data)
    assert _strip_derived(back) == data
    rejections = [r for r in _all_rejections(data)]
    assert back["valid_request"] == (not any(r.get("valid_request") is False for r in rejections))


def _all_rejections(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "rejections":
                yield from v
            else:
                yield from _all_rejections(v)
    elif isinstance(node, list):
        for v in node:
            yield from _all_rejections(v)
