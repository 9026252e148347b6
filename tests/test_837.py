"""837 acceptance: PokitDok claims examples ↔ 837P, the claims/convert pair, fixtures, corpus."""
from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from conftest import CORPUS, EXAMPLES, FIXTURES, NOW, corpus_rows, every_segment_placed, example, only, require_corpus
from x12engine import EnvelopeSettings, to_models, to_x12
from x12engine.errors import BuildError

REQUESTS = [f"claims_{n:02d}_request" for n in (1, 5, 6, 7, 8, 9, 10, 11, 12, 13)]
PLATFORM = ("client_id", "correlation_id", "originating_company_id", "async", "callback_url", "application_data")
# What the builder fills in when a request leaves it out (PokitDok's documented defaults).
CLAIM_DEFAULTS = {"claim_frequency": "original", "provider_signature": True, "plan_participation": "assigned",
                  "direct_payment": "y", "information_release": "informed_consent", "place_of_service": "office"}


def build(model: dict, transaction: str = "837p") -> str:
    return to_x12(model, transaction=transaction, settings=EnvelopeSettings(now=NOW))


def normal(value):
    """JSON values as the model carries them: numbers (PokitDok sends some as strings) and ICD codes without the dot."""
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normal(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value)).normalize()
    try:
        return Decimal(value).normalize()
    except Exception:
        return value


def icd_plain(model: dict) -> dict:
    model = copy.deepcopy(model)
    for claim in [model.get("claim", {})]:
        for line in claim.get("service_lines", []):
            if "diagnosis_codes" in line:
                line["diagnosis_codes"] = [c.replace(".", "") for c in line["diagnosis_codes"]]
    return model


def expected_back(model: dict) -> dict:
    """A request as it reads back: its fields, the documented defaults, and the loops X12 requires."""
    out = {k: v for k, v in copy.deepcopy(model).items() if k not in PLATFORM}
    tp = out["trading_partner_id"]
    out.setdefault("payer", {"organization_name": tp, "id": tp})
    out.setdefault("receiver", {"organization_name": tp, "id": tp})
    bp = out["billing_provider"]
    submitter = {k: bp[k] for k in ("organization_name", "last_name", "first_name") if k in bp}
    out.setdefault("submitter", {**submitter, "id": bp["npi"]})
    out.setdefault("subscriber", {}).setdefault("payer_responsibility", "primary")
    out["subscriber"].setdefault("claim_filing_code", "mutually_defined")
    claim = out["claim"]
    for k, v in CLAIM_DEFAULTS.items():
        claim.setdefault(k, v)
    claim.setdefault("patient_control_number", "0001")  # the transaction's control number
    for line in claim["service_lines"]:
        line.setdefault("unit_type", "units")
        if line.get("is_emergency") is False:  # SV109's only code is Y: false is its absence
            del line["is_emergency"]
    cob = out.get("coordination_of_benefits")
    if cob:
        cob["subscriber"].setdefault("authorize_payment_to_billing_provider", "yes")
        cob["subscriber"].setdefault("release_of_information_code", "informed_consent")
    return out


# ----------------------------------------------------------------------------
# PokitDok requests: JSON → 837P → JSON
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", REQUESTS)
def test_pokitdok_claims_request_builds_and_parses_back(name):
    model = example(name)
    x12 = build(model)
    every_segment_placed(x12)
    entry = only(to_models(x12.encode()))
    assert entry["map"] == "837p"
    assert not entry["findings"] and "unmapped" not in entry
    assert normal(icd_plain(entry["model"])) == normal(icd_plain(expected_back(model)))


def test_the_map_is_detected_from_a_claims_request():
    x12 = to_x12(example("claims_01_request"), settings=EnvelopeSettings(now=NOW))
    assert "ST*837*0001*005010X222A1~" in x12 and "GS*HC*" in x12


