"""Every valid-looking corpus file of a supported guide places every segment.

The exceptions are files with defects of their own, each named with its reason;
the test fails if one of them starts placing (so the list cannot go stale).
"""
from __future__ import annotations

import pytest

from x12engine import parse

from conftest import CORPUS, corpus_rows, require_corpus

# path -> (unplaced segments, why the file is at fault)
KNOWN_DEFECTS = {
    **{
        f"gh-LinuxForHealth-x12/src_tests_resources_837_005010X222A2_demo.{n}.837": (1, "ISA16 declares ':' but HI composites use '>'")
        for n in ("cob.2ndary.example4", "example9", "example11", "example12")
    },
    "gh-LinuxForHealth-x12/src_tests_resources_837_005010X222A2_demo.cob.example4.837": (1, "AMT*F2 in 2320 is a 4010 code, not in X222A1"),
    "gh-LinuxForHealth-x12/src_tests_resources_837_005010X223A3_out-of-network-repriced-claim.837i": (1, "ISA16 declares ':' but composites use '>'"),
    "gh-LinuxForHealth-x12/src_tests_resources_837_005010X223A3_ppo-repriced-claim.837i": (3, "ISA16 declares ':' but composites use '>'"),
    "gh-xlate-staedi/x12_sample837-HL-nested.edi": (2, "skeleton file: bare HL segments with no HL03 and no guide id"),
}

SUPPORTED = ("270", "271", "276", "277", "278", "835", "837", "999")
ROWS = [r for r in corpus_rows() if r["status"] == "valid-looking" and r["transaction_set"].split(",")[0] in SUPPORTED]


@pytest.mark.parametrize("row", ROWS, ids=[r["path"] for r in ROWS])
def test_valid_corpus_file_places_every_segment(row):
    require_corpus()
    doc = parse(CORPUS / row["path"])
    unplaced = [f for f in doc.findings if f.code == "unexpected_segment"]
    assert not [f for f in doc.findings if f.code == "no_grammar"]
    expected = KNOWN_DEFECTS.get(row["path"], (0, ""))[0]
    assert len(unplaced) == expected, [str(f) for f in unplaced]


def test_corpus_placement_covers_every_transaction_family():
    require_corpus()
    families = {r["transaction_set"].split(",")[0] for r in ROWS}
    assert set(SUPPORTED) <= families
