"""276/277/277CA acceptance: PokitDok claims status examples <-> X12, fixtures, corpus, status codes."""
from __future__ import annotations

import json

import pytest

from conftest import CORPUS, FIXTURES, NOW, corpus_rows, every_segment_placed, example, only, require_corpus
from x12engine import EnvelopeSettings, to_models, to_x12
from x12engine.errors import BuildError

# Not carried by X12: platform fields, and PokitDok's applied_to_deductible (no 277 element says it).
NOT_X12 = ("client_id", "correlation_id", "applied_to_deductible")


def without_platform(obj):
    if isinstance(obj, dict):
        return {k: without_platform(v) for k, v in obj.items() if k not in NOT_X12}
    if isinstance(obj, list):
        return [without_platform(v) for v in obj]
    return obj


# A description next to its code is re-derived from maps/codes on read: PokitDok's text can be of
# another list vintage (06) or contradict the code (09 prints F1 with F2's text), so only its
# presence is compared there.
DESCRIBED = {"status_category": "status_category_code", "status_code": "status_code_value"}


def contains(got, want, path="") -> None:
    """Every field of ``want`` is in ``got`` with the same value (``got`` may carry more: codes, defaults)."""
    if isinstance(want, dict):
        assert isinstance(got, dict), path
        for k, v in want.items():
            if k in DESCRIBED and DESCRIBED[k] in want:
                assert isinstance(got.get(k), str) and got[k], f"{path}.{k} has no description"
                continue
            assert k in got, f"{path}.{k} missing"
            contains(got[k], v, f"{path}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            contains(g, w, f"{path}[{i}]")
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


def build(model: dict, transaction: str) -> str:
    return to_x12(model, transaction=transaction, settings=EnvelopeSettings(now=NOW))


# ----------------------------------------------------------------------------
# 276: PokitDok request JSON -> X12 -> JSON
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", [f"claims_status_0{i}_request" for i in range(1, 5)])
def test_pokitdok_request_builds_a_complete_276_and_reads_back(name):
    request = example(name)
    x12 = build(request, "276")
    assert x12.startswith("ISA*") and "ST*276*0001*005010X212~" in x12 and "GS*HR*" in x12
    assert x12.rstrip().endswith("~") and "IEA*1*" in x12
    every_segment_placed(x12)
    entry = only(to_models(x12.encode()))
    assert entry["map"] == "276" and "unmapped" not in entry
    model = entry["model"]
    contains(model, without_platform(request))
    # what the request leaves out is filled from the rest of it
    assert model["payer"] == {"organization_name": "MOCKPAYER", "id": "MOCKPAYER"}
    assert model["receiver"]["id"] == request["provider"]["npi"]
    assert model["trace_number"]


def test_276_dependent_request_puts_the_subscriber_in_2000d_and_the_patient_in_2000e():
    x12 = build(example("claims_status_02_request"), "276")
    assert "HL*4*3*22*1~" in x12 and "HL*5*4*23~" in x12
    assert "NM1*IL*1*DOE*JANE****MI*1234567890~" in x12 and "NM1*QC*1*DOE*JOHN" in x12
    assert "DMG*D8*19700125~" in x12 and "DMG*D8*20000125~" in x12
    assert "TRN*1*" in x12 and "DTP*472*D8*20140125~" in x12


def test_276_tracking_id_is_the_payer_claim_control_number():
    x12 = build(example("claims_status_04_request"), "276")
    assert "REF*1K*ABC12345~" in x12


def test_276_rejects_a_field_x12_cannot_carry_naming_its_path():
    bad = dict(example("claims_status_01_request"), colour="blue")
    with pytest.raises(BuildError) as err:
        build(bad, "276")
    assert "colour" in str(err.value)


# ----------------------------------------------------------------------------
# 277 / 277CA: PokitDok response JSON -> X12 -> JSON
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("name,transaction", [(f"claims_status_0{i}_response", "277") for i in range(5, 10)]
                         + [("claims_03_response", "277ca")])
def test_pokitdok_response_round_trips_through_x12(name, transaction):
    response = without_platform(example(name))
    x12 = build(response, transaction)
    every_segment_placed(x12)
    entry = only(to_models(x12.encode()))
    assert entry["map"] == transaction
    contains(entry["model"], response)


def test_277_status_descriptions_come_from_the_507_508_tables():
    entry = only(to_models(FIXTURES / "277-not-found.x12"))
    status = entry["model"]["patient"]["claims"][0]["statuses"][0]
    assert status["status_category_code"] == "A4"
    assert status["status_category"] == ("Acknowledgement/Not Found-The claim/encounter can not be found "
                                         "in the adjudication system.")
    assert status["status_code_value"] == "35"
    assert status["status_code"] == "Claim/encounter not found."
    assert entry["findings"] == []


def test_277_not_found_fixture_mirrors_the_pokitdok_example():
    want = without_platform(example("claims_status_05_response"))
    got = only(to_models(FIXTURES / "277-not-found.x12"))["model"]
    contains(got, want)


def test_277_fixture_reads_every_claim_field():
    model = only(to_models(FIXTURES / "277-response.x12"))["model"]
    assert model["payer"] == {"name": "ACME HEALTH PLAN", "id": "99999", "contact_name": "CLAIMS UNIT",
                              "phone": "8005550100"}
    claim = model["patient"]["claims"][0]
    assert claim["tracking_id"] == "TRACE0001"
    assert claim["claim_control_number"] == "PCN20240001"
    assert claim["patient_control_number"] == "PATACCT001"
    assert (claim["service_date"], claim["service_end_date"]) == ("2024-01-02", "2024-01-03")
    assert claim["total_claim_amount"] == {"amount": "250", "currency": "USD"}
    assert claim["claim_payment_amount"] == {"amount": "200", "currency": "USD"}
    assert claim["adjudication_finalized_date"] == "2024-01-17"
    assert claim["remittance_date"] == "2024-01-18"
    assert claim["check_number"] == "CHK000123"
    service = claim["services"][0]
    assert service["cpt_code"] == "99213" and service["line_item_control_number"] == "LINE0001"
    assert service["charge_amount"]["amount"] == "125" and service["payment_amount"]["amount"] == "100"
    assert service["statuses"][0]["status_category_code"] == "F1"
    # the second patient is a dependent reported under the same provider
    (provider,) = model["providers"]
    assert provider["npi"] == "1234567893"
    (other,) = provider["patients"]
    assert other["subscriber"]["id"] == "W000000002" and other["first_name"] == "SAM"
    assert other["claims"][0]["statuses"][0]["entity_identifier_code"] == "PR"


def test_277ca_fixture_reads_receiver_and_provider_totals_and_second_status():
    model = only(to_models(FIXTURES / "277ca-ack.x12"))["model"]
    sub = model["submitter"]
    assert sub["accepted_quantity"] == "1" and sub["rejected_quantity"] == "1"
    assert sub["amount_in_process"] == {"amount": "215.00", "currency": "USD"}
    assert sub["amount_returned"] == {"amount": "80.00", "currency": "USD"}
    assert sub["statuses"][0]["action"] == "accept"
    assert model["clearinghouse"]["date_received"] == "2024-01-15"
    rejected = model["providers"][0]["patients"][0]["claim_level_info"]["statuses"][0]
    assert rejected["action"] == "reject"
    assert rejected["secondary_status_category_code"] == "A3"
    assert rejected["secondary_status_code_value"] == "158"
    assert rejected["secondary_status_code"].startswith("Entity's date of birth")
    assert rejected["secondary_entity_identifier_code"] == "QC"


def test_unknown_status_code_keeps_the_code_with_a_null_description_and_a_warning():
    text = (FIXTURES / "277-not-found.x12").read_text().replace("STC*A4:35*", "STC*Q9:99999*")
    entry = only(to_models(text.encode()))
    status = entry["model"]["patient"]["claims"][0]["statuses"][0]
    assert status["status_category_code"] == "Q9" and status["status_category"] is None
    assert status["status_code_value"] == "99999" and status["status_code"] is None
    warnings = [f for f in entry["findings"] if f["code"] == "unreadable_value"]
    assert len(warnings) == 2
    assert all("Q9" not in json.dumps(f) and "99999" not in json.dumps(f) for f in warnings)
    # and it builds back unchanged
    again = only(to_models(to_x12(to_models(text.encode())).encode()))
    assert again["model"] == entry["model"]


def test_a_status_given_by_description_only_is_written_with_its_code():
    response = without_platform(example("claims_03_response"))
    x12 = build(response, "277ca")
    assert "STC*A1:20*20161205*WQ*60.0" in x12  # "Accepted for processing." is 508 code 20


def test_a_status_description_that_is_no_code_is_an_error_naming_the_field():
    response = without_platform(example("claims_status_06_response"))
    status = response["providers"][0]["statuses"][0]
    del status["status_code_value"]
    status["status_code"] = "Something no code list says"
    with pytest.raises(BuildError) as err:
        build(response, "277")
    assert "providers[0].statuses[0].status_code" in str(err.value)
    assert "Something" not in str(err.value)


def test_money_in_another_currency_is_refused():
    response = without_platform(example("claims_status_05_response"))
    response["patient"]["claims"][0]["statuses"][0]["total_claim_amount"]["currency"] = "EUR"
    with pytest.raises(BuildError):
        build(response, "277")


def test_patients_stay_with_their_provider_across_a_rebuild():
    require_corpus()
    path = CORPUS / "gh-LinuxForHealth-x12" / "demo-file_demo.277"
    model = only(to_models(path))["model"]
    assert [p["organization_name"] for p in model["providers"]] == ["HOME HOSPITAL", "HOME HOSPITAL PHYSICIANS"]
    assert model["patient"]["last_name"] == "SMITH"
    assert [p["last_name"] for p in model["providers"][0]["patients"]] == ["JONES"]
    assert model["providers"][1]["patients"][0]["subscriber"]["last_name"] == "MANN"
    rebuilt = to_x12(to_models(path))
    assert rebuilt.index("HOME HOSPITAL*") < rebuilt.index("JONES") < rebuilt.index("HOME HOSPITAL PHYSICIANS")
    assert rebuilt.index("HOME HOSPITAL PHYSICIANS") < rebuilt.index("MANN")


# ----------------------------------------------------------------------------
# fixtures and corpus: X12 -> JSON -> X12 -> JSON is stable
# ----------------------------------------------------------------------------
def _strip_positions(unmapped):
    return [{k: v for k, v in u.items() if k not in ("index", "line", "offset")} for u in unmapped or []]


def assert_stable(source) -> dict:
    doc = to_models(source)
    again = to_models(to_x12(doc).encode())
    for a, b in zip(doc["transactions"], again["transactions"], strict=True):
        assert a["model"] == b["model"]
        assert _strip_positions(a.get("unmapped")) == _strip_positions(b.get("unmapped"))
    return doc


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("27[67]*.x12")))
def test_fixture_round_trip_is_stable(name):
    doc = assert_stable(FIXTURES / name)
    assert all(t["map"] in ("276", "277", "277ca") for t in doc["transactions"])


def corpus_claim_status():
    return [r for r in corpus_rows() if r["transaction_set"] in ("276", "277")]


@pytest.mark.parametrize("row", corpus_claim_status() or [None], ids=lambda r: r["path"].split("/")[-1] if r else "no-corpus")
def test_corpus_claim_status_converts_and_is_stable(row):
    require_corpus()
    doc = to_models(CORPUS / row["path"])
    expected = "277ca" if row["variant"] == "277CA" else row["transaction_set"]
    assert doc["transactions"] and all(t["map"] == expected for t in doc["transactions"])
    if row["status"] == "intentionally-broken":
        return  # converted without error; these files break the guide on purpose
    assert_stable(CORPUS / row["path"])
