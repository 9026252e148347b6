"""Validation: envelope, structure, elements, guide rules, PHI, the CLI (hand-written X12)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, isa
from x12engine.cli import main
from x12engine.validate import validate
from x12engine.vrules import npi_ok

DATA = Path(__file__).parent / "data"


def _fixture_defects() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for line in (DATA / "validate_fixture_defects.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            name, codes, _reason = line.split("\t")
            out[name] = set(codes.split(","))
    return out


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.x12")), ids=lambda p: p.name)
def test_fixtures_validate_or_have_their_named_defects(path):
    expected = _fixture_defects().get(path.name, set())
    got = {f.code for f in validate(path).errors}
    assert got == expected


def _claim(clm02="150", lines=(("100", "1"), ("50", "2")), sbr02="18", npi="1234567893", hi="HI*ABK:J20.9*ABF:R05", lx=None,
           patient=False) -> bytes:
    """A small 837P: one claim under the subscriber (or under a patient level)."""
    segs = [
        "ST*837*0001*005010X222A1", "BHT*0019*00*REF1*20240101*1200*CH",
        "NM1*41*2*SUBMITTER*****46*S1", "PER*IC*CONTACT*TE*5555551212",
        "NM1*40*2*RECEIVER*****46*R1",
        "HL*1**20*1", "NM1*85*2*BILLING*****XX*" + npi, "N3*1 MAIN ST", "N4*CITY*NY*100011234", "REF*EI*123456789",
        f"HL*2*1*22*{1 if patient else 0}", f"SBR*P*{sbr02}*******CI", "NM1*IL*1*DOE*JOHN****MI*M123",
        "NM1*PR*2*PAYER*****PI*P1",
    ]
    if patient:
        segs += ["HL*3*2*23*0", "PAT*19", "NM1*QC*1*DOE*JANE", "N3*1 MAIN ST", "N4*CITY*NY*10001", "DMG*D8*20100101*F"]
    segs += [f"CLM*PCN1*{clm02}***11:B:1*Y*A*Y*Y", hi]
    for n, (amount, ptr) in enumerate(lines, 1):
        segs += [f"LX*{lx[n - 1] if lx else n}", f"SV1*HC:99213*{amount}*UN*1***{ptr}", "DTP*472*D8*20240101"]
    segs.append(f"SE*{len(segs) + 1}*0001")
    body = "~".join(["GS*HC*SENDER*RECEIVER*20240101*1200*1*X*005010X222A1", *segs, "GE*1*1", "IEA*1*000000001"]) + "~"
    return (isa() + body).encode()


def codes(data: bytes) -> list[tuple[str, str | None, int | None]]:
    return [(f.code, f.ref, f.position) for f in validate(data).errors]


def test_clean_claim_is_valid():
    assert codes(_claim()) == []


def test_claim_total_must_equal_the_line_charges():
    assert ("claim_total", "CLM-02", 15) in codes(_claim(clm02="151"))


def test_diagnosis_pointer_beyond_the_hi_codes():
    found = codes(_claim(lines=(("100", "1"), ("50", "3"))))
    assert ("diagnosis_pointer", "SV1-07-1", 21) in found


def test_npi_check_digit():
    assert npi_ok("1234567893") and not npi_ok("1234567890") and not npi_ok("123456789")
    assert ("npi_check_digit", "NM1-09", 7) in codes(_claim(npi="1234567890"))


def test_self_subscriber_cannot_have_a_patient_level():
    found = codes(_claim(patient=True))
    assert ("patient_loop_for_self", "HL", 15) in found
    assert codes(_claim(patient=True, sbr02="")) == []


def test_service_lines_numbered_in_sequence():
    assert ("lx_sequence", "LX-01", 20) in codes(_claim(lx=("1", "3")))


def _swap(data: bytes, old: str, new: str) -> bytes:
    text = data.decode()
    assert old in text
    return text.replace(old, new, 1).encode()


def test_envelope_counts_and_control_numbers():
    base = _claim()
    found = {f.code: f for f in validate(_swap(base, "SE*23*0001", "SE*22*0002")).errors}
    assert found["se01_count"].ik5 == "4" and found["se02_control"].ik5 == "3"
    found = {f.code: f for f in validate(_swap(_swap(base, "GE*1*1", "GE*2*9"), "IEA*1*000000001", "IEA*2*000000002")).errors}
    assert found["ge01_count"].ak9 == "5" and found["ge02_control"].ak9 == "4"
    assert found["iea01_count"].ta1 == "021" and found["iea02_control"].ta1 == "001"


def test_element_errors_carry_999_codes_and_position():
    bad = _swap(_claim(), "DTP*472*D8*20240101", "DTP*472*D8*20240231")  # no such day
    f = next(f for f in validate(bad).errors if f.code == "element_bad_date")
    assert (f.ref, f.position, f.ik3, f.ik4, f.loop, f.data_element) == ("DTP-03", 19, "8", "8", "2400", "1251")
    long_id = _swap(_claim(), "REF*EI*123456789", "REF*EI*" + "9" * 51)
    f = next(f for f in validate(long_id).errors if f.code == "element_too_long")
    assert (f.ref, f.ik4) == ("REF-02", "5")


def test_required_segment_missing_and_not_used_element():
    no_n4 = _swap(_claim(), "N4*CITY*NY*100011234~", "")
    f = next(f for f in validate(no_n4).errors if f.code == "segment_missing")
    assert (f.segment_id, f.ik3, f.loop) == ("N4", "3", "2010AA")
    not_used = _swap(_claim(), "NM1*41*2*SUBMITTER*****46*S1", "NM1*41*2*SUBMITTER****X*46*S1")
    f = next(f for f in validate(not_used).errors if f.code == "element_not_used")
    assert (f.ref, f.ik4) == ("NM1-07", "I10")


def test_syntax_rule_paired_elements():
    bad = _swap(_claim(), "NM1*PR*2*PAYER*****PI*P1", "NM1*PR*2*PAYER*****PI")
    found = validate(bad).errors
    assert any(f.code == "syntax_rule" and f.ref == "NM1-09" and f.ik4 == "2" for f in found) or \
        any(f.code == "element_missing" and f.ref == "NM1-09" for f in found)


def test_hl_parent_must_exist():
    bad = _swap(_claim(), "HL*2*1*22*0", "HL*2*7*22*0")
    assert any(f.code == "hl_parent_unknown" for f in validate(bad).errors)


def test_findings_never_show_phi_unless_asked():
    bad = _swap(_claim(), "NM1*IL*1*DOE*JOHN****MI*M123", "NM1*IL*1*" + "SECRETNAME" * 7 + "*JOHN****MI*M123")
    result = validate(bad)
    assert result.errors
    assert all("SECRETNAME" not in f.text() and f.value is None for f in result.findings)
    shown = validate(bad, show_values=True)
    assert any(f.value and "SECRETNAME" in f.value for f in shown.findings)


def test_cli_exit_codes_and_json(tmp_path):
    runner = CliRunner()
    good = tmp_path / "good.x12"
    good.write_bytes(_claim())
    bad = tmp_path / "bad.x12"
    bad.write_bytes(_claim(clm02="1"))
    junk = tmp_path / "junk.x12"
    junk.write_text("hello")
    assert runner.invoke(main, ["validate", str(good)]).exit_code == 0
    res = runner.invoke(main, ["validate", str(good), str(bad), "--format", "json"])
    assert res.exit_code == 1
    data = json.loads(res.output)
    assert {"severity", "code", "message", "file", "line", "position", "ref"} <= set(data[0])
    assert runner.invoke(main, ["validate", str(bad)]).output.count("claim_total") == 1
    assert runner.invoke(main, ["validate", str(good), str(junk)]).exit_code == 2


def test_billing_provider_zip_must_have_nine_digits_for_us_addresses():
    five = _swap(_claim(), "N4*CITY*NY*100011234", "N4*CITY*NY*10001")
    f = next(f for f in validate(five).errors if f.code == "zip_not_nine_digits")
    assert (f.ref, f.position, f.loop, f.ik3, f.ik4, f.data_element) == ("N4-03", 9, "2010AA", "8", "I12", "116")
    assert "10001" not in f.text()  # an address is PHI
    us = _swap(_claim(), "N4*CITY*NY*100011234", "N4*CITY*NY*10001*US")
    assert "zip_not_nine_digits" in {f.code for f in validate(us).errors}
    foreign = _swap(_claim(), "N4*CITY*NY*100011234", "N4*TORONTO**M5V2T6*CA")
    assert "zip_not_nine_digits" not in {f.code for f in validate(foreign).errors}


def test_a_forced_grammar_is_the_one_validated_against(tmp_path):
    """validate(guide=...) checks with the grammar the parser read the set with, not a
    bundled one that shares its guide id (nor skips the set when the id is new)."""
    from x12engine.resources import grammars_dir

    src = (grammars_dir() / "837p.x12g").read_text()
    assert 'BHT02 R [00 18]' in src
    narrowed = tmp_path / "837p-narrow.x12g"
    narrowed.write_text(src.replace('BHT02 R [00 18]', 'BHT02 R [99]', 1))
    renamed = tmp_path / "837p-renamed.x12g"
    renamed.write_text(src.replace('BHT02 R [00 18]', 'BHT02 R [99]', 1).replace("005010X222A1", "005010X999Z9"))
    fixture = FIXTURES / "837p-claims.x12"
    assert validate(fixture).valid
    for grammar in (narrowed, renamed):
        found = [f for f in validate(fixture, guide=grammar).findings if f.severity == "error"]
        assert any(f.segment_id == "BHT" and f.element == 2 for f in found), grammar.name
