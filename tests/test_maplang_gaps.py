"""Engine pieces added for the eligibility / claim status gaps: `use … with` loop renames,
`at … own`, `as described` with a code list qualifier, and the 271 derivations."""
from __future__ import annotations

from pathlib import Path

import pytest

from x12engine.derivations import entity_name, payer_role, pharmacy_benefits, related_entities
from x12engine.mapcatalog import compile_map
from x12engine.maplang import Block, MapError, parse_map
from x12engine.transforms import ReadIssue, make

HEADER = 'map t "t"\ntransaction 271\nguide 005010X279A1\n# GS01 comes from the grammar\nmodel T "t"\nplatform client_id\n'


def _paths(body: list, out: list) -> list:
    for stmt in body:
        if isinstance(stmt, Block):
            if stmt.path:
                out.append("/".join(s.loop for s in stmt.path))
            _paths(stmt.body, out)
    return out


def write_map(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "t.x12m"
    path.write_text(HEADER + body)
    return path


def test_use_with_renames_loop_ids_in_a_copy(tmp_path):
    path = write_map(tmp_path, """
fragment benefits {
    list items at 2110C [EB01=A] {
        amount = EB07
        list entities at 2120C {
            name = NM103
        }
    }
}
at 2000A/2000B/2000C/2100C {
    use benefits
}
at 2000A/2000B/2000C/2000D/2100D {
    use benefits with 2110C=2110D, 2120C=2120D
}
""")
    m = parse_map(path)
    assert _paths(m.body, []) == ["2000A/2000B/2000C/2100C", "2110C", "2120C",
                                  "2000A/2000B/2000C/2000D/2100D", "2110D", "2120D"]
    sub, dep = m.body[0].body[0], m.body[1].body[0]
    assert sub is not dep and sub.path[0].conds == dep.path[0].conds  # conditions kept
    compile_map(path)  # the renamed paths exist in the guide


def test_use_with_a_loop_the_guide_lacks_fails_naming_the_line(tmp_path):
    path = write_map(tmp_path, """
fragment f {
    list items at 2110C {
        amount = EB07
    }
}
at 2000A/2000B/2000C/2100C {
    use f with 2110C=2110Q
}
""")
    with pytest.raises(MapError) as err:
        compile_map(path)
    assert "2110Q" in str(err.value) and "t.x12m" in str(err.value)


def test_at_own_claims_its_loop_so_a_list_gets_the_rest(tmp_path):
    from x12engine import to_models, to_x12
    from x12engine.assemble import EnvelopeSettings  # noqa: F401  (to_x12's settings type)

    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "270-inquiry.x12"
    first, second = (t["model"] for t in to_models(fixture)["transactions"])
    # first EQ (30^98) is top-level; the second EQ loop (HC:99213 + III) is the list's only item
    assert first["service_types"] == ["health_benefit_plan_coverage", "professional_physician_visit_office"]
    assert first["additional_inquiries"] == [{"procedure_id_qualifier": "hcpcs", "procedure_id": "99213",
                                              "place_of_service": "office"}]
    assert "service_types" not in second  # EQ*30 is the default
    assert second["additional_inquiries"] == [{"service_types": ["mental_health"]}]
    # building writes one loop per inquiry, first the own block's
    x12 = to_x12({**first, "trading_partner_id": "ACMEHEALTH"}, transaction="270")
    eqs = [s for s in x12.replace("\n", "").split("~") if s.startswith("EQ")]
    assert eqs == ["EQ*30^98", "EQ**HC:99213"]


def test_described_with_a_qualifier_keeps_codes_of_another_list_without_a_description():
    fn = make("described", ("claim_status", None))
    assert fn.read("75", ["RX"]) == ("75", None)  # an NCPDP reject code: no 508 lookup, no issue
    assert fn.read("35", [""]) == ("35", "Claim/encounter not found.")
    with pytest.raises(ReadIssue):
        fn.read("Q9", [""])
    assert fn.write(("75", None), 0) == ("75", [])


ENTITY = {"entity_identifier_code": "primary_payer", "organization_name": "SUNRISE RX PLAN",
          "contacts": [{"phone": "8005550199", "url": "WWW.X.EXAMPLE"}]}


def test_related_entities_copy_each_entity_with_its_benefit():
    coverage = {"level": "family", "service_type_codes": ["30"], "service_types": ["health_benefit_plan_coverage"],
                "benefit_related_entities": [{"entity_identifier_code": "plan_sponsor"}],
                "other_payers": [{"coverage_level": "individual", "service_type_codes": ["88"], "service_types": ["pharmacy"],
                                  "benefit_related_entities": [ENTITY]}],
                "benefits": [{"benefit": "managed_care_coordinator", "benefit_related_entities": [{"last_name": "X"}]}]}
    got = related_entities(coverage)
    assert [e["eligibility_or_benefit_information"] for e in got] == [
        "active_coverage", "other_or_additional_payor", "managed_care_coordinator"]
    assert got[0]["coverage_level"] == "family" and got[1]["service_type_codes"] == ["88"]
    assert "eligibility_or_benefit_information" not in coverage["other_payers"][0]["benefit_related_entities"][0]
    assert related_entities({}) is None and related_entities(None) is None


def test_other_payer_name_and_role():
    assert entity_name([{"entity_identifier_code": "plan_sponsor", "organization_name": "A"}, ENTITY]) == "SUNRISE RX PLAN"
    assert payer_role([ENTITY]) == "primary_payer"
    assert entity_name([{"first_name": "ANN", "last_name": "LEE"}]) == "ANN LEE"
    assert payer_role([{"entity_identifier_code": "payer"}]) is None and entity_name(None) is None


def test_pharmacy_from_active_coverage_or_other_payer():
    assert pharmacy_benefits(None) == {"is_eligible": False}
    assert pharmacy_benefits({"level": "individual", "service_type_codes": ["30"]}) == {"is_eligible": False}
    inactive = {"benefits": [{"benefit": "inactive", "service_type_codes": ["88"]}]}
    assert pharmacy_benefits(inactive) == {"is_eligible": False}
    got = pharmacy_benefits({
        "level": "individual", "service_type_codes": ["30", "88"], "active_coverage_references": {"plan_number": "P1"},
        "other_payers": [{"service_type_codes": ["88"], "plan_number": "S5820 003", "plan_description": "PART D",
                          "benefit_related_entities": [ENTITY]}],
        "copay": [{"service_type_codes": ["88"], "service_types": ["pharmacy"], "copayment": {"amount": "10", "currency": "USD"},
                   "messages": [{"message": "TIER 1"}]},
                  {"service_type_codes": ["98"], "copayment": {"amount": "25", "currency": "USD"}}]})
    assert got == {"is_eligible": True, "plan_number": "S5820 003",
                   "benefits_manager": {"name": "SUNRISE RX PLAN", "phone": "8005550199", "url": "WWW.X.EXAMPLE",
                                        "coverage_description": "PART D"},
                   "copay": [{"copayment": {"amount": "10", "currency": "USD"}, "type": ["pharmacy"], "notes": "TIER 1"}]}
    only_active = pharmacy_benefits({"level": "individual", "service_type_codes": ["88"],
                                     "active_coverage_references": {"plan_number": "P1"}})
    assert only_active == {"is_eligible": True, "plan_number": "P1"}
