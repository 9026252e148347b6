"""Code lists the guides name by reference (list:NAME): bundled, and checked by the validator.

Closed lists (states and provinces, countries, currencies: ``# missing_code: error``)
reject a code they lack with IK4 7; open lists (entity identifiers, CARC, RARC ...)
only warn, because the bundled copy can be older than the file.
"""
from __future__ import annotations

import re

from hypothesis import given, settings, strategies as st

from conftest import FIXTURES
from x12engine.codes import load_table
from x12engine.validate import validate

ROOT = FIXTURES.parent
# list names a guide uses for which no table is bundled, and why
UNBUNDLED = {"taxonomy": "the NUCC provider taxonomy (about 870 codes, revised twice a year) is not bundled"}

PAYMENT = (FIXTURES / "835-payment.x12").read_text()
CLAIMS = (FIXTURES / "837p-claims.x12").read_text()


def _errors(text: str) -> list:
    return validate(text.encode()).errors


def test_every_list_a_guide_names_is_bundled_or_listed():
    names = set()
    for path in (ROOT / "grammars").glob("*.x12g"):
        names.update(re.findall(r"\blist:([a-z_]+)", path.read_text()))
    for name in sorted(names - set(UNBUNDLED)):
        assert load_table(name).entries, name


def test_closed_and_open_lists_are_marked():
    for name in ("state", "country", "currency"):
        assert load_table(name).meta["missing_code"][0].startswith("error"), name
    for name in ("entity_identifier_codes", "carc", "rarc", "claim_status"):
        assert "missing_code" not in load_table(name).meta, name


def test_unknown_state_is_a_bad_code_at_n402():
    text = CLAIMS.replace("N4*SPRINGFIELD*IL*627030000", "N4*SPRINGFIELD*Q9*627030000", 1)
    f = next(f for f in _errors(text) if f.ref == "N4-02")
    assert (f.code, f.ik3, f.ik4, f.data_element, f.loop) == ("element_bad_code", "8", "7", "156", "2010BA")
    assert "'Q9'" in f.message


def test_canadian_province_and_foreign_country_are_valid():
    text = PAYMENT.replace("N4*CHICAGO*IL*606010000", "N4*TORONTO*ON*M5V2T6*CA", 1)
    assert not [f for f in _errors(text) if f.segment_id == "N4"]


def test_unknown_country_is_a_bad_code_at_n404():
    text = PAYMENT.replace("N4*CHICAGO*IL*606010000", "N4*CHICAGO*IL*606010000*QQ", 1)
    f = next(f for f in _errors(text) if f.ref == "N4-04")
    assert (f.code, f.ik4, f.data_element) == ("element_bad_code", "7", "26")


def test_unknown_currency_is_a_bad_code():
    trn = next(line for line in PAYMENT.splitlines() if line.startswith("TRN*"))
    text = PAYMENT.replace(trn, trn + "\nCUR*PR*USD~", 1).replace("SE*43*", "SE*44*", 1)
    assert validate(text.encode()).valid
    bad = [f for f in _errors(text.replace("CUR*PR*USD", "CUR*PR*USX")) if f.ref == "CUR-02"]
    assert [(f.code, f.ik4, f.position) for f in bad] == [("element_bad_code", "7", 4)]


def test_entity_code_missing_from_the_open_list_only_warns():
    text = (FIXTURES / "277-response.x12").read_text().replace("STC*A4:35:PR*", "STC*A4:35:ZZ9*", 1)
    found = [f for f in validate(text.encode()).findings if f.ref == "STC-01-3"]
    assert [(f.severity, f.code, f.ik4) for f in found] == [("warning", "code_not_in_bundled_list", None)]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(e.code for e in load_table("state").entries)),
       st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2))
def test_any_state_in_the_table_passes_and_any_other_fails(known, other):
    def n402(code: str) -> set[str]:
        text = CLAIMS.replace("N4*SPRINGFIELD*IL*627030000", f"N4*SPRINGFIELD*{code}*627030000", 1)
        return {f.code for f in _errors(text) if f.ref == "N4-02"}

    assert n402(known) == set()
    assert n402(other) == (set() if other in load_table("state") else {"element_bad_code"})