def test_claim_x12_has_the_expected_segments():
    x12 = build(example("claims_05_request"))
    assert "SBR*P**" in x12  # the subscriber is not the patient: no SBR02
    assert "HL*1**20*1~\n" in x12 and "HL*2*1*22*1~\n" in x12 and "HL*3*2*23*0~\n" in x12
    assert "PAT*19~" in x12 and "NM1*QC*1*Doe*John~" in x12
    assert "CLM*0001*100***11:B:1*Y*A*Y*I~" in x12
    assert "HI*ABK:J101~" in x12 and "SV1*HC:99201:GT*100*UN*1***1~" in x12
    assert "LX*1~" in x12 and "DTP*472*D8*20160125~" in x12
    assert "BHT*0019*00*0001*20260102*0304*CH~" in x12


def test_patient_equal_to_subscriber_has_no_patient_loop():
    x12 = build(example("claims_01_request"))
    assert "SBR*P*18*" in x12 and "HL*3*" not in x12 and "PAT*" not in x12


def test_diagnosis_pointers_are_computed_from_the_line_codes():
    model = copy.deepcopy(example("claims_01_request"))
    line = model["claim"]["service_lines"][0]
    model["claim"]["service_lines"] = [
        {**line, "diagnosis_codes": ["J10.1", "R05"]},
        {**line, "diagnosis_codes": ["R05", "Z00.00", "J10.1"], "procedure_code": "99214"},
    ]
    x12 = build(model)
    assert "HI*ABK:J101*ABF:R05*ABF:Z0000~" in x12
    assert "SV1*HC:99213*60*UN*1***1:2~" in x12 and "SV1*HC:99214*60*UN*1***2:3:1~" in x12
    assert "LX*1~" in x12 and "LX*2~" in x12
    back = only(to_models(x12.encode()))["model"]["claim"]
    assert "diagnoses" not in back  # derivable from the lines, so left out
    assert [ln["diagnosis_codes"] for ln in back["service_lines"]] == [["J10.1", "R05"], ["R05", "Z00.00", "J10.1"]]


def test_icd9_and_unpointed_diagnoses_are_kept_in_the_claim():
    model = copy.deepcopy(example("claims_01_request"))
    model["claim"]["diagnoses"] = [{"code": "487.1", "qualifier": "BK"}, {"code": "780.6", "qualifier": "BF"}]
    model["claim"]["service_lines"][0]["diagnosis_codes"] = ["487.1"]
    x12 = build(model)
    assert "HI*BK:4871*BF:7806~" in x12 and "SV1*HC:99213*60*UN*1***1~" in x12
    back = only(to_models(x12.encode()))["model"]["claim"]
    assert back["diagnoses"] == model["claim"]["diagnoses"]


def test_indicators_whose_only_code_is_y_write_nothing_for_false():
    model = copy.deepcopy(example("claims_01_request"))
    line = model["claim"]["service_lines"][0]
    x12 = build({**model, "claim": {**model["claim"], "service_lines": [{**line, "is_emergency": False}, {**line, "is_emergency": True}]}})
    assert "SV1*HC:99213*60*UN*1***1~" in x12 and "SV1*HC:99213*60*UN*1***1**Y~" in x12
    lines = only(to_models(x12.encode()))["model"]["claim"]["service_lines"]
    assert "is_emergency" not in lines[0] and lines[1]["is_emergency"] is True


def test_empty_modifier_slots_keep_the_position_pokitdok_documents():
    model = copy.deepcopy(example("claims_01_request"))
    model["claim"]["service_lines"][0]["procedure_modifier_codes"] = ["", "GT"]
    x12 = build(model)
    assert "SV1*HC:99213::GT*60*UN*1***1~" in x12
    line = only(to_models(x12.encode()))["model"]["claim"]["service_lines"][0]
    assert line["procedure_modifier_codes"] == ["", "GT"]


def test_adjustments_share_a_cas_per_group():
    model = example("claims_13_request")
    x12 = build(model)
    assert "CAS*PR*2*28.22~\nCAS*CO*45*26.79~" in x12 and "CAS*OA*96*72~" in x12
    assert "SVD*62308*40.66*HC:T4529**246~" in x12 and "DTP*573*D8*20170404~" in x12
    model = copy.deepcopy(model)
    adj = model["claim"]["service_lines"][0]["adjudication"]
    adj["adjustments"].insert(1, {"group": "patient_responsibility", "reason": "3", "amount": "5"})
    x12 = build(model)
    assert "CAS*PR*2*28.22**3*5~" in x12


