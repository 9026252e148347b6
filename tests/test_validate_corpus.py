"""Validation over the public corpus: broken files are invalid, valid-looking ones valid or with named real defects."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import CORPUS, corpus_rows, require_corpus
from x12engine.errors import X12Error
from x12engine.validate import validate

DATA = Path(__file__).parent / "data"
ROWS = corpus_rows()
SUPPORTED = re.compile(r"005010X(212|214|217|221|222|223|224|231|279)")


def _exceptions() -> dict[str, set[str]]:
    out = {}
    for line in (DATA / "validate_corpus_exceptions.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            path, codes, _reason = line.split("\t")
            out[path] = set(codes.split(","))
    return out


def _rows(status: str) -> list[dict]:
    return [r for r in ROWS if r["status"] == status] or [{"path": "-"}]


# broken below the level of findings: not readable as X12 at all (the CLI exits 2)
UNREADABLE = {"pypi-badx12/tests_files_errors_bad_file.edi", "pypi-badx12/tests_files_errors_segment_terminator.edi"}


@pytest.mark.parametrize("row", _rows("intentionally-broken"), ids=lambda r: r["path"])
def test_broken_files_are_invalid(row):
    require_corpus()
    if row["path"] in UNREADABLE:
        with pytest.raises(X12Error):
            validate(CORPUS / row["path"])
        return
    result = validate(CORPUS / row["path"])
    assert result.errors, row["notes"]


@pytest.mark.parametrize("row", _rows("valid-looking"), ids=lambda r: r["path"])
def test_valid_looking_files_are_valid_or_have_named_defects(row):
    require_corpus()
    if not SUPPORTED.search(row["implementation_guide"]) and row["implementation_guide"] != "005010":
        pytest.skip("guide not supported")
    got = {f.code for f in validate(CORPUS / row["path"]).errors}
    assert got == _exceptions().get(row["path"], set())


# stupidedi fail fixtures: preamble note -> (finding codes that report it, reference or segment id)
def _ref(name: str) -> str:
    m = re.match(r"^([A-Z][A-Z0-9]{1,2}?)(\d{2})(\d{2})?$", name)
    assert m, name
    return f"{m.group(1)}-{int(m.group(2)):02d}" + (f"-{int(m.group(3))}" if m.group(3) else "")


_PLACEMENT = {"segment_unexpected", "segment_out_of_order", "segment_not_in_set", "segment_unrecognized"}
EXPECTATIONS = [
    (r"H11204:Code Value '[^']*' not used for element '(\w+)'",
     lambda m: ({"envelope_element", "element_bad_code", "element_too_long", "element_too_short"} | _PLACEMENT, _ref(m.group(1)))),
    (r"H10203:Functional Group ID", lambda m: ({"gs01_mismatch"}, None)),
    (r"H24402:", lambda m: ({"npi_check_digit"}, None)),
    (r"H10913:", lambda m: ({"se02_control"}, None)),
    (r"H20203:Element (\w+) is present", lambda m: ({"element_not_used"}, _ref(m.group(1)))),
    (r"H10005:Value '[^']*' is too short for '(\w+)'", lambda m: ({"element_too_short"} | _PLACEMENT, _ref(m.group(1)))),
    (r"H11402:", lambda m: ({"hl_child_flag"}, None)),
    (r"H10046:Syntax error", lambda m: ({"syntax_rule", "element_missing", "element_too_long"}, None)),
    (r"H24391:Missing HIPAA Required '(\w+)'", lambda m: ({"element_missing"} | _PLACEMENT, _ref(m.group(1)))),
    (r"H10023:Unexpected segment \((\w+)\)", lambda m: (_PLACEMENT, m.group(1))),
]


def _skipped() -> list[tuple[str, str, str]]:
    out = []
    for line in (DATA / "validate_stupidedi_disagreements.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            out.append(tuple(line.split("\t")))
    return out


@pytest.mark.parametrize("row", [r for r in ROWS if "stupidedi fail fixture" in r["notes"]] or [{"path": "-"}],
                         ids=lambda r: r["path"])
def test_stupidedi_fail_files_report_the_listed_defects(row):
    require_corpus()
    errors = validate(CORPUS / row["path"]).errors
    skipped = [(p, note) for p, note, _ in _skipped() if p in (row["path"], "*")]
    for pattern, expect in EXPECTATIONS:
        for m in re.finditer(pattern, row["notes"]):
            if any(note in m.group(0) for _, note in skipped):
                continue
            codes, ref = expect(m)
            assert any(f.code in codes and (ref is None or ref in (f.ref, f.segment_id)
                                            or f.code in _PLACEMENT and ref.split("-")[0] == f.segment_id)
                       for f in errors), m.group(0)
