"""Engine pieces added for the claim status maps: `as described`, `as money`, `derive local`, RD8 kept."""
from __future__ import annotations

import pytest

from x12engine.transforms import ReadIssue, make


def test_described_reads_code_and_description_and_keeps_unknown_codes():
    fn = make("described", ("claim_status_category",))
    assert fn.arity == 2
    assert fn.read("A4", []) == ("A4", "Acknowledgement/Not Found-The claim/encounter can not be found in the adjudication system.")
    with pytest.raises(ReadIssue) as issue:
        fn.read("Q9", [])
    assert issue.value.kept("Q9") == ("Q9", None) and "Q9" not in issue.value.message


def test_described_writes_the_code_or_finds_it_by_description():
    fn = make("described", ("claim_status",))
    assert fn.write(("35", "anything"), 0) == ("35", [])
    assert fn.write((None, "Claim/encounter not found."), 0) == ("35", [])
    with pytest.raises(ValueError):
        fn.write((None, "no such text"), 0)


def test_money_reads_text_and_writes_amounts():
    fn = make("money", ())
    assert fn.read("60.0", []) == {"amount": "60.0", "currency": "USD"}
    with pytest.raises(ReadIssue):
        fn.read("12A", [])
    assert fn.write(({"amount": "60.0", "currency": "USD"},), 0) == ("60.0", [])
    assert fn.write(({"amount": 12.5},), 0) == ("12.5", [])
    for bad in ({"amount": "1", "currency": "EUR"}, {"currency": "USD"}, {"amount": "x"}):
        with pytest.raises(ValueError):
            fn.write((bad,), 0)


def test_rd8_with_equal_ends_stays_rd8():
    fn = make("period", ())
    assert fn.write(("2024-01-02", "2024-01-02"), 0) == ("20240102-20240102", ["RD8"])
    assert fn.write(("2024-01-02", None), 0) == ("20240102", ["D8"])


def test_local_derive_copies_the_first_status_of_each_claim_and_builder_ignores_it():
    from x12engine import to_models, to_x12
    from conftest import FIXTURES

    doc = to_models(FIXTURES / "277-response.x12")
    claims = [c for c in doc["transactions"][0]["model"]["patient"]["claims"]]
    assert claims[0]["check_number"] == "CHK000123"
    dependent = doc["transactions"][0]["model"]["providers"][0]["patients"][0]["claims"][0]
    assert "check_number" not in dependent  # the copy is per claim, not the file's first
    assert to_x12(doc).count("CHK000123") == 1


def test_a_loop_passed_through_is_taken_by_the_first_list_item():
    from x12engine import to_x12
    model = {"trading_partner_id": "P", "payer": {"name": "P", "id": "P"}, "submitter": {"organization_name": "S", "id": "S"},
             "patient": {"last_name": "A", "id": "1", "claims": [{"tracking_id": "T", "statuses": [
                 {"status_category_code": "A4", "status_code_value": "35", "status_effective_date": "2024-01-01"}]}]},
             "providers": [{"organization_name": "PRV", "npi": "1"}]}
    x12 = to_x12(model, transaction="277")
    assert x12.count("*19*") == 1  # one provider level, holding the patient