def test_envelope_counts_and_control_numbers_are_computed():
    s = EnvelopeSettings(now=NOW, sender_id="SUBMITTER1", interchange_control_number=7,
                         group_control_number=7, transaction_control_number=7)
    x12 = to_x12(example("claims_05_request"), transaction="837p", settings=s)
    segs = [line.rstrip("~").split("*") for line in x12.strip().split("\n")]
    st, se, ge, iea = segs[2], segs[-3], segs[-2], segs[-1]
    assert st == ["ST", "837", "0007", "005010X222A1"] and se[2] == "0007"
    assert int(se[1]) == len(segs) - 4
    assert ge == ["GE", "1", "7"] and iea == ["IEA", "1", "000000007"]


def test_unknown_enum_and_unknown_field_are_errors_naming_the_path():
    model = copy.deepcopy(example("claims_01_request"))
    model["claim"]["claim_frequency"] = "sometimes"
    with pytest.raises(BuildError) as info:
        build(model)
    assert "claim.claim_frequency" in str(info.value) and "sometimes" not in str(info.value)
    model = copy.deepcopy(example("claims_01_request"))
    model["claim"]["service_lines"][0]["procedure_cod"] = "99213"
    with pytest.raises(BuildError) as info:
        build(model)
    assert "claim.service_lines[0].procedure_cod" in str(info.value)


def test_too_many_diagnosis_codes_on_a_line_is_an_error():
    model = copy.deepcopy(example("claims_01_request"))
    model["claim"]["service_lines"][0]["diagnosis_codes"] = ["A00", "A01", "A02", "A03", "A04"]
    with pytest.raises(BuildError) as info:
        build(model)
    assert "claim.service_lines[0].diagnosis_codes" in str(info.value)


def test_delimiter_in_a_value_is_an_error_without_the_value():
    model = copy.deepcopy(example("claims_01_request"))
    model["subscriber"]["last_name"] = "DOE*SMITH"
    with pytest.raises(BuildError) as info:
        build(model)
    assert "subscriber.last_name" in str(info.value) and "SMITH" not in str(info.value)


# ----------------------------------------------------------------------------
# claims/convert: the paired X12 ↔ JSON example
# ----------------------------------------------------------------------------
def _keys(node, prefix=""):
    out = set()
    if isinstance(node, dict):
        for k, v in node.items():
            out.add(prefix + k)
            out |= _keys(v, prefix + k + ".")
    elif isinstance(node, list):
        for v in node:
            out |= _keys(v, prefix)
    return out


def test_claims_convert_input_reads_to_the_documented_structure_and_enums():
    path = EXAMPLES / "claims_convert_input.837.x12"
    if not path.is_file():
        pytest.skip("../shared/reference is not present (development workspace only)")
    expected = example("claims_convert_output")["claims_request"]
    entry = only(to_models(path))
    assert entry["map"] == "837p" and not entry["findings"] and "unmapped" not in entry
    got = entry["model"]
    claim, want = got["claim"], expected["claim"]
    for key in ("claim_frequency", "direct_payment", "information_release", "place_of_service",
                "plan_participation", "provider_signature"):
        assert claim[key] == want[key], key
    assert claim["service_lines"][0]["unit_type"] == want["service_lines"][0]["unit_type"] == "units"
    assert claim["service_lines"][0]["procedure_code"] == "99213"
    for key in ("claim_filing_code", "payer_responsibility", "gender"):
        assert got["subscriber"][key] == expected["subscriber"][key], key
    assert got["transaction_code"] == expected["transaction_code"] == "chargeable"
    assert got["payer"] == expected["payer"] and got["receiver"] == expected["receiver"]
    # Every documented key is there, with two documented differences: the submitter's
    # e-mail is a contact method (the request shape), and the ICD-9 code the X12 sends
    # stays ICD-9 (claim.diagnoses says BK) where PokitDok mapped it to ICD-10.
    missing = _keys(expected) - _keys(got)
    assert missing == {"submitter.email"}
    assert got["submitter"]["contacts"] == [{"contact_methods": [{"type": "email", "value": expected["submitter"]["email"]}]}]
    assert claim["diagnoses"] == [{"code": "487.1", "qualifier": "BK"}]
    assert claim["service_lines"][0]["diagnosis_codes"] == ["487.1"]


