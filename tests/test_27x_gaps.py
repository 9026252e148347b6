"""The gaps closed after the first 270/271 and 276/277 pass: 271 entities, other payers and
pharmacy, RD8 dates, the active-coverage EB's REFs; 276 batches, further 277 dependents,
unlisted NM1 qualifiers and NCPDP-qualified statuses (fixtures, corpus, hypothesis)."""
from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import CORPUS, FIXTURES, NOW, require_corpus
from test_276_277_properties import TEXT, contains, cycle, person, provider, request
from x12engine import EnvelopeSettings, to_models, to_x12



def read(path) -> list[dict]:
    return to_models(path)["transactions"]


def stable(path) -> list[dict]:
    """X12 -> JSON -> X12 -> JSON gives the same models, with nothing unmapped or warned."""
    first = read(path)
    for t in first:
        assert not t.get("unmapped") and not t["findings"], (t.get("unmapped"), t["findings"])
    again = to_models(to_x12(to_models(path)).encode())["transactions"]
    assert [t["model"] for t in again] == [t["model"] for t in first]
    return [t["model"] for t in first]


def test_271_subscriber_entities_other_payer_and_pharmacy():
    sub, _ = stable(FIXTURES / "271-benefit-entities.x12")
    cov = sub["coverage"]
    assert cov["level"] == "individual" and "coverage_level" not in cov
    assert cov["active_coverage_references"] == {"plan_number": "PLAN-A-77"}
    assert (cov["plan_begin_date"], cov["plan_begin_date_end"]) == ("2024-01-01", "2024-12-31")  # DTP*346*RD8
    assert cov["eligibility_begin_date"] == "2013-07-01" and "eligibility_begin_date_end" not in cov
    (other,) = cov["other_payers"]
    assert other["name"] == "SUNRISE RX PLAN" and other["coordination_of_benefits"] == "primary_payer"
    assert (other["benefit_begin_date"], other["benefit_end_date"]) == ("2024-01-01", "2024-12-31")
    assert [e["entity_identifier_code"] for e in cov["contacts"][0]["benefit_related_entities"]] == [
        "utilization_management_organization", "plan_sponsor"]
    assert cov["contacts"][0]["benefit_related_entities"][0]["contacts"] == [{"phone": "8005550123", "extension": "42"}]
    top = sub["benefit_related_entities"]
    assert [(e["entity_identifier_code"], e["eligibility_or_benefit_information"]) for e in top] == [
        ("primary_payer", "other_or_additional_payor"),
        ("utilization_management_organization", "contact_following_entity_for_eligibility_or_benefit_information"),
        ("plan_sponsor", "contact_following_entity_for_eligibility_or_benefit_information")]
    assert sub["pharmacy"]["is_eligible"] is True and sub["pharmacy"]["plan_number"] == "S5820 003"
    assert sub["pharmacy"]["benefits_manager"]["url"] == "WWW.SUNRISERX.EXAMPLE"
    assert sub["pharmacy"]["copay"][0]["copayment"] == {"amount": "10", "currency": "USD"}


def test_271_dependent_loops_come_from_the_same_fragments():
    _, dep = stable(FIXTURES / "271-benefit-entities.x12")
    cov = dep["coverage"]
    assert cov["level"] == "dependents_only" and cov["active_coverage_references"] == {"group_number": "GRP55501"}
    (pcp,) = cov["primary_care_provider"][0]["benefit_related_entities"]
    assert pcp["entity_identifier_code"] == "primary_care_provider" and pcp["contacts"] == [{"phone": "2175550100"}]
    assert dep["benefit_related_entities"][0]["last_name"] == "WELBY"
    assert dep["pharmacy"] == {"is_eligible": False}