def test_claims_convert_output_builds_a_valid_837p():
    model = copy.deepcopy(example("claims_convert_output")["claims_request"])
    email = model["submitter"].pop("email")  # the response's shortcut; requests carry contacts
    model["submitter"]["contacts"] = [{"contact_methods": [{"type": "email", "value": email}]}]
    x12 = build(model)
    every_segment_placed(x12)
    entry = only(to_models(x12.encode()))
    assert not entry["findings"]
    claim = entry["model"]["claim"]
    assert (claim["place_of_service"], claim["claim_frequency"]) == ("office", "original")
    assert "CLM*0001*60***11:B:1*Y*A*Y*I~" in x12 and "HI*ABK:J101~" in x12
    assert "SBR*P*18*******ZZ~" in x12 and "SV1*HC:99213*60*UN*1***1~" in x12
    assert "NM1*41*2*Pokitdok, Inc.*****46*12345~" in x12


# ----------------------------------------------------------------------------
# fixtures and batches
# ----------------------------------------------------------------------------
def _strip_positions(unmapped):
    return [{k: v for k, v in u.items() if k not in ("index", "line", "offset")} for u in unmapped or []]


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("837*.x12")), ids=lambda p: p.name)
def test_837_fixture_is_stable(path):
    doc = to_models(path)
    assert all(t["map"] for t in doc["transactions"])
    again = to_models(to_x12(doc).encode())
    for a, b in zip(doc["transactions"], again["transactions"], strict=True):
        assert a["model"] == b["model"]
        assert _strip_positions(a.get("unmapped")) == _strip_positions(b.get("unmapped"))


def test_batch_fixture_reads_every_claim_in_the_batch_form():
    model = only(to_models(FIXTURES / "837p-claims.x12"))["model"]
    (provider,) = model["billing_providers"]
    assert provider["billing_provider"]["organization_name"] == "RIVERSIDE FAMILY CLINIC"
    first, second = provider["subscribers"]
    assert [c["patient_control_number"] for c in first["claims"]] == ["PCN0001"]
    assert "claims" not in second and [c["patient_control_number"] for c in second["patients"][0]["claims"]] == ["PCN0002"]
    claim = first["claims"][0]
    assert claim["prior_authorization_number"] == "AUTH778899"
    assert claim["referring_provider"]["last_name"] == "SMITH" and claim["rendering_provider"]["taxonomy_code"] == "207Q00000X"
    assert claim["coordination_of_benefits"]["payer_amount_paid"] == 40
    assert claim["service_lines"][0]["diagnosis_codes"] == ["J06.9", "R05"]
    assert claim["service_lines"][1]["adjudication"]["adjustments"] == [
        {"group": "contractual_obligations", "reason": "45", "amount": 50}]


def test_several_claims_per_subscriber_and_subscribers_per_provider_build():
    one = example("claims_05_request")
    claim = one["claim"]
    batch = {
        "transaction_code": "chargeable", "trading_partner_id": "MOCKPAYER",
        "billing_providers": [{
            "billing_provider": one["billing_provider"],
            "subscribers": [
                {"subscriber": one["subscriber"], "claims": [claim, {**claim, "patient_control_number": "B2"}]},
                {"subscriber": {**one["subscriber"], "member_id": "W2"},
                 "patients": [{"patient": one["patient"], "claims": [{**claim, "patient_control_number": "C3"}]}]},
            ]}],
    }
    x12 = build(batch)
    every_segment_placed(x12)
    assert x12.count("CLM*") == 3 and x12.count("HL*") == 4
    assert "HL*1**20*1~" in x12 and "HL*2*1*22*0~" in x12 and "HL*3*1*22*1~" in x12 and "HL*4*3*23*0~" in x12
    back = only(to_models(x12.encode()))["model"]
    subs = back["billing_providers"][0]["subscribers"]
    assert [c["patient_control_number"] for c in subs[0]["claims"]] == ["0001", "B2"]
    assert subs[1]["patients"][0]["patient"]["relationship"] == "child"
    assert [c["patient_control_number"] for c in subs[1]["patients"][0]["claims"]] == ["C3"]
    assert to_x12(to_models(x12.encode())) == x12


# ----------------------------------------------------------------------------
# corpus
# ----------------------------------------------------------------------------
def corpus_837():
    return [r for r in corpus_rows() if r["transaction_set"] == "837" and r["status"] == "valid-looking"]


@pytest.mark.parametrize("row", corpus_837() or [None], ids=lambda r: r["path"].split("/")[-1] if r else "no-corpus")
def test_corpus_837_converts_and_is_stable(row):
    require_corpus()
    doc = to_models(CORPUS / row["path"])
    assert doc["transactions"]
    assert all(t["map"] in ("837p", "837i", "837d") for t in doc["transactions"])
    again = to_models(to_x12(doc).encode())
    for a, b in zip(doc["transactions"], again["transactions"], strict=True):
        assert a["model"] == b["model"]
        assert _strip_positions(a.get("unmapped")) == _strip_positions(b.get("unmapped"))


# ----------------------------------------------------------------------------
# fixtures written for the 837 maps
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["837p-ambulance-cob.x12", "837i-outpatient.x12", "837d-teeth.x12"])
def test_hand_written_fixture_reads_completely_and_rebuilds_byte_for_byte(name):
    path = FIXTURES / name
    doc = to_models(path)
    entry = only(doc)
    assert not entry["findings"] and "unmapped" not in entry
    assert to_x12(doc) == path.read_text()


def test_ambulance_claim_with_dependent_icd9_and_other_payer():
    m = only(to_models(FIXTURES / "837p-ambulance-cob.x12"))["model"]
    assert m["patient"]["relationship"] == "child" and "relationship" not in m["subscriber"]
    claim = m["claim"]
    assert (claim["place_of_service"], claim["claim_frequency"]) == ("ambulance_land", "corrected")
    assert claim["related_causes_code"] == ["auto_accident", "other_accident"] and claim["state_or_province_code"] == "WA"
    assert claim["diagnoses"] == [{"code": "802.0", "qualifier": "BK"}, {"code": "873.0", "qualifier": "BF"}]
    amb = claim["ambulance"]
    assert (amb["reason_code"], amb["transport_distance"], claim["patient_weight"]) == ("nearest_or_residential_facility", 12, 85)
    assert amb["applicable_conditions"] == ["admitted_to_hospital", "moved_by_stretcher"]
    assert amb["not_applicable_conditions"] == ["unconscious_in_shock"]
    assert amb["dropoff_location"]["address_lines"] == ["MERCY GENERAL HOSPITAL", "1 HOSPITAL WAY"]
    assert claim["supervising_provider"]["npi"] == "1999999950" and claim["referring_provider"]["last_name"] == "PARK"
    cob = m["coordination_of_benefits"]
    assert cob["subscriber"]["relationship"] == "spouse" and cob["payer"]["claim_paid_date"] == "2024-04-01"
    assert cob["adjustments"][1] == {"group": "contractual_obligations", "reason": "45", "amount": 150, "quantity": 1}
    line = claim["service_lines"][0]
    assert line["diagnosis_codes"] == ["802.0", "873.0"] and line["adjudication"]["amount_owed"] == 150
    assert claim["service_lines"][1]["test_results"] == [{"reference_id": "test_results", "measurement": "hemoglobin", "value": "12.5"}]