def test_271_entities_build_from_json_under_their_benefit():
    model = {"trading_partner_id": "ACMEHEALTH", "payer": {"name": "ACME", "id": "99999"},
             "provider": {"organization_name": "CLINIC", "npi": "1234567893"}, "subscriber": {"id": "M1"},
             "coverage": {"other_payers": [{"service_types": ["pharmacy"], "benefit_related_entities": [
                 {"entity_identifier_code": "secondary_payer", "organization_name": "SECOND PLAN",
                  "contacts": [{"phone": "8005550000"}]}]}]}}
    x12 = to_x12(model, transaction="271", settings=EnvelopeSettings(now=NOW))
    assert "NM1*SEP*2*SECOND PLAN~" in x12.replace("\n", "")
    got = to_models(x12.encode())["transactions"][0]["model"]
    assert got["coverage"]["other_payers"][0]["coordination_of_benefits"] == "secondary_payer"
    assert got["pharmacy"]["benefits_manager"] == {"name": "SECOND PLAN", "phone": "8005550000"}


def test_277_further_dependents_and_ncpdp_reject_codes():
    (m,) = stable(FIXTURES / "277-batch-dependents.x12")
    assert [c["tracking_id"] for c in m["patient"]["claims"]] == ["CLAIMTRACE01"]
    (adam,) = m["patient"]["additional_dependents"]
    assert adam["first_name"] == "ADAM" and adam["claims"][0]["tracking_id"] == "CLAIMTRACE02"
    (rx,) = m["providers"][0]["patients"][0]["claims"][0]["statuses"]
    assert (rx["status_code_value"], rx["status_code"], rx["code_list_qualifier"]) == ("75", None, "RX")


def test_277ca_unlisted_provider_qualifier_survives_a_rebuild_from_the_model():
    require_corpus()
    for name in ("X214-HN277_fail_1.edi", "X214-HN277_fail_3.edi"):
        path = CORPUS / "gh-kputnam-stupidedi-history" / name
        doc = to_models(path)
        for t in doc["transactions"]:
            assert not [u for u in t.get("unmapped") or [] if u["id"] == "NM1"]
            t.pop("unmapped", None)  # the model alone must carry every name loop
        text = to_x12(doc, check=False).replace("\n", "")
        original = path.read_text().replace("\r", "").replace("\n", "")
        nm1 = [s for s in original.split("~") if s.startswith("NM1*85")]
        assert nm1 and all(s in text.split("~") for s in nm1), name
        assert all(t["model"]["providers"][0]["other_identifiers"][0]["id_qualifier"] == "24" for t in doc["transactions"])


def test_corpus_276_277_read_with_nothing_unmapped_and_no_508_warning_for_ncpdp_codes():
    require_corpus()
    names = [p for p in CORPUS.glob("*/*") if p.suffix in (".276", ".277") or "HR276" in p.name or "HN277" in p.name]
    assert names
    ncpdp = 0
    for path in names:
        for t in read(path):
            if t["map"] == "276":
                assert not t.get("unmapped"), path.name
            if "ncpdp" in path.name and t["map"] == "277":
                ncpdp += 1
                assert not [f for f in t["findings"] if "claim_status" in f["message"]], path.name
    assert ncpdp


@st.composite
def batch(draw) -> dict:
    """A 276 with several claims, dependents, subscribers and providers."""
    first = draw(request())
    def more_claims():
        return draw(st.lists(claim_request(), min_size=1, max_size=2))
    if draw(st.booleans()):
        first["additional_claims"] = more_claims()
    if "subscriber" in first and draw(st.booleans()):
        first["additional_dependents"] = [{"patient": draw(person()), **draw(claim_request())}]
    patients = [{"patient": {**draw(person()), "id": draw(TEXT)}, **draw(claim_request())} for _ in range(draw(st.integers(0, 2)))]
    if patients:
        first["additional_patients"] = patients
    if draw(st.booleans()):
        first["additional_providers"] = [{**draw(provider()), "patients": [
            {"patient": {**draw(person()), "id": draw(TEXT)}, **draw(claim_request())}]}]
    return first


@st.composite
def claim_request(draw) -> dict:
    out = {"trace_number": draw(TEXT), "service_date": draw(st.dates(dt.date(2000, 1, 1), dt.date(2030, 1, 1))).isoformat()}
    if draw(st.booleans()):
        out["tracking_id"] = draw(TEXT)
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch())
def test_276_batch_round_trip(model):
    first, second = cycle(model, "276")
    assert contains(first, model)
    assert first == second