def test_institutional_claim_fields():
    claim = only(to_models(FIXTURES / "837i-outpatient.x12"))["model"]["claim"]
    assert (claim["facility_type_code"], claim["claim_frequency"]) == ("13", "original")
    assert (claim["admission_type"], claim["admission_source"], claim["patient_status_code"]) == ("elective", "physician_referral", "01")
    assert (claim["statement_date"], claim["statement_end_date"]) == ("2024-05-02", "2024-05-03")
    assert claim["principal_diagnosis"] == {"code": "S82.61XA", "present_on_admission": "Y"}
    assert claim["other_diagnoses"] == [{"code": "W01.0XXA", "present_on_admission": "N"}, {"code": "Z91.81"}]
    assert claim["principal_procedure"] == {"code": "0QSG04Z", "date": "2024-05-02"}
    assert claim["occurrence_span_information"] == [{"code": "74", "start_date": "2024-05-02", "end_date": "2024-05-03"}]
    assert claim["value_information"] == [{"code": "A1", "amount": 250}, {"code": "80", "amount": 1}]
    assert claim["attending_provider"]["taxonomy_code"] == "207X00000X"
    assert [ln["revenue_code"] for ln in claim["service_lines"]] == ["0450", "0360", "0762"]
    assert claim["service_lines"][0]["procedure_modifier_codes"] == ["25"]
    drg = only(to_models(FIXTURES / "837i-inpatient.x12"))["model"]["claim"]
    assert drg["admission_date_time"] == "202401050730" and drg["service_lines"][0]["unit_type"] == "days"


def test_dental_claim_fields():
    claim = only(to_models(FIXTURES / "837d-teeth.x12"))["model"]["claim"]
    first, second, third = claim["service_lines"]
    assert first["teeth"] == [{"tooth_number": "19", "surfaces": ["M", "O", "D"]}]
    assert first["diagnosis_codes"] == ["K04.01"] and first["prior_placement_date"] == "2015-03-10"
    assert second["prosthesis_crown_inlay"] == "I" and third["oral_cavity_designations"] == ["10", "20"]
    # the lines point at K04.01 first, so the HI order is kept explicitly
    assert claim["diagnoses"] == [{"code": "K02.52"}, {"code": "K04.01"}]
    status = only(to_models(FIXTURES / "837d-basic.x12"))["model"]
    claims = [c for s in status["billing_providers"][0]["subscribers"] for c in s.get("claims", [])]
    assert claims[0]["tooth_status"][0] == {"tooth_number": "1", "status": "M"}
    assert claims[0]["orthodontic"] == {"total_months": 24, "months_remaining": 14}


@pytest.mark.parametrize("transaction,guide", [("837i", "005010X223A2"), ("837d", "005010X224A2")])
def test_pokitdok_shape_builds_institutional_and_dental_claims(transaction, guide):
    model = copy.deepcopy(example("claims_05_request"))
    line = model["claim"]["service_lines"][0]
    if transaction == "837i":
        del line["diagnosis_codes"]
        model["claim"]["service_lines"] = [{**line, "revenue_code": "0450"}]
        model["claim"].update({"facility_type_code": "13", "principal_diagnosis": {"code": "J10.1"},
                               "admission_type": "urgent", "value_information": [{"code": "80", "amount": 2}]})
    else:
        model["claim"]["service_lines"] = [{**line, "procedure_code": "D0120", "teeth": [{"tooth_number": "3", "surfaces": ["O"]}]}]
    x12 = build(model, transaction)
    every_segment_placed(x12)
    assert f"ST*837*0001*{guide}~" in x12
    entry = only(to_models(x12.encode()))
    assert entry["map"] == transaction and not entry["findings"]
    back = entry["model"]["claim"]
    assert back["service_lines"][0]["procedure_code"] == model["claim"]["service_lines"][0]["procedure_code"]
    if transaction == "837i":
        assert "HI*ABK:J101~" in x12 and "HI*BE:80:::2~" in x12 and "CL1*2~" in x12
        assert back["principal_diagnosis"] == {"code": "J10.1"} and back["value_information"] == [{"code": "80", "amount": 2}]
    else:
        assert "TOO*JP*3*O~" in x12 and back["service_lines"][0]["diagnosis_codes"] == ["J10.1"]


def test_a_blank_isa11_leaves_names_and_addresses_whole():
    data = (FIXTURES / "837d-basic.x12").read_bytes()
    blank = data.replace(b"*^*00501*", b"* *00501*", 1)
    assert blank != data
    want, got = to_models(data), to_models(blank)
    assert got["transactions"][0]["model"] == want["transactions"][0]["model"]
    assert "isa11_not_separator" in [f["code"] for f in got["findings"]]
